#ifndef QUARRY_WORKER_EXEC_EXEC_LIMITS_H_
#define QUARRY_WORKER_EXEC_EXEC_LIMITS_H_

// The exec kind's resource limits (settings memory, cpu_time and
// max_output): read from an assignment, set on a ProcessSpec, and named in
// the error of a run that ended badly under them. Pure functions,
// thread-safe.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "google/protobuf/map.h"
#include "worker/exec/process_runner.h"

namespace quarry::worker {

struct ExecLimits {
  std::optional<int64_t> memory_bytes;      // settings.memory
  std::optional<absl::Duration> cpu_time;   // settings.cpu_time
  std::optional<int64_t> max_output_bytes;  // settings.max_output

  bool any() const { return memory_bytes || cpu_time || max_output_bytes; }
  // "memory 512M, cpu_time 10m, max_output 1G" (those set), for logs.
  std::string ToString() const;
};

// The limits of validated settings (common/job_kinds.h); absent ones unset.
ExecLimits ExecLimitsFromSettings(
    const google::protobuf::Map<std::string, std::string>& settings);

// Sets spec's memory_bytes (RLIMIT_AS), cpu_seconds (RLIMIT_CPU: cpu_time
// rounded up to whole seconds) and file_bytes (RLIMIT_FSIZE: max_output),
// and also max_stdout_bytes (max_output) when `stdout_is_output`.
void ApplyExecLimits(const ExecLimits& limits, bool stdout_is_output,
                     ProcessSpec* spec);

// The error of a run that did not exit 0, naming the limit that explains
// its end, then ": <last stderr lines>" as in ProcessResult::Describe:
//   killed by SIGXCPU, or SIGKILL after using cpu_time (a caught SIGXCPU):
//     "cpu_time limit of 10m exceeded (killed by SIGXCPU)"
//   killed by SIGXFSZ:  "max_output limit of 1G exceeded (killed by SIGXFSZ)"
//   stopped for stdout: "max_output limit of 1G exceeded (stdout; killed by
//                        SIGTERM)"
//   exit status 152 or 153 (128 + SIGXCPU or SIGXFSZ: how a shell reports a
//   command those killed) with that limit set: "cpu_time limit of 10m
//   exceeded (exit status 152: a process killed by SIGXCPU)"
//   killed by SIGKILL, SIGSEGV, SIGBUS or SIGABRT with memory set (failed
//   allocations often end so): "killed by SIGSEGV (memory limit 512M was
//   set)"
//   another exit status with memory or max_output set (a failed allocation
//   or write): "exit status 1 (memory limit 512M and max_output limit 1G
//   were set)"
// Otherwise (no limit explains it) result.Describe().
std::string DescribeExecFailure(const ProcessResult& result,
                                const ExecLimits& limits);

// RunProcess's error for a program that could not start: with a memory
// limit, a RESOURCE_EXHAUSTED one (execve's ENOMEM) gets "(memory limit
// 16M was set)" appended. Others are returned as they are.
absl::Status DescribeExecStartError(const absl::Status& error,
                                    const ExecLimits& limits);

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_EXEC_EXEC_LIMITS_H_

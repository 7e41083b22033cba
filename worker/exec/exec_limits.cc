#include "worker/exec/exec_limits.h"

#include <signal.h>
#include <sys/wait.h>

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/job_kinds.h"
#include "worker/exec/process_internal.h"

namespace quarry::worker {
namespace {

// cpu_time as RLIMIT_CPU takes it: whole seconds, rounded up.
rlim_t CpuSeconds(absl::Duration cpu_time) {
  return static_cast<rlim_t>(
      absl::ToInt64Seconds(absl::Ceil(cpu_time, absl::Seconds(1))));
}

std::string Exceeded(absl::string_view name, absl::string_view limit,
                     absl::string_view why) {
  return absl::StrCat(name, " limit of ", limit, " exceeded (", why, ")");
}

}  // namespace

std::string ExecLimits::ToString() const {
  std::vector<std::string> parts;
  if (memory_bytes) {
    parts.push_back(absl::StrCat("memory ", FormatByteSize(*memory_bytes)));
  }
  if (cpu_time) {
    parts.push_back(absl::StrCat("cpu_time ", absl::FormatDuration(*cpu_time)));
  }
  if (max_output_bytes) {
    parts.push_back(
        absl::StrCat("max_output ", FormatByteSize(*max_output_bytes)));
  }
  return absl::StrJoin(parts, ", ");
}

ExecLimits ExecLimitsFromSettings(
    const google::protobuf::Map<std::string, std::string>& settings) {
  ExecLimits limits;
  if (settings.count("memory") > 0) {
    limits.memory_bytes = BytesSetting(settings, "memory", 0);
  }
  if (settings.count("cpu_time") > 0) {
    limits.cpu_time =
        DurationSetting(settings, "cpu_time", absl::ZeroDuration());
  }
  if (settings.count("max_output") > 0) {
    limits.max_output_bytes = BytesSetting(settings, "max_output", 0);
  }
  return limits;
}

void ApplyExecLimits(const ExecLimits& limits, bool stdout_is_output,
                     ProcessSpec* spec) {
  if (limits.memory_bytes) spec->memory_bytes = *limits.memory_bytes;
  if (limits.cpu_time) spec->cpu_seconds = CpuSeconds(*limits.cpu_time);
  if (limits.max_output_bytes) {
    spec->file_bytes = *limits.max_output_bytes;
    if (stdout_is_output) spec->max_stdout_bytes = *limits.max_output_bytes;
  }
}

std::string DescribeExecFailure(const ProcessResult& result,
                                const ExecLimits& limits) {
  if (result.exited_ok()) return "";
  const std::string how = exec_internal::DescribeWaitStatus(result.wait_status);
  const std::string cpu =
      limits.cpu_time ? absl::FormatDuration(*limits.cpu_time) : "";
  const std::string output =
      limits.max_output_bytes ? FormatByteSize(*limits.max_output_bytes) : "";
  const std::string memory =
      limits.memory_bytes ? FormatByteSize(*limits.memory_bytes) : "";
  std::string what;
  if (result.stdout_limit_exceeded && limits.max_output_bytes) {
    what = Exceeded("max_output", output, absl::StrCat("stdout; ", how));
  } else if (WIFSIGNALED(result.wait_status)) {
    const int signal = WTERMSIG(result.wait_status);
    if (limits.cpu_time &&
        (signal == SIGXCPU ||
         (signal == SIGKILL &&
          result.cpu_time >= absl::Seconds(CpuSeconds(*limits.cpu_time))))) {
      what = Exceeded("cpu_time", cpu, how);
    } else if (limits.max_output_bytes && signal == SIGXFSZ) {
      what = Exceeded("max_output", output, how);
    } else if (limits.memory_bytes && (signal == SIGKILL || signal == SIGSEGV ||
                                       signal == SIGBUS || signal == SIGABRT)) {
      what = absl::StrCat(how, " (memory limit ", memory, " was set)");
    }
  } else if (WIFEXITED(result.wait_status)) {
    const int status = WEXITSTATUS(result.wait_status);
    if (limits.cpu_time && status == 128 + SIGXCPU) {
      what = Exceeded("cpu_time", cpu,
                      absl::StrCat(how, ": a process killed by SIGXCPU"));
    } else if (limits.max_output_bytes && status == 128 + SIGXFSZ) {
      what = Exceeded("max_output", output,
                      absl::StrCat(how, ": a process killed by SIGXFSZ"));
    } else if (limits.memory_bytes && limits.max_output_bytes) {
      what = absl::StrCat(how, " (memory limit ", memory,
                          " and max_output limit ", output, " were set)");
    } else if (limits.memory_bytes) {
      what = absl::StrCat(how, " (memory limit ", memory, " was set)");
    } else if (limits.max_output_bytes) {
      what = absl::StrCat(how, " (max_output limit ", output, " was set)");
    }
  }
  if (what.empty()) return result.Describe();
  return absl::StrCat(what, result.StderrSuffix());
}

absl::Status DescribeExecStartError(const absl::Status& error,
                                    const ExecLimits& limits) {
  if (!limits.memory_bytes || !absl::IsResourceExhausted(error)) return error;
  return absl::Status(
      error.code(),
      absl::StrCat(error.message(), " (memory limit ",
                   FormatByteSize(*limits.memory_bytes), " was set)"));
}

}  // namespace quarry::worker

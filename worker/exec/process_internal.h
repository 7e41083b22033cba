#ifndef QUARRY_WORKER_EXEC_PROCESS_INTERNAL_H_
#define QUARRY_WORKER_EXEC_PROCESS_INTERNAL_H_

// Internal to process_runner.cc: the pure parts of RunProcess (checking a
// spec, its limits, the execve candidates, error and status texts, stderr's
// lines and tail, ProcessResult's methods), apart so they stay small and
// testable. Stateless functions are thread-safe; a StderrSink belongs to one
// RunProcess call.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "worker/exec/process_runner.h"
#include "worker/exec/process_shim.h"

namespace quarry::worker::exec_internal {

inline constexpr size_t kStderrTailBytes = 2048;
inline constexpr size_t kMaxStderrLineBytes = 4096;
inline constexpr absl::Duration kMaxKillGrace = absl::Hours(1);
// What ProcessResult::Describe keeps of stderr.
inline constexpr size_t kDescribeLines = 3;
inline constexpr size_t kDescribeBytes = 500;

// `text` in double quotes, with C escapes.
std::string Quoted(absl::string_view text);

// OK, or INVALID_ARGUMENT naming the field that cannot be run as is.
absl::Status ValidateSpec(const ProcessSpec& spec);

// The paths to try with execve, in order: argv[0] itself when it holds a
// '/', else argv[0] under each directory of the PATH in spec.env ("/bin:
// /usr/bin" without one; an empty directory is "."). Sets *path_searched to
// that PATH, or "" for a path.
std::vector<std::string> ExecPaths(const ProcessSpec& spec,
                                   std::string* path_searched);

// Pointers to the strings' characters, then nullptr (for execve).
std::vector<char*> CStrings(const std::vector<std::string>& strings);

// The limits to set in the program, in this order: memory_bytes
// (RLIMIT_AS), cpu_seconds (RLIMIT_CPU, hard limit one second more),
// file_bytes (RLIMIT_FSIZE); each lowered to the worker's hard limit of
// that resource (read with getrlimit) where that is lower.
std::vector<ChildLimit> ChildLimits(const ProcessSpec& spec);

// The failed step (StartStage) as said in "cannot start ...: <step>: ...";
// `detail` as in ShimReport.
std::string StageText(int32_t stage, int32_t detail, const ProcessSpec& spec,
                      const std::string& path_searched);

// "exit status 3", "killed by SIGSEGV", or "wait status N".
std::string DescribeWaitStatus(int status);

// The last `max_lines` lines of `text` without trailing whitespace, cut to
// its last `max_bytes`.
absl::string_view LastLines(absl::string_view text, size_t max_lines,
                            size_t max_bytes);

// Splits stderr into lines for a callback (without '\n'; lines longer than
// kMaxStderrLineBytes in pieces) and keeps its last kStderrTailBytes. Owned
// and called by one RunProcess call (its thread).
class StderrSink {
 public:
  explicit StderrSink(absl::FunctionRef<void(absl::string_view)> on_line)
      : on_line_(on_line) {}

  void Append(absl::string_view data);
  // Passes on a last line without '\n'.
  void Finish();
  // The last kStderrTailBytes, from a line start when one is in them.
  std::string Tail() const;

 private:
  const absl::FunctionRef<void(absl::string_view)> on_line_;
  std::string tail_;     // At most 2 * kStderrTailBytes.
  std::string partial_;  // A line not yet ended.
};

}  // namespace quarry::worker::exec_internal

#endif  // QUARRY_WORKER_EXEC_PROCESS_INTERNAL_H_

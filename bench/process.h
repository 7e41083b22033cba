#ifndef QUARRY_BENCH_PROCESS_H_
#define QUARRY_BENCH_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace quarry::bench {

// A child process of the benchmark driver (a leader or a worker), with
// stdout and stderr appended to a log file. The child gets SIGKILL if the
// driver dies (PR_SET_PDEATHSIG), and every live child is recorded in a
// process-wide table so that InstallCleanupHandlers() can stop them when
// the driver is interrupted. The destructor stops it (SIGTERM, then SIGKILL).
// Not thread-safe: owned and used by the driver's main thread.
class ChildProcess {
 public:
  ChildProcess() = default;  // Not running.
  static absl::StatusOr<ChildProcess> Start(const std::vector<std::string>& argv,
                                            const std::string& log_path);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Waits up to `timeout` for the exit; returns the exit code (128+signal
  // when killed by a signal), or DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code.
  int Stop(absl::Duration grace);

 private:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// On SIGINT, SIGTERM or SIGHUP: SIGTERM every live child, wait briefly,
// SIGKILL what is left, and exit with 128+signal. Call once from main().
void InstallCleanupHandlers();

// Runs argv to completion with stdout written to `stdout_path` (stderr to
// /dev/null), bounded by `timeout`. Returns the exit code.
absl::StatusOr<int> RunToFile(const std::vector<std::string>& argv,
                              const std::string& stdout_path,
                              absl::Duration timeout);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_PROCESS_H_

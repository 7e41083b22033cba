#ifndef QUARRY_TESTS_TESTING_SUBPROCESS_H_
#define QUARRY_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

// Starting and stopping the real leader, worker and CLI processes of
// integration tests and benchmarks.

namespace quarry::testing {

// A child process started from argv, with stdout appended to `log_path`
// and stderr to `stderr_path` (empty: the same log). The child gets SIGKILL
// if its parent dies, and every live child is recorded so that
// InstallCleanupHandlers() can stop them on an interrupt. The destructor
// kills it (SIGKILL) if it still runs. Not thread-safe; owned by one thread.
class Subprocess {
 public:
  Subprocess() = default;  // Not running.
  static absl::StatusOr<Subprocess> Start(const std::vector<std::string>& argv,
                                          const std::string& log_path,
                                          const std::string& stderr_path = "");
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  ~Subprocess();

  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  // Sends `signal` (no wait).
  void Signal(int signal);
  // Waits up to `timeout` for the exit; returns the exit code (128+signal
  // when killed by a signal), or DEADLINE_EXCEEDED.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit code.
  int Stop(absl::Duration grace = absl::Seconds(5));

 private:
  explicit Subprocess(pid_t pid) : pid_(pid) {}
  pid_t pid_ = -1;
};

// On SIGINT, SIGTERM or SIGHUP: SIGTERM every live Subprocess, give them up
// to 3 s, SIGKILL what is left, and exit with 128+signal. For programs that
// own their children (the benchmark driver); call once from main().
void InstallCleanupHandlers();

// Runs argv to completion (bounded by `timeout`), capturing stdout and
// stderr (merged) into *output. Returns the exit code.
absl::StatusOr<int> RunCommand(const std::vector<std::string>& argv,
                               std::string* output,
                               absl::Duration timeout = absl::Seconds(60));

// The last `max_lines` lines of the file at `path` ("" if unreadable).
std::string TailOfFile(const std::string& path, size_t max_lines);

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_SUBPROCESS_H_

// A stand-in for the worker in process_runner_test's worker-death test:
// runs its arguments with RunProcess on a second thread (as a slot thread
// would), PATH=/usr/bin:/bin, in /, with the program's stdout on its own
// stdout and stderr lines on its own stderr. Exits with 0 when the program
// exited 0, 1 when it did not, 2 when it could not run. The test SIGKILLs it
// while the program runs.
//
// Usage: run_process_main PROGRAM [ARGUMENT...]

#include <unistd.h>

#include <cstdio>
#include <string>
#include <thread>

#include "absl/strings/string_view.h"
#include "worker/cancel_flag.h"
#include "worker/exec/process_runner.h"

int main(int argc, char** argv) {
  quarry::worker::ProcessSpec spec;
  spec.argv.assign(argv + 1, argv + argc);
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.working_dir = "/";
  spec.stdout_fd = STDOUT_FILENO;
  quarry::worker::CancelFlag never_cancelled;
  int exit_code = 2;
  std::thread slot([&] {
    absl::StatusOr<quarry::worker::ProcessResult> result =
        quarry::worker::RunProcess(
            spec, never_cancelled,
            [](absl::string_view) { return absl::OkStatus(); },
            [](absl::string_view line) {
              fprintf(stderr, "%.*s\n", static_cast<int>(line.size()),
                      line.data());
            });
    if (!result.ok()) {
      fprintf(stderr, "%s\n", result.status().ToString().c_str());
    } else {
      exit_code = result->exited_ok() ? 0 : 1;
    }
  });
  slot.join();
  return exit_code;
}

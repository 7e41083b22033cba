#ifndef QUARRY_WORKER_EXEC_EXEC_KIND_H_
#define QUARRY_WORKER_EXEC_EXEC_KIND_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "worker/kinds/job_kind.h"

namespace quarry::worker {

// How a worker runs `exec` commands (its --allow_exec, --exec_allow,
// --exec_user and --exec_scratch_dir flags).
struct ExecOptions {
  // Programs that may run: absolute paths or shell patterns ("/opt/tools/*")
  // matched against the program as resolved through PATH. Empty: any.
  std::vector<std::string> allow;
  // The user commands run as, and its name for logs; unset: the worker's.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  std::string user;
  // Where each attempt's scratch directory is made.
  std::string scratch_root = "/tmp";
};

// The options from the flags: `user` empty means "nobody" when the worker
// runs as root (never root unless asked for by name) and the worker's own
// user otherwise; `allow` is a comma-separated list. Errors name the flag.
absl::StatusOr<ExecOptions> MakeExecOptions(absl::string_view user,
                                            absl::string_view allow,
                                            absl::string_view scratch_root);

// The exec kind: runs the assignment's command (argv, no shell) once per
// input file, in order (once with no input for a job array), with its
// placeholders replaced (common/command_template.h). Each run is its own
// process group (worker/exec/process_runner.h) in a fresh scratch working
// directory (removed afterwards), with a clean environment: PATH, LANG,
// HOME (the scratch directory), QUARRY_JOB_ID, QUARRY_TASK_INDEX,
// QUARRY_ATTEMPT_ID, QUARRY_INPUT, QUARRY_OUTPUT and the job's env; stdin
// is /dev/null. Without {output} in the command its stdout is the task's
// output; with it, stdout goes to the attempt log like stderr. Exit 0 is
// success; otherwise the attempt fails with "exit status 3: <last stderr
// lines>" or "killed by SIGSEGV: ...". Cancellation (cancel, task timeout,
// drain) stops the process group: SIGTERM, then SIGKILL after
// settings.kill_grace (default 5s). settings.memory, cpu_time and
// max_output limit each process of the run (worker/exec/exec_limits.h;
// max_output also bounds captured stdout), and an end they explain fails
// the attempt naming the limit ("cpu_time limit of 10m exceeded (killed by
// SIGXCPU)"). A reduce assignment runs the job's reduce command
// (Assignment.reduce_command) once through /bin/sh -c, its {parts} the
// assignment's inputs and {output} its result, all shell-quoted
// (common/command_template.h). Thread-safe (no state but options).
std::unique_ptr<JobKind> NewExecKind(ExecOptions options);

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_EXEC_EXEC_KIND_H_

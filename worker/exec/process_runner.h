#ifndef QUARRY_WORKER_EXEC_PROCESS_RUNNER_H_
#define QUARRY_WORKER_EXEC_PROCESS_RUNNER_H_

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "worker/cancel_flag.h"

namespace quarry::worker {

// What to run: one program, started afresh (nothing is inherited from the
// worker but its resource limits and, without uid/gid, its identity).
struct ProcessSpec {
  // argv[0] is the program: a path (relative ones are resolved in
  // working_dir) or, without '/', a name looked up in the PATH of `env`
  // ("/bin:/usr/bin" if `env` has none), as execvpe does. A file without
  // "#!" that is not a binary fails ("Exec format error"); it is not handed
  // to /bin/sh. Non-empty; no string may contain a NUL byte.
  std::vector<std::string> argv;
  // The whole environment, "KEY=VALUE" each (KEY non-empty).
  std::vector<std::string> env;
  // Must exist (and be searchable by uid); the program starts there.
  std::string working_dir;
  // Where stdout goes: a descriptor open for writing that the caller owns
  // (duplicated, never closed; INVALID_ARGUMENT if not open for writing);
  // -1: captured and passed to on_stdout.
  int stdout_fd = -1;
  // Run as this user and group (supplementary groups: just `gid`); needs
  // the worker to run as root. Set both or neither (INVALID_ARGUMENT
  // otherwise); unset: as the worker.
  std::optional<uid_t> uid;
  std::optional<gid_t> gid;
  // On cancel (or an error from on_stdout): SIGTERM to the process group,
  // SIGKILL after this. In [0, 1h].
  absl::Duration kill_grace = absl::Seconds(5);

  // Resource limits of the program, set (soft and hard) after fork, before
  // execve, in the program's process only (never the supervisor's); unset:
  // the worker's own. Each is lowered to the worker's hard limit where that
  // is lower. They are per process: the program's children inherit them,
  // each with a count of its own. In [1, RLIM_INFINITY).
  // RLIMIT_AS, bytes of address space: beyond it allocations fail (malloc
  // returns null, mmap ENOMEM), which programs show as an error exit or a
  // crash.
  std::optional<rlim_t> memory_bytes;
  // RLIMIT_CPU, seconds of CPU: SIGXCPU when used up, SIGKILL one CPU
  // second later (hard limit cpu_seconds + 1) if it is caught or ignored.
  std::optional<rlim_t> cpu_seconds;
  // RLIMIT_FSIZE, bytes: the largest file the program may write (the write
  // beyond it raises SIGXFSZ, or fails with EFBIG when that is ignored).
  // Pipes are not files: captured stdout has max_stdout_bytes instead.
  std::optional<rlim_t> file_bytes;
  // Captured stdout only (stdout_fd -1): once the program wrote more than
  // this, on_stdout has had exactly the first max_stdout_bytes, the program
  // is stopped as on cancel (SIGTERM, SIGKILL after kill_grace) and the
  // result has stdout_limit_exceeded.
  std::optional<uint64_t> max_stdout_bytes;
};

// How a program that started ended.
struct ProcessResult {
  // As from waitpid, of the program itself (not of its descendants).
  int wait_status = 0;
  // The last ~2 KiB of stderr (whole lines where possible).
  std::string stderr_tail;
  // CPU time (user and system) of the program and of the descendants it
  // waited for, as wait4 reports it.
  absl::Duration cpu_time;
  // The program was stopped for writing more than max_stdout_bytes.
  bool stdout_limit_exceeded = false;

  // Exited with status 0 (and not stopped for its stdout).
  bool exited_ok() const;
  // "exit status 3: <stderr tail's last lines>", "killed by SIGSEGV: <...>"
  // (no ": ..." when stderr was empty); "stdout beyond the limit (killed by
  // SIGTERM): ..." when stopped for its stdout; "" when it exited 0. At
  // most the last 3 lines and ~500 bytes of stderr, trailing whitespace
  // dropped. Which resource limit an end means is for the caller, who
  // named the limits (worker/exec/exec_limits.h).
  std::string Describe() const;
  // Describe()'s stderr part: "" or ": <last lines>".
  std::string StderrSuffix() const;
};

// Runs the program to its end on the calling thread (any thread; several
// may run programs concurrently), which it blocks meanwhile.
//
// stdin is /dev/null; every descriptor but 0, 1 and 2 is closed. Stdout
// (when captured) is passed to `on_stdout` in chunks of up to 64 KiB; an
// error from it stops the process tree (as a cancel does) and is returned.
// Stderr is passed line by line, without '\n', to `on_stderr_line` (lines
// longer than 4 KiB in pieces) and its tail kept. Both callbacks run on the
// calling thread. When `cancel` is set (noticed within ~50 ms), the program's
// process group gets SIGTERM, then SIGKILL after kill_grace, and RunProcess
// returns CANCELLED once the tree is gone.
//
// Returns the result for a program that ran, whatever its exit status.
// Errors: INVALID_ARGUMENT for a bad spec (empty argv, ...); for a program
// that cannot be started (not found, not executable, working_dir missing,
// setuid failing) an error naming it, the step and errno's text, e.g.
// NOT_FOUND `cannot start "nosuch": searched PATH "/usr/bin:/bin": No such
// file or directory`, reported by the child through a CLOEXEC pipe (not as
// exit status 127); CANCELLED; on_stdout's error; INTERNAL if the
// supervisor died unexpectedly.
//
// "Nothing left running". Each run has a supervisor process (the "shim",
// the worker's child, in a process group of its own) and the program in a
// new process group under it.
//  - On return, the program and every descendant have ended and been
//    reaped, and so has the shim: no zombie, nothing running. Whatever still
//    runs when the program ends (background children of a program that
//    exited 0 included) is SIGKILLed: a program cannot leave a daemon.
//  - The process group is what cancel's SIGTERM reaches. A descendant that
//    leaves it (setsid, setpgid) misses the SIGTERM, but not the SIGKILL:
//    the shim is a child subreaper, so such descendants are re-parented to
//    it when their parents die, and it SIGKILLs and reaps its children
//    (read from /proc) until none is left.
//  - If the worker dies (even by SIGKILL), the shim notices
//    (PR_SET_PDEATHSIG, and getppid() re-checked every second) and kills
//    the same way at once, without kill_grace.
// Limits: if the shim itself is SIGKILLed (OOM killer, kill -9 on it), the
// program dies (its parent-death signal is SIGKILL) but its descendants may
// survive, those out of the group included; a process started outside the
// tree (by asking a daemon: systemd-run, at, docker) or stuck in
// uninterruptible sleep past the shim's 5 s reap deadline (logged) escapes.
// A cgroup per attempt (cgroup.kill; also bounds memory and CPU) would close
// those gaps.
absl::StatusOr<ProcessResult> RunProcess(
    const ProcessSpec& spec, const CancelFlag& cancel,
    absl::FunctionRef<absl::Status(absl::string_view)> on_stdout,
    absl::FunctionRef<void(absl::string_view)> on_stderr_line);

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_EXEC_PROCESS_RUNNER_H_

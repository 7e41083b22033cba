#ifndef QUARRY_WORKER_EXEC_PROCESS_SHIM_H_
#define QUARRY_WORKER_EXEC_PROCESS_SHIM_H_

// Internal to process_runner.cc: the code that runs in the forked children
// (the supervisor "shim" and, before execve, the program). Everything here
// runs after fork() of a multithreaded worker, so it only makes
// async-signal-safe system calls: no allocation, no locks, no logging.

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>

namespace quarry::worker::exec_internal {

// A fixed-size record written by the shim or the program (before execve) to
// the report pipe; one write(2) of less than PIPE_BUF bytes each, so
// records never interleave.
struct ShimReport {
  int32_t type = 0;   // ReportType.
  int32_t stage = 0;  // StartStage, for kReportStartFailed.
  int32_t value = 0;  // errno (kReportStartFailed) or wait status (kExited).
  // kStageSetrlimit: the index in ChildPlan::limits of the failed one.
  int32_t detail = 0;
  int64_t cpu_ns = 0;  // kReportExited: the program's CPU time (wait4).
};

enum ReportType : int32_t {
  // The program could not be started; `stage` says which step failed.
  kReportStartFailed = 1,
  // The program ended; `value` is its raw wait status.
  kReportExited = 2,
};

// The step of starting the program that failed (ShimReport::stage).
enum StartStage : int32_t {
  kStageFork = 1,
  kStageSetpgid,
  kStageDup,
  kStageSetgroups,
  kStageSetgid,
  kStageSetuid,
  kStageChdir,
  kStageSetrlimit,
  kStageExec,
};

// One resource limit to set in the program (setrlimit).
struct ChildLimit {
  int resource = 0;  // RLIMIT_AS, ...
  rlimit value = {};
};
inline constexpr int kMaxChildLimits = 3;

// How the shim exits (its own exit status, read by the worker).
enum ShimExit : int {
  kShimExitClean = 0,       // Every descendant was reaped.
  kShimExitLeftovers = 1,   // Some descendant outlived the reap deadline.
  kShimExitOrphaned = 2,    // The worker was gone before the program ran.
  kShimExitForkFailed = 3,  // fork() of the program failed (reported).
};

// Everything the children need, prepared by the worker before fork() and
// only read afterwards. The pointers stay valid until the worker reaps the
// shim (the child has a copy of the worker's memory anyway).
struct ChildPlan {
  pid_t worker_pid = 0;
  char* const* argv = nullptr;  // Null-terminated.
  char* const* envp = nullptr;  // Null-terminated.
  // Null-terminated list of paths to try with execve, in order (argv[0]
  // itself, or argv[0] under each PATH directory).
  const char* const* exec_paths = nullptr;
  const char* working_dir = nullptr;
  // CLOEXEC descriptors, all >= 3, that become the program's 0, 1 and 2.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  // CLOEXEC write end of the report pipe (ShimReport records), >= 3.
  int report_fd = -1;
  bool set_ids = false;  // Then setgroups({gid}), setgid(gid), setuid(uid).
  uid_t uid = 0;
  gid_t gid = 0;
  // Set in the program, in order, after chdir (before execve).
  ChildLimit limits[kMaxChildLimits];
  int limit_count = 0;
  int64_t kill_grace_ns = 0;    // SIGTERM, then SIGKILL after this.
  int64_t reap_timeout_ns = 0;  // How long the shim waits for descendants.
};

// The body of the shim, run in the worker's child right after fork(), with
// every signal blocked. Never returns. It:
//  1. makes itself a process-group leader (away from the worker's group),
//     asks for SIGHUP when the worker dies (PR_SET_PDEATHSIG) and becomes a
//     child subreaper, so orphaned descendants are re-parented to it;
//  2. forks the program into a new process group of its own, which sets up
//     its descriptors, ids, directory, resource limits, parent-death
//     SIGKILL and signals, and execs (or reports why not, kReportStartFailed);
//  3. waits (sigtimedwait) for: the program's end; SIGTERM (from the
//     worker on cancel: SIGTERM to the program's group, SIGKILL after
//     kill_grace); the worker's death (SIGHUP or getppid() changed:
//     SIGKILL at once);
//  4. SIGKILLs the program's group, reports the program's wait status and
//     CPU time (kReportExited), then SIGKILLs and reaps every remaining
//     descendant re-parented to it (read from /proc/self/task/<pid>/children,
//     which also reaches those that left the group) until it has no child left
//     or reap_timeout passes, and exits (ShimExit).
[[noreturn]] void RunShim(const ChildPlan& plan);

}  // namespace quarry::worker::exec_internal

#endif  // QUARRY_WORKER_EXEC_PROCESS_SHIM_H_

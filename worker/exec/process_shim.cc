#include "worker/exec/process_shim.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>

namespace quarry::worker::exec_internal {
namespace {

// Async-signal-safe code only below: see process_shim.h.

constexpr int64_t kNsPerSecond = 1000000000;
// The shim re-checks getppid() at least this often, in case the worker's
// death signal was missed.
constexpr int64_t kRecheckParentNs = kNsPerSecond;
// While reaping, the shim re-reads its list of children this often.
constexpr int64_t kRescanChildrenNs = kNsPerSecond / 20;
// Zombies reaped per round, so that no loop is unbounded.
constexpr int kMaxReapsPerRound = 1024;
// Highest descriptor the fallback of CloseRange() closes.
constexpr int64_t kMaxFallbackFd = int64_t{1} << 20;

int64_t MonotonicNs() {
  timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * kNsPerSecond + now.tv_nsec;
}

timespec ToTimespec(int64_t ns) {
  ns = std::max<int64_t>(ns, 0);
  timespec result;
  result.tv_sec = static_cast<time_t>(ns / kNsPerSecond);
  result.tv_nsec = static_cast<long>(ns % kNsPerSecond);  // NOLINT(runtime/int)
  return result;
}

int64_t CpuNs(const timeval& time) {
  return int64_t{time.tv_sec} * kNsPerSecond + int64_t{time.tv_usec} * 1000;
}

void Report(int fd, ReportType type, int32_t stage, int32_t value,
            int32_t detail = 0, int64_t cpu_ns = 0) {
  ShimReport report;
  report.type = type;
  report.stage = stage;
  report.value = value;
  report.detail = detail;
  report.cpu_ns = cpu_ns;
  for (int attempt = 0; attempt < 8; ++attempt) {  // Retries EINTR only.
    if (write(fd, &report, sizeof(report)) >= 0 || errno != EINTR) return;
  }
}

// Runs in the program's process: reports why it cannot start and exits.
[[noreturn]] void FailStart(const ChildPlan& plan, StartStage stage, int error,
                            int32_t detail = 0) {
  Report(plan.report_fd, kReportStartFailed, stage, error, detail);
  _exit(127);
}

// Closes the descriptors first..last (inclusive).
void CloseRange(int64_t first, int64_t last) {
  if (first > last) return;
#ifdef SYS_close_range
  if (syscall(SYS_close_range, static_cast<unsigned>(first),
              static_cast<unsigned>(std::min<int64_t>(last, ~0U)), 0) == 0) {
    return;
  }
#endif
  int64_t limit = kMaxFallbackFd;
  rlimit files;
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 &&
      files.rlim_cur != RLIM_INFINITY) {
    limit = std::min<int64_t>(limit, static_cast<int64_t>(files.rlim_cur));
  }
  for (int64_t fd = first; fd <= last && fd < limit; ++fd) {
    close(static_cast<int>(fd));
  }
}

// Closes every descriptor from 3 up except the `count` (<= 8) in `keep`.
void CloseAllExcept(const int* keep, int count) {
  int sorted[8];
  count = std::max(0, std::min(count, 8));
  for (int i = 0; i < count; ++i) {  // Insertion sort.
    int j = i;
    for (; j > 0 && sorted[j - 1] > keep[i]; --j) sorted[j] = sorted[j - 1];
    sorted[j] = keep[i];
  }
  int64_t first = 3;
  for (int i = 0; i < count; ++i) {
    if (sorted[i] < first) continue;
    CloseRange(first, int64_t{sorted[i]} - 1);
    first = int64_t{sorted[i]} + 1;
  }
  CloseRange(first, ~0U);
}

// The program's process, vforked by the shim: set up, then execve (or
// _exit). It shares the shim's memory until then: it writes nothing but
// its own stack.
[[noreturn]] void RunProgram(const ChildPlan& plan, pid_t shim) {
  if (setpgid(0, 0) != 0) FailStart(plan, kStageSetpgid, errno);
  if (dup2(plan.stdin_fd, STDIN_FILENO) < 0 ||
      dup2(plan.stdout_fd, STDOUT_FILENO) < 0 ||
      dup2(plan.stderr_fd, STDERR_FILENO) < 0) {
    FailStart(plan, kStageDup, errno);
  }
  // The report pipe stays open (CLOEXEC) until execve succeeds.
  CloseAllExcept(&plan.report_fd, 1);
  if (plan.set_ids) {
    if (setgroups(1, &plan.gid) != 0) FailStart(plan, kStageSetgroups, errno);
    if (setgid(plan.gid) != 0) FailStart(plan, kStageSetgid, errno);
    if (setuid(plan.uid) != 0) FailStart(plan, kStageSetuid, errno);
  }
  // After setuid, so the user's own permissions apply.
  if (chdir(plan.working_dir) != 0) FailStart(plan, kStageChdir, errno);
  // Only here, in the program's process: the shim stays unlimited. The
  // program allocates and writes nothing more before execve.
  for (int i = 0; i < plan.limit_count && i < kMaxChildLimits; ++i) {
    if (setrlimit(plan.limits[i].resource, &plan.limits[i].value) != 0) {
      FailStart(plan, kStageSetrlimit, errno, i);
    }
  }
  // After the id changes, which clear it. If the shim dies, so does the
  // program (its own descendants are the documented limit).
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != shim) _exit(127);
  // Default dispositions (ignored ones, such as the worker's SIGPIPE,
  // would survive execve) and an empty mask.
  struct sigaction default_action;
  memset(&default_action, 0, sizeof(default_action));
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  for (int signal = 1; signal < NSIG; ++signal) {
    if (signal != SIGKILL && signal != SIGSTOP) {
      sigaction(signal, &default_action, nullptr);  // EINVAL for reserved.
    }
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // As execvpe: skip candidates that do not exist; remember EACCES.
  int error = ENOENT;
  bool denied = false;
  for (const char* const* path = plan.exec_paths; *path != nullptr; ++path) {
    execve(*path, plan.argv, plan.envp);
    error = errno;
    if (error == EACCES) {
      denied = true;
    } else if (error != ENOENT && error != ENOTDIR && error != ESTALE &&
               error != ENODEV && error != ETIMEDOUT) {
      break;
    }
  }
  if (denied && (error == ENOENT || error == ENOTDIR)) error = EACCES;
  FailStart(plan, kStageExec, error);
}

// Reaps the shim's finished children other than `program` (orphans it
// adopted) and returns true once `program` has ended, leaving it a zombie:
// its pid, and so its process-group id, cannot be reused until reaped.
bool ProgramEnded(pid_t program) {
  for (int round = 0; round < kMaxReapsPerRound; ++round) {
    siginfo_t info;
    memset(&info, 0, sizeof(info));
    if (waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
        info.si_pid == 0) {
      return false;
    }
    if (info.si_pid == program) return true;
    waitpid(info.si_pid, nullptr, WNOHANG);
  }
  return false;
}

// SIGKILLs every child of the shim (the program and the orphans it
// adopted, whichever process group or session they are in). They are not
// reaped yet, so their pids cannot have been reused. One read: children
// beyond it are killed in the next round.
void KillChildren() {
  const int fd = open("/proc/thread-self/children", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char buffer[4096];
  const ssize_t size = read(fd, buffer, sizeof(buffer));
  close(fd);
  int64_t pid = 0;
  for (ssize_t i = 0; i < size; ++i) {
    if (buffer[i] >= '0' && buffer[i] <= '9') {
      pid = std::min<int64_t>(pid * 10 + (buffer[i] - '0'), INT32_MAX);
    } else {
      if (pid > 0) kill(static_cast<pid_t>(pid), SIGKILL);
      pid = 0;
    }
  }
  if (pid > 0 && size < static_cast<ssize_t>(sizeof(buffer))) {
    kill(static_cast<pid_t>(pid), SIGKILL);
  }
}

// Waits for up to `ns` for one of `signals`; returns it, or -1.
int WaitForSignal(const sigset_t& signals, int64_t ns) {
  const timespec timeout = ToTimespec(ns);
  return sigtimedwait(&signals, nullptr, &timeout);
}

}  // namespace

void RunShim(const ChildPlan& plan) {
  // Every signal is blocked (inherited from the forking thread).
  setpgid(0, 0);  // Out of the worker's group: `kill -9 -<its pgid>` spares us.
  prctl(PR_SET_PDEATHSIG, SIGHUP);
  if (getppid() != plan.worker_pid) _exit(kShimExitOrphaned);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  const int keep[] = {plan.stdin_fd, plan.stdout_fd, plan.stderr_fd,
                      plan.report_fd};
  CloseAllExcept(keep, 4);  // Other attempts' pipes, the worker's sockets.
  // Nor the worker's own 0, 1 and 2 (a log pipe, say): /dev/null instead.
  for (int fd = 0; fd <= 2; ++fd) dup2(plan.stdin_fd, fd);
  // A pending SIGCHLD is kept only if it is not ignored.
  struct sigaction default_action;
  memset(&default_action, 0, sizeof(default_action));
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  sigaction(SIGCHLD, &default_action, nullptr);

  // vfork: the shim is a copy of the whole worker, so a fork would copy
  // its page tables again (milliseconds per run); the program's process
  // only makes system calls on its own stack frames until execve or _exit,
  // while the shim waits.
  const pid_t shim = getpid();
  const pid_t program = vfork();
  if (program == 0) RunProgram(plan, shim);
  const int fork_error = errno;
  close(plan.stdin_fd);
  close(plan.stdout_fd);
  close(plan.stderr_fd);
  if (program < 0) {
    Report(plan.report_fd, kReportStartFailed, kStageFork, fork_error);
    _exit(kShimExitForkFailed);
  }
  setpgid(program, program);  // Also done by the program: whichever is first.

  // Wait for the program's end, a SIGTERM (cancel) or the worker's death.
  // Each round blocks for at most kRecheckParentNs; the program's life is
  // bounded by the worker, which cancels it or dies.
  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, SIGCHLD);
  sigaddset(&wake, SIGTERM);
  sigaddset(&wake, SIGHUP);
  int64_t kill_at = -1;  // When SIGTERM was sent: when to SIGKILL.
  while (!ProgramEnded(program)) {
    if (getppid() != plan.worker_pid) break;  // The worker died.
    const int64_t now = MonotonicNs();
    if (kill_at >= 0 && now >= kill_at) {
      kill(-program, SIGKILL);
      kill_at = INT64_MAX;
    }
    int64_t wait_ns = kRecheckParentNs;
    if (kill_at >= 0) wait_ns = std::min(wait_ns, kill_at - now);
    if (WaitForSignal(wake, wait_ns) == SIGTERM && kill_at < 0) {
      kill(-program, SIGTERM);
      kill_at = MonotonicNs() + plan.kill_grace_ns;
    }
  }

  // Leftovers of the group go first (the program, alive or a zombie, keeps
  // its group id reserved), then every other descendant.
  kill(-program, SIGKILL);
  const int64_t deadline = MonotonicNs() + plan.reap_timeout_ns;
  sigset_t child;
  sigemptyset(&child);
  sigaddset(&child, SIGCHLD);
  for (;;) {
    for (int round = 0; round < kMaxReapsPerRound; ++round) {
      int status = 0;
      rusage usage;
      memset(&usage, 0, sizeof(usage));
      const pid_t pid = wait4(-1, &status, WNOHANG, &usage);
      if (pid < 0 && errno == ECHILD) _exit(kShimExitClean);
      if (pid <= 0) break;
      if (pid == program) {
        Report(plan.report_fd, kReportExited, 0, status, 0,
               CpuNs(usage.ru_utime) + CpuNs(usage.ru_stime));
      }
    }
    const int64_t now = MonotonicNs();
    if (now >= deadline) _exit(kShimExitLeftovers);
    KillChildren();
    WaitForSignal(child, std::min(deadline - now, kRescanChildrenNs));
  }
}

}  // namespace quarry::worker::exec_internal

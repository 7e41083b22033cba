#include "bench/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace quarry::bench {
namespace {

// Live children, read by the signal handler (lock-free, async-signal-safe).
constexpr int kMaxChildren = 64;
std::atomic<pid_t> g_children[kMaxChildren];

void Remember(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t empty = 0;
    if (slot.compare_exchange_strong(empty, pid)) return;
  }
}

void Forget(pid_t pid) {
  for (auto& slot : g_children) {
    pid_t expected = pid;
    if (slot.compare_exchange_strong(expected, 0)) return;
  }
}

void HandleSignal(int signal) {
  for (auto& slot : g_children) {
    if (pid_t pid = slot.load(); pid > 0) kill(pid, SIGTERM);
  }
  // Up to 3 s for the children to exit, then SIGKILL.
  for (int round = 0; round < 300; ++round) {
    bool any = false;
    for (auto& slot : g_children) {
      pid_t pid = slot.load();
      if (pid <= 0) continue;
      if (waitpid(pid, nullptr, WNOHANG) == pid) {
        slot.store(0);
      } else {
        any = true;
      }
    }
    if (!any) break;
    struct timespec ten_ms = {0, 10 * 1000 * 1000};
    nanosleep(&ten_ms, nullptr);
  }
  for (auto& slot : g_children) {
    if (pid_t pid = slot.load(); pid > 0) kill(pid, SIGKILL);
  }
  _exit(128 + signal);
}

// fork + exec with `stdout_fd_path` as stdout (and stderr when
// `merge_stderr`). The child dies with the driver.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv,
                            const std::string& stdout_path, bool merge_stderr) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null = open("/dev/null", O_RDWR);
    if (out < 0 || null < 0) _exit(127);
    dup2(null, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(merge_stderr ? out : null, STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

void InstallCleanupHandlers() {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = HandleSignal;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal, &action, nullptr);
}

absl::StatusOr<ChildProcess> ChildProcess::Start(
    const std::vector<std::string>& argv, const std::string& log_path) {
  absl::StatusOr<pid_t> pid = Spawn(argv, log_path, /*merge_stderr=*/true);
  if (!pid.ok()) return pid.status();
  Remember(*pid);
  return ChildProcess(*pid);
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this != &other) {
    if (running()) Stop(absl::Seconds(2));
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

ChildProcess::~ChildProcess() {
  if (running()) Stop(absl::Seconds(5));
}

absl::StatusOr<int> ChildProcess::Wait(absl::Duration timeout) {
  if (!running()) return absl::FailedPreconditionError("not running");
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_ || (done < 0 && errno == ECHILD)) {
      Forget(pid_);
      pid_ = -1;
      if (done < 0) return 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError("process still running");
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
}

int ChildProcess::Stop(absl::Duration grace) {
  if (!running()) return 0;
  kill(pid_, SIGTERM);
  if (absl::StatusOr<int> code = Wait(grace); code.ok()) return *code;
  kill(pid_, SIGKILL);
  absl::StatusOr<int> code = Wait(absl::Seconds(5));
  return code.ok() ? *code : 128 + SIGKILL;
}

absl::StatusOr<int> RunToFile(const std::vector<std::string>& argv,
                              const std::string& stdout_path,
                              absl::Duration timeout) {
  absl::StatusOr<pid_t> pid = Spawn(argv, stdout_path, /*merge_stderr=*/false);
  if (!pid.ok()) return pid.status();
  Remember(*pid);
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(*pid, &status, WNOHANG) == *pid) {
      Forget(*pid);
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  kill(*pid, SIGKILL);
  waitpid(*pid, nullptr, 0);
  Forget(*pid);
  return absl::DeadlineExceededError(absl::StrCat(argv[0], " did not finish"));
}

}  // namespace quarry::bench

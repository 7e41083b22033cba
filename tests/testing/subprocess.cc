#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"

namespace quarry::testing {
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

void StopChildrenAndExit(int signal) {
  for (auto& slot : g_children) {
    if (pid_t pid = slot.load(); pid > 0) kill(pid, SIGTERM);
  }
  for (int round = 0; round < 300; ++round) {  // Up to 3 s.
    bool any = false;
    for (auto& slot : g_children) {
      const pid_t pid = slot.load();
      if (pid <= 0) continue;
      if (waitpid(pid, nullptr, WNOHANG) == pid) {
        slot.store(0);
      } else {
        any = true;
      }
    }
    if (!any) break;
    struct timespec ten_ms = {0, 10 * 1000 * 1000};
    nanosleep(&ten_ms, nullptr);  // Async-signal-safe; no condition to wait on.
  }
  for (auto& slot : g_children) {
    if (pid_t pid = slot.load(); pid > 0) kill(pid, SIGKILL);
  }
  _exit(128 + signal);
}

// fork + exec; the child dies with its parent (PR_SET_PDEATHSIG) and starts
// with default signal handling and an empty mask.
absl::StatusOr<pid_t> Spawn(const std::vector<std::string>& argv,
                            const std::string& stdout_path,
                            const std::string& stderr_path) {
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
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(sig, SIG_DFL);
    const int out = open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int err = stderr_path.empty()
                        ? out
                        : open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    const int null = open("/dev/null", O_RDONLY);
    if (out < 0 || err < 0 || null < 0) _exit(127);
    dup2(null, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    execv(args[0], args.data());
    _exit(127);
  }
  Remember(pid);
  return pid;
}

}  // namespace

void InstallCleanupHandlers() {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = StopChildrenAndExit;
  sigemptyset(&action.sa_mask);
  for (int signal : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal, &action, nullptr);
}

absl::StatusOr<Subprocess> Subprocess::Start(const std::vector<std::string>& argv,
                                             const std::string& log_path,
                                             const std::string& stderr_path) {
  absl::StatusOr<pid_t> pid = Spawn(argv, log_path, stderr_path);
  if (!pid.ok()) return pid.status();
  return Subprocess(*pid);
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    if (running()) Stop(absl::ZeroDuration());
    pid_ = std::exchange(other.pid_, -1);
  }
  return *this;
}

Subprocess::~Subprocess() {
  if (running()) Stop(absl::ZeroDuration());
}

void Subprocess::Signal(int signal) {
  if (running()) kill(pid_, signal);
}

absl::StatusOr<int> Subprocess::Wait(absl::Duration timeout) {
  if (!running()) return absl::FailedPreconditionError("not running");
  // A pidfd becomes readable when the child exits: wait on it with poll.
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
  if (pidfd >= 0) {
    pollfd entry{pidfd, POLLIN, 0};
    const int64_t ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(timeout));
    const int ready =
        poll(&entry, 1, static_cast<int>(std::min<int64_t>(ms, INT32_MAX)));
    close(pidfd);
    if (ready == 0) {
      return absl::DeadlineExceededError(
          absl::StrCat("process ", pid_, " still runs"));
    }
  }
  int status = 0;
  const pid_t done = waitpid(pid_, &status, 0);
  Forget(pid_);
  pid_ = -1;
  if (done < 0) return absl::InternalError("waitpid failed");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int Subprocess::Stop(absl::Duration grace) {
  if (!running()) return -1;
  if (grace > absl::ZeroDuration()) {
    Signal(SIGTERM);
    if (absl::StatusOr<int> code = Wait(grace); code.ok()) return *code;
  }
  Signal(SIGKILL);
  absl::StatusOr<int> code = Wait(absl::Seconds(10));
  return code.ok() ? *code : -1;
}

absl::StatusOr<int> RunCommand(const std::vector<std::string>& argv,
                               std::string* output, absl::Duration timeout) {
  char path[] = "/tmp/quarry-cmd-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return absl::InternalError("mkstemp failed");
  close(fd);
  absl::StatusOr<Subprocess> process = Subprocess::Start(argv, path);
  if (!process.ok()) return process.status();
  absl::StatusOr<int> code = process->Wait(timeout);
  if (!code.ok()) process->Stop(absl::ZeroDuration());
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  *output = buffer.str();
  unlink(path);
  return code;
}

std::string TailOfFile(const std::string& path, size_t max_lines) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  const size_t start = lines.size() > max_lines ? lines.size() - max_lines : 0;
  std::string out;
  for (size_t i = start; i < lines.size(); ++i) absl::StrAppend(&out, lines[i], "\n");
  return out;
}

}  // namespace quarry::testing

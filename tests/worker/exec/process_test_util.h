#ifndef QUARRY_TESTS_WORKER_EXEC_PROCESS_TEST_UTIL_H_
#define QUARRY_TESTS_WORKER_EXEC_PROCESS_TEST_UTIL_H_

// Helpers of process_runner_test: running a spec and keeping what it
// passed to its callbacks, and finding processes through /proc (by a
// marker in their command line, or by parent).

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/testing/temp_dir.h"
#include "worker/cancel_flag.h"
#include "worker/exec/process_runner.h"

namespace quarry::worker::exec_testing {

// The contents of a /proc file (up to 64 KiB), or what could be read before
// an error: its process may end while we read (then reads fail with ESRCH,
// which std::ifstream turns into an exception).
inline std::string ReadProcFile(const std::string& path) {
  std::string contents;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return contents;
  char buffer[4096];
  for (ssize_t size; contents.size() < 65536 &&
                     (size = read(fd, buffer, sizeof(buffer))) > 0;) {
    contents.append(buffer, size);
  }
  close(fd);
  return contents;
}

// What one RunProcess call returned and passed to its callbacks.
struct Outcome {
  absl::StatusOr<ProcessResult> result = absl::UnknownError("not run");
  std::string out;
  std::vector<std::string> err_lines;
};

inline ProcessSpec Spec(std::vector<std::string> argv) {
  ProcessSpec spec;
  spec.argv = std::move(argv);
  spec.env = {"PATH=/usr/bin:/bin"};
  spec.working_dir = "/";
  return spec;
}

// Runs `spec`; `on_out`, if given, sees all of stdout so far after each
// chunk, and its error is returned to RunProcess.
inline Outcome RunSpec(
    const ProcessSpec& spec, const CancelFlag& cancel,
    std::function<absl::Status(const std::string&)> on_out = nullptr) {
  Outcome outcome;
  outcome.result = RunProcess(
      spec, cancel,
      [&](absl::string_view chunk) {
        outcome.out.append(chunk.data(), chunk.size());
        return on_out ? on_out(outcome.out) : absl::OkStatus();
      },
      [&](absl::string_view line) { outcome.err_lines.emplace_back(line); });
  return outcome;
}

inline Outcome RunSpec(const ProcessSpec& spec) {
  return RunSpec(spec, CancelFlag());
}

// `sleep` under a name in a fresh directory, whose path is the marker: every
// process that runs it, or a shell whose script names it, has the marker in
// its /proc/<pid>/cmdline.
class MarkedSleep {
 public:
  MarkedSleep() : path_(dir_.Join("marked-sleep")) {
    std::filesystem::create_symlink("/bin/sleep", path_);
  }
  // "<path> 300 &" as many times as asked (for a shell script).
  std::string Background(int count) const {
    std::string script;
    for (int i = 0; i < count; ++i) absl::StrAppend(&script, path_, " 300 & ");
    return script;
  }
  // A script fragment that starts a marked sleep in a session of its own
  // (out of the process group) and waits until it has left.
  std::string Escapee() const {
    const std::string fifo = dir_.Join("ready");
    return absl::StrCat("mkfifo ", fifo, "; setsid sh -c 'echo > ", fifo,
                        "; exec ", path_, " 300' & read line < ", fifo, "; ");
  }
  const std::string& path() const { return path_; }

  // Live processes with the marker in their command line (zombies have
  // none).
  std::vector<pid_t> Processes() const {
    std::vector<pid_t> pids;
    DIR* proc = opendir("/proc");
    if (proc == nullptr) return pids;
    for (dirent* entry; (entry = readdir(proc)) != nullptr;) {
      pid_t pid = 0;
      if (!absl::SimpleAtoi(entry->d_name, &pid) || pid == getpid()) continue;
      const std::string cmdline =
          ReadProcFile(absl::StrCat("/proc/", pid, "/cmdline"));
      if (absl::StrContains(cmdline, dir_.path())) pids.push_back(pid);
    }
    closedir(proc);
    return pids;
  }

  // Waits until at least `count` marked processes run (a child in execve
  // briefly has no command line), scanning every 10 ms: there is no event.
  size_t WaitForAtLeast(size_t count, absl::Duration timeout) const {
    const absl::Time deadline = absl::Now() + timeout;
    size_t found = Processes().size();
    while (found < count && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(10));
      found = Processes().size();
    }
    return found;
  }

  // Waits (on pidfds, re-scanning at least every 100 ms) until no marked
  // process is left; false if some still are after `timeout`.
  bool WaitUntilGone(absl::Duration timeout) const {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      const std::vector<pid_t> pids = Processes();
      if (pids.empty()) return true;
      const absl::Duration left = deadline - absl::Now();
      if (left <= absl::ZeroDuration()) return false;
      std::vector<pollfd> fds;
      bool one_gone = false;
      for (pid_t pid : pids) {
        const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
        if (fd >= 0) fds.push_back({fd, POLLIN, 0});
        one_gone = one_gone || (fd < 0 && errno == ESRCH);
      }
      if (!one_gone) {
        poll(
            fds.data(), fds.size(),
            absl::ToInt64Milliseconds(std::min(left, absl::Milliseconds(100))));
      }
      for (const pollfd& fd : fds) close(fd.fd);
    }
  }

 private:
  ::quarry::testing::TempDir dir_;
  std::string path_;
};

// The children of `parent` (from /proc/<pid>/stat).
inline std::vector<pid_t> ChildrenOf(pid_t parent) {
  std::vector<pid_t> children;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return children;
  for (dirent* entry; (entry = readdir(proc)) != nullptr;) {
    pid_t pid = 0;
    if (!absl::SimpleAtoi(entry->d_name, &pid)) continue;
    const std::string stat = ReadProcFile(absl::StrCat("/proc/", pid, "/stat"));
    const size_t name_end = stat.rfind(')');  // "pid (name) S ppid ...".
    pid_t ppid = 0;
    if (name_end != std::string::npos &&
        sscanf(stat.c_str() + name_end + 1, " %*c %d", &ppid) == 1 &&
        ppid == parent) {
      children.push_back(pid);
    }
  }
  closedir(proc);
  return children;
}

// Waits up to `timeout` for our child `pid` to end, reaps it and returns
// its wait status, or -1.
inline int ReapWithin(pid_t pid, absl::Duration timeout) {
  const int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return -1;
  pollfd ended = {fd, POLLIN, 0};
  poll(&ended, 1, absl::ToInt64Milliseconds(timeout));
  close(fd);
  int status = 0;
  return waitpid(pid, &status, WNOHANG) == pid ? status : -1;
}

}  // namespace quarry::worker::exec_testing

#endif  // QUARRY_TESTS_WORKER_EXEC_PROCESS_TEST_UTIL_H_

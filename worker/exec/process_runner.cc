#include "worker/exec/process_runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "worker/exec/process_internal.h"
#include "worker/exec/process_shim.h"
#include "worker/file_util.h"

namespace quarry::worker {
namespace {

using exec_internal::CStrings;
using exec_internal::DescribeWaitStatus;
using exec_internal::ExecPaths;
using exec_internal::Quoted;
using exec_internal::ShimReport;
using exec_internal::StageText;
using exec_internal::StderrSink;

constexpr size_t kReadChunkBytes = 64 * 1024;
// How often the loop looks at `cancel` (CancelFlag has no descriptor).
constexpr absl::Duration kPollInterval = absl::Milliseconds(50);
// How long the shim waits for SIGKILLed descendants to be reaped.
constexpr absl::Duration kReapTimeout = absl::Seconds(5);
// After the shim is gone: how long stdout/stderr may stay open (only a
// process that escaped the shim can hold them).
constexpr absl::Duration kDrainAfterShim = absl::Seconds(1);
// Beyond its own deadlines, how long the shim may take before it is
// SIGKILLed (a safety net; it never should).
constexpr absl::Duration kShimSlack = absl::Seconds(5);

// Owns one file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    Reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  void Reset(int fd = -1) {
    if (fd_ >= 0) close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// The children dup2 their descriptors onto 0..2, so those must be >= 3.
absl::StatusOr<Fd> DupAboveStdio(int fd, absl::string_view what) {
  const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (copy < 0) {
    return ErrnoToStatus(errno, absl::StrCat("cannot duplicate ", what));
  }
  return Fd(copy);
}

// A CLOEXEC pipe: a non-blocking read end (ours) and a write end >= 3.
absl::Status MakePipe(absl::string_view what, Fd* read_end, Fd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return ErrnoToStatus(errno,
                         absl::StrCat("cannot create the ", what, " pipe"));
  }
  read_end->Reset(fds[0]);
  write_end->Reset(fds[1]);
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  if (write_end->get() < 3) {
    absl::StatusOr<Fd> copy = DupAboveStdio(write_end->get(), what);
    if (!copy.ok()) return copy.status();
    *write_end = *std::move(copy);
  }
  return absl::OkStatus();
}

// Watches one started shim: reads the program's stdout and stderr and the
// shim's reports, forwards cancellation (SIGTERM to the shim, which signals
// the program's group) and reaps the shim. Owns the read ends and the
// shim's pid; used by the one RunProcess call (its thread) that made it.
class Supervision {
 public:
  Supervision(const ProcessSpec& spec, pid_t shim, Fd stdout_read,
              Fd stderr_read, Fd report_read,
              absl::FunctionRef<absl::Status(absl::string_view)> on_stdout,
              absl::FunctionRef<void(absl::string_view)> on_stderr_line)
      : spec_(spec),
        shim_(shim),
        stdout_(std::move(stdout_read)),
        stderr_(std::move(stderr_read)),
        report_(std::move(report_read)),
        on_stdout_(on_stdout),
        stderr_sink_(on_stderr_line) {}

  // Returns once the shim has exited and been reaped. Each round blocks for
  // at most kPollInterval. The shim ends with the program (whose life the
  // caller bounds with `cancel`) and is SIGKILLed if it outlives its own
  // deadlines once a stop was requested or the program's end reported.
  void Run(const CancelFlag& cancel) {
    std::string buffer(kReadChunkBytes, '\0');
    for (;;) {
      const absl::Time now = absl::Now();
      if (!cancelled_ && cancel.cancelled()) {
        cancelled_ = true;
        RequestStop(now);
      }
      if (!shim_killed_ && now >= shim_deadline_) {
        LOG(ERROR) << "the supervisor (pid " << shim_ << ") of "
                   << Quoted(spec_.argv[0]) << " overran; SIGKILL";
        kill(shim_, SIGKILL);
        shim_killed_ = true;
      }
      if (report_.get() < 0 && ((stdout_.get() < 0 && stderr_.get() < 0) ||
                                now >= drain_deadline_)) {
        break;
      }
      pollfd fds[3];
      Fd* owners[3];
      int count = 0;
      for (Fd* fd : {&stdout_, &stderr_, &report_}) {
        if (fd->get() < 0) continue;
        fds[count] = {fd->get(), POLLIN, 0};
        owners[count++] = fd;
      }
      if (poll(fds, count, absl::ToInt64Milliseconds(kPollInterval)) < 0 &&
          errno != EINTR) {
        internal_error_ = ErrnoToStatus(errno, "poll");
        kill(shim_, SIGKILL);  // The program follows (parent-death signal).
        break;
      }
      for (int i = 0; i < count; ++i) {
        if (fds[i].revents == 0) continue;
        const ssize_t size = read(fds[i].fd, buffer.data(), buffer.size());
        if (size < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (size <= 0) {  // EOF (or an error: treated alike).
          owners[i]->Reset();
          if (owners[i] == &report_) drain_deadline_ = now + kDrainAfterShim;
          continue;
        }
        const absl::string_view data(buffer.data(), size);
        if (owners[i] == &stdout_) {
          OnStdout(data, now);
        } else if (owners[i] == &stderr_) {
          stderr_sink_.Append(data);
        } else {
          OnReports(data, now);
        }
      }
    }
    Reap();
  }

  absl::StatusOr<ProcessResult> Result(const std::string& path_searched) {
    const std::string program = Quoted(spec_.argv[0]);
    if (start_failure_.has_value()) {
      const int error = start_failure_->value;
      const std::string message =
          absl::StrCat("cannot start ", program, ": ",
                       StageText(start_failure_->stage, start_failure_->detail,
                                 spec_, path_searched));
      if (error == ENOEXEC || error == E2BIG) {  // Not the worker's fault.
        return absl::FailedPreconditionError(
            absl::StrCat(message, ": ", strerror(error)));
      }
      return ErrnoToStatus(error, message);
    }
    if (cancelled_) {
      return absl::CancelledError(absl::StrCat(program, " cancelled"));
    }
    if (!stdout_error_.ok()) return stdout_error_;
    if (!internal_error_.ok()) return internal_error_;
    if (!exit_status_.has_value()) {
      return absl::InternalError(
          absl::StrCat("the supervisor of ", program, " ended (",
                       DescribeWaitStatus(shim_status_),
                       ") without reporting how the program ended"));
    }
    ProcessResult result;
    result.wait_status = *exit_status_;
    result.stderr_tail = stderr_sink_.Tail();
    result.cpu_time = cpu_time_;
    result.stdout_limit_exceeded = stdout_limit_exceeded_;
    return result;
  }

 private:
  void RequestStop(absl::Time now) {
    if (stop_requested_) return;
    stop_requested_ = true;
    kill(shim_, SIGTERM);
    shim_deadline_ = std::min(
        shim_deadline_, now + spec_.kill_grace + kReapTimeout + kShimSlack);
  }

  void OnStdout(absl::string_view data, absl::Time now) {
    if (cancelled_ || !stdout_error_.ok() || stdout_limit_exceeded_) {
      return;  // Drained and dropped.
    }
    if (spec_.max_stdout_bytes.has_value() &&
        data.size() > *spec_.max_stdout_bytes - stdout_bytes_) {
      data = data.substr(0, *spec_.max_stdout_bytes - stdout_bytes_);
      stdout_limit_exceeded_ = true;
      RequestStop(now);
    }
    stdout_bytes_ += data.size();
    absl::Status status = data.empty() ? absl::OkStatus() : on_stdout_(data);
    if (!status.ok()) {
      stdout_error_ = std::move(status);
      RequestStop(now);
    }
  }

  void OnReports(absl::string_view data, absl::Time now) {
    reports_.append(data.data(), data.size());
    size_t used = 0;
    for (; reports_.size() - used >= sizeof(ShimReport);
         used += sizeof(ShimReport)) {
      ShimReport report;
      memcpy(&report, reports_.data() + used, sizeof(report));
      if (report.type == exec_internal::kReportStartFailed) {
        if (!start_failure_.has_value()) start_failure_ = report;
      } else if (report.type == exec_internal::kReportExited) {
        exit_status_ = report.value;
        cpu_time_ = absl::Nanoseconds(report.cpu_ns);
        shim_deadline_ =
            std::min(shim_deadline_, now + kReapTimeout + kShimSlack);
      }
    }
    reports_.erase(0, used);
  }

  void Reap() {
    stderr_sink_.Finish();
    pid_t reaped = -1;
    for (int attempt = 0; attempt < 100; ++attempt) {
      reaped = waitpid(shim_, &shim_status_, 0);
      if (reaped >= 0 || errno != EINTR) break;
    }
    if (reaped != shim_) {
      PLOG(ERROR) << "cannot reap the supervisor (pid " << shim_ << ")";
    } else if (WIFEXITED(shim_status_) &&
               WEXITSTATUS(shim_status_) == exec_internal::kShimExitLeftovers) {
      LOG(WARNING) << "descendants of " << Quoted(spec_.argv[0])
                   << " outlived the supervisor's reap deadline of "
                   << absl::FormatDuration(kReapTimeout);
    }
  }

  const ProcessSpec& spec_;
  const pid_t shim_;
  Fd stdout_;  // Closed when not captured, and at EOF.
  Fd stderr_;
  Fd report_;
  const absl::FunctionRef<absl::Status(absl::string_view)> on_stdout_;
  StderrSink stderr_sink_;
  std::string reports_;  // Bytes of a report not yet complete.
  bool cancelled_ = false;
  bool stop_requested_ = false;
  bool shim_killed_ = false;
  absl::Time shim_deadline_ = absl::InfiniteFuture();
  absl::Time drain_deadline_ = absl::InfiniteFuture();
  absl::Status stdout_error_;
  absl::Status internal_error_;
  std::optional<ShimReport> start_failure_;
  std::optional<int> exit_status_;
  absl::Duration cpu_time_;
  uint64_t stdout_bytes_ = 0;  // Passed to on_stdout.
  bool stdout_limit_exceeded_ = false;
  int shim_status_ = 0;
};

}  // namespace

absl::StatusOr<ProcessResult> RunProcess(
    const ProcessSpec& spec, const CancelFlag& cancel,
    absl::FunctionRef<absl::Status(absl::string_view)> on_stdout,
    absl::FunctionRef<void(absl::string_view)> on_stderr_line) {
  if (absl::Status valid = exec_internal::ValidateSpec(spec); !valid.ok()) {
    return valid;
  }
  if (cancel.cancelled()) {
    return absl::CancelledError(
        absl::StrCat(Quoted(spec.argv[0]), " cancelled before it started"));
  }
  // Everything the children use is prepared now: they must not allocate.
  std::string path_searched;
  const std::vector<std::string> exec_paths = ExecPaths(spec, &path_searched);
  const std::vector<char*> argv = CStrings(spec.argv);
  const std::vector<char*> envp = CStrings(spec.env);
  const std::vector<char*> paths = CStrings(exec_paths);

  Fd dev_null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (dev_null.get() < 0) return ErrnoToStatus(errno, "cannot open /dev/null");
  absl::StatusOr<Fd> stdin_fd = DupAboveStdio(dev_null.get(), "/dev/null");
  if (!stdin_fd.ok()) return stdin_fd.status();
  dev_null.Reset();
  Fd stdout_read, stdout_write, stderr_read, stderr_write, report_read,
      report_write;
  if (spec.stdout_fd < 0) {
    if (absl::Status s = MakePipe("stdout", &stdout_read, &stdout_write);
        !s.ok()) {
      return s;
    }
  } else {
    const int flags = fcntl(spec.stdout_fd, F_GETFL);
    if (flags < 0 || (flags & O_ACCMODE) == O_RDONLY) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stdout_fd ", spec.stdout_fd, " is not open for writing"));
    }
    absl::StatusOr<Fd> copy = DupAboveStdio(
        spec.stdout_fd, absl::StrCat("stdout_fd ", spec.stdout_fd));
    if (!copy.ok()) return copy.status();
    stdout_write = *std::move(copy);
  }
  if (absl::Status s = MakePipe("stderr", &stderr_read, &stderr_write);
      !s.ok()) {
    return s;
  }
  if (absl::Status s = MakePipe("report", &report_read, &report_write);
      !s.ok()) {
    return s;
  }

  exec_internal::ChildPlan plan;
  plan.worker_pid = getpid();
  plan.argv = argv.data();
  plan.envp = envp.data();
  plan.exec_paths = paths.data();
  plan.working_dir = spec.working_dir.c_str();
  plan.stdin_fd = stdin_fd->get();
  plan.stdout_fd = stdout_write.get();
  plan.stderr_fd = stderr_write.get();
  plan.report_fd = report_write.get();
  plan.set_ids = spec.uid.has_value();
  plan.uid = spec.uid.value_or(0);
  plan.gid = spec.gid.value_or(0);
  const std::vector<exec_internal::ChildLimit> limits =
      exec_internal::ChildLimits(spec);
  for (const exec_internal::ChildLimit& limit : limits) {
    if (plan.limit_count < exec_internal::kMaxChildLimits) {
      plan.limits[plan.limit_count++] = limit;
    }
  }
  plan.kill_grace_ns = absl::ToInt64Nanoseconds(spec.kill_grace);
  plan.reap_timeout_ns = absl::ToInt64Nanoseconds(kReapTimeout);

  // No signal handler may run in the child before it blocks them all.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  const pid_t shim = fork();
  if (shim == 0) exec_internal::RunShim(plan);
  const int fork_error = errno;
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (shim < 0) {
    return ErrnoToStatus(fork_error, absl::StrCat("cannot fork to start ",
                                                  Quoted(spec.argv[0])));
  }
  // Only the children hold the write ends now: EOF comes when they end.
  stdin_fd->Reset();
  stdout_write.Reset();
  stderr_write.Reset();
  report_write.Reset();
  Supervision supervision(spec, shim, std::move(stdout_read),
                          std::move(stderr_read), std::move(report_read),
                          on_stdout, on_stderr_line);
  supervision.Run(cancel);
  return supervision.Result(path_searched);
}

}  // namespace quarry::worker

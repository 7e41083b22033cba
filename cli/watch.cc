#include "cli/watch.h"

#include <algorithm>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "cli/format.h"
#include "common/auth.h"

namespace quarry::cli {
namespace {

using quarry::v1::Job;

constexpr absl::Duration kInitialBackoff = absl::Milliseconds(100);
constexpr absl::Duration kMaxBackoff = absl::Seconds(5);
// Poll interval when the leader has no WatchJob.
constexpr absl::Duration kPollInterval = absl::Milliseconds(500);
// Erases from the cursor to the end of the line.
constexpr absl::string_view kClearToEol = "\x1b[K";

// Codes after which following the job can go on: the leader is away, the
// stream was cut, or a leader failover is under way.
bool IsRetryable(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return true;
    default:
      return false;
  }
}

absl::Duration Backoff(int failures) {
  absl::Duration backoff = kInitialBackoff;
  for (int i = 1; i < failures && backoff < kMaxBackoff; ++i) backoff *= 2;
  return std::min(backoff, kMaxBackoff);
}

// Shows a job's progress on ctx.err. On a terminal it redraws one line in
// place, and a ticker thread redraws it every ctx.redraw_interval so the
// elapsed time moves between events; otherwise it prints one line per
// change of state or task counts. Thread-safe: Update() and Finish() come
// from the following thread, redraws from the ticker; all under mu_.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(CommandContext& ctx) : ctx_(ctx) {
    if (ctx_.err_is_tty) ticker_ = std::thread([this] { TickerLoop(); });
  }
  ~ProgressPrinter() { Finish(nullptr); }

  void Update(const Job& job) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (ctx_.err_is_tty) {
      job_ = job;
      DrawLocked();
      return;
    }
    // The final line is printed by Finish().
    // One line per visible change (the elapsed time aside).
    const std::string key = RenderStatusLine(job, absl::ZeroDuration());
    if (key == last_key_ || IsTerminal(job.state())) return;
    last_key_ = key;
    *ctx_.err << RenderStatusLine(job, absl::Now() - start_) << "\n";
    ctx_.err->flush();
  }

  // Stops the ticker, clears the live line and prints `final_job`'s state
  // line if it is not null. Later calls do nothing.
  void Finish(const Job* final_job) ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      finished_ = true;
    }
    if (ticker_.joinable()) ticker_.join();
    absl::MutexLock lock(&mu_);
    if (drawn_) *ctx_.err << "\r" << kClearToEol;
    if (final_job != nullptr) {
      *ctx_.err << RenderStatusLine(*final_job, absl::Now() - start_) << "\n";
    }
    ctx_.err->flush();
  }

 private:
  void TickerLoop() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    while (!finished_) {
      mu_.AwaitWithTimeout(absl::Condition(&finished_), ctx_.redraw_interval);
      if (!finished_ && job_.has_value()) DrawLocked();
    }
  }

  void DrawLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    *ctx_.err << "\r"
              << RenderProgressLine(*job_, ctx_.terminal_width,
                                    absl::Now() - start_)
              << kClearToEol;
    ctx_.err->flush();
    drawn_ = true;
  }

  CommandContext& ctx_;
  const absl::Time start_ = absl::Now();
  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<Job> job_ ABSL_GUARDED_BY(mu_);
  bool drawn_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_key_ ABSL_GUARDED_BY(mu_);
  std::thread ticker_;
};

// The loop behind FollowJob: one WatchJob stream (or GetJob poll) after
// another until the job ends. Not thread-safe; lives on the caller's stack.
class JobFollower {
 public:
  JobFollower(LeaderClient& leader, std::string job_id, absl::Duration timeout,
              ProgressPrinter& printer, CommandContext& ctx)
      : leader_(leader),
        job_id_(std::move(job_id)),
        timeout_(timeout),
        deadline_(absl::Now() + timeout),
        printer_(printer),
        ctx_(ctx) {}

  absl::StatusOr<Job> Run() {
    bool use_stream = true;
    int failures = 0;
    while (true) {
      absl::Status status = use_stream ? WatchOnce() : PollOnce();
      if (Finished()) return *last_;
      if (use_stream && absl::IsUnimplemented(status)) {
        use_stream = false;  // E.g. a proxy without streaming: poll GetJob.
        status = absl::OkStatus();
      } else if (use_stream && status.ok()) {
        status = absl::UnavailableError("the WatchJob stream ended early");
      }
      if (!status.ok() && !IsRetryable(status)) return status;
      if (absl::Now() >= deadline_) {
        return absl::DeadlineExceededError(
            absl::StrCat("gave up waiting for job ", job_id_, " after ",
                         HumanDuration(timeout_), " (--wait-timeout)"));
      }
      if (!status.ok()) {
        if (progressed_) failures = 0;
        progressed_ = false;
        if (++failures > kMaxWatchRetries) {
          return absl::UnavailableError(
              absl::StrCat("lost job ", job_id_, " after ", kMaxWatchRetries,
                           " retries; last error: ", status.ToString()));
        }
      }
      ctx_.sleep(std::min(status.ok() ? kPollInterval : Backoff(failures),
                          deadline_ - absl::Now()));
      if (use_stream) {
        // The job may have ended while the stream was down.
        const absl::Status polled = PollOnce();
        if (Finished()) return *last_;
        if (!polled.ok() && !IsRetryable(polled)) return polled;
      }
    }
  }

 private:
  bool Finished() const {
    return last_.has_value() && IsTerminal(last_->state());
  }

  void Observe(const Job& job) {
    if (last_.has_value() && (last_->state() != job.state() ||
                              last_->task_counts().SerializeAsString() !=
                                  job.task_counts().SerializeAsString())) {
      progressed_ = true;
    }
    last_ = job;
    printer_.Update(job);
  }

  // Reads one WatchJob stream to its end (or to a terminal event).
  absl::Status WatchOnce() {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(deadline_));
    AddToken(leader_.token(), context);
    quarry::v1::WatchJobRequest request;
    request.set_job_id(job_id_);
    std::unique_ptr<grpc::ClientReader<quarry::v1::JobEvent>> reader =
        leader_.jobs().WatchJob(&context, request);
    quarry::v1::JobEvent event;
    while (reader->Read(&event)) {
      Observe(event.job());
      if (Finished()) {
        context.TryCancel();  // Do not wait for the server to close.
        reader->Finish();
        return absl::OkStatus();
      }
    }
    return leader_.Check(reader->Finish());
  }

  absl::Status PollOnce() {
    quarry::v1::GetJobRequest request;
    request.set_job_id(job_id_);
    quarry::v1::GetJobResponse response;
    const absl::Status status = leader_.Unary(
        [&](grpc::ClientContext* context) {
          return leader_.jobs().GetJob(context, request, &response);
        },
        deadline_);
    if (status.ok()) Observe(response.job());
    return status;
  }

  LeaderClient& leader_;
  const std::string job_id_;
  const absl::Duration timeout_;
  const absl::Time deadline_;
  ProgressPrinter& printer_;
  CommandContext& ctx_;
  std::optional<Job> last_;
  // The state or task counts changed since the last failure.
  bool progressed_ = false;
};

}  // namespace

absl::StatusOr<Job> FollowJob(LeaderClient& leader, const std::string& job_id,
                              absl::Duration wait_timeout,
                              CommandContext& ctx) {
  ProgressPrinter printer(ctx);
  JobFollower follower(leader, job_id, wait_timeout, printer, ctx);
  absl::StatusOr<Job> job = follower.Run();
  printer.Finish(job.ok() ? &*job : nullptr);
  return job;
}

}  // namespace quarry::cli

#include "worker/reporter.h"

#include <glog/logging.h>

#include <algorithm>
#include <utility>

namespace quarry::worker {
namespace {

// Logs the first failure of a streak, then every tenth.
bool ShouldLogFailure(int failures) {
  return failures == 1 || failures % 10 == 0;
}

}  // namespace

Reporter::Reporter(Options options, LeaderClient* leader,
                   RegisteredCallback on_registered)
    : options_(std::move(options)),
      leader_(leader),
      on_registered_(std::move(on_registered)) {
  absl::MutexLock lock(&mu_);
  stats_.heartbeat_interval = options_.default_heartbeat;
}

Reporter::~Reporter() { Stop(); }

void Reporter::Start() {
  CHECK(!thread_.joinable()) << "Reporter::Start called twice";
  thread_ = std::thread([this] { Run(); });
}

void Reporter::Enqueue(const quarry::v1::AttemptStatus& status,
                       bool more_coming) {
  absl::MutexLock lock(&mu_);
  pending_.push_back(status);
  ++enqueued_;
  if (!more_coming) {
    holding_ = false;
  } else if (!holding_) {
    holding_ = true;
    hold_until_ = absl::Now() + options_.coalesce_window;
  }
}

void Reporter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  // Don't wait out the deadline of a call to a leader that does not
  // answer; a report cut short this way is resent by the final report.
  leader_->CancelCallsInFlight();
  if (thread_.joinable()) thread_.join();
}

void Reporter::RegisterAgain(int64_t registrations) {
  absl::MutexLock lock(&mu_);
  if (stats_.registrations <= registrations) register_again_ = true;
}

void Reporter::SetDraining() {
  absl::MutexLock lock(&mu_);
  stats_.draining = true;
  report_now_ = true;
}

bool Reporter::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  // A report already in flight may have been built before this call.
  const int64_t wanted = reports_started_ + 1;
  report_now_ = true;
  auto done = [this, wanted]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return last_acknowledged_report_ >= wanted &&
           stats_.acknowledged >= enqueued_;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

bool Reporter::stopping() const {
  absl::MutexLock lock(&mu_);
  return stopping_;
}

bool Reporter::WaitForAcknowledged(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto done = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stats_.acknowledged >= enqueued_;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

Reporter::Stats Reporter::stats() const {
  absl::MutexLock lock(&mu_);
  return stats_;
}

bool Reporter::SleepUnlessStopping(absl::Duration delay) {
  absl::MutexLock lock(&mu_);
  mu_.AwaitWithTimeout(absl::Condition(&stopping_), delay);
  return stopping_;
}

void Reporter::TakePending(std::vector<quarry::v1::AttemptStatus>& batch) {
  while (!pending_.empty() && batch.size() < options_.max_batch) {
    batch.push_back(std::move(pending_.front()));
    pending_.pop_front();
  }
}

bool Reporter::TryRegister(int& failures) {
  quarry::v1::RegisterWorkerRequest request = options_.registration;
  if (options_.current_attempts) {
    for (quarry::v1::AttemptStatus& status : options_.current_attempts()) {
      *request.add_attempts() = std::move(status);
    }
  }
  absl::StatusOr<quarry::v1::RegisterWorkerResponse> response =
      leader_->RegisterWorker(request, options_.rpc_timeout);
  if (response.ok() && options_.fence != nullptr) {
    if (absl::Status current = options_.fence->Admit(response->leader_epoch());
        !current.ok()) {
      response = current;
    }
  }
  if (!response.ok()) {
    ++failures;
    if (ShouldLogFailure(failures) && !stopping()) {
      LOG(WARNING) << "cannot register worker "
                   << options_.registration.worker_id() << " (try " << failures
                   << "): " << response.status();
    }
    absl::MutexLock lock(&mu_);
    ++stats_.calls_failed;
    return false;
  }
  const absl::Duration heartbeat =
      response->heartbeat_interval_ms() > 0
          ? absl::Milliseconds(response->heartbeat_interval_ms())
          : options_.default_heartbeat;
  LOG(INFO) << "worker " << options_.registration.worker_id()
            << " registered with the leader; heartbeat every " << heartbeat;
  int64_t registrations = 0;
  {
    absl::MutexLock lock(&mu_);
    stats_.registered = true;
    registrations = ++stats_.registrations;
    stats_.heartbeat_interval = heartbeat;
    register_again_ = false;  // Done: this registration is the new one.
  }
  if (on_registered_) on_registered_(registrations);
  return true;
}

absl::Status Reporter::SendReport(
    const std::vector<quarry::v1::AttemptStatus>& batch, int64_t seq,
    absl::Duration timeout) {
  quarry::v1::ReportWorkerStateRequest request;
  request.set_worker_id(options_.registration.worker_id());
  {
    absl::MutexLock lock(&mu_);
    request.set_draining(stats_.draining);
  }
  request.mutable_attempts()->Reserve(static_cast<int>(batch.size()));
  for (const quarry::v1::AttemptStatus& status : batch) {
    *request.add_attempts() = status;
  }
  const absl::Status status = leader_->ReportWorkerState(request, timeout);
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    ++stats_.reports_ok;
    stats_.acknowledged += static_cast<int64_t>(batch.size());
    last_acknowledged_report_ = std::max(last_acknowledged_report_, seq);
  } else {
    ++stats_.calls_failed;
    ++stats_.reports_failed;
  }
  return status;
}

void Reporter::Run() {
  // Attempts sent (or about to be) but not yet acknowledged. Owned by this
  // thread; kept across failed calls.
  std::vector<quarry::v1::AttemptStatus> batch;
  absl::Duration backoff = options_.initial_backoff;
  absl::Time last_report = absl::InfinitePast();
  int failures = 0;  // Consecutive failed calls.
  bool registered = false;
  while (true) {
    if (!registered) {
      if (stopping()) break;
      if (!TryRegister(failures)) {
        if (SleepUnlessStopping(backoff)) break;
        backoff = std::min(backoff * 2, options_.max_backoff);
        continue;
      }
      registered = true;
      last_report = absl::InfinitePast();  // Report (and resend) at once.
    }
    absl::Duration heartbeat;
    int64_t seq = 0;
    {
      absl::MutexLock lock(&mu_);
      heartbeat = stats_.heartbeat_interval;
      if (batch.empty()) {
        auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !pending_.empty() || stopping_ || report_now_ ||
                 register_again_;
        };
        mu_.AwaitWithDeadline(absl::Condition(&has_work),
                              last_report + heartbeat);
        // More completions announced: wait for them, briefly.
        auto released = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return !holding_ || stopping_ || report_now_ || register_again_;
        };
        if (holding_) {
          mu_.AwaitWithDeadline(absl::Condition(&released), hold_until_);
        }
        holding_ = false;
      }
      if (stopping_) break;
      if (register_again_) {
        LOG(WARNING) << "the leader does not know worker "
                     << options_.registration.worker_id()
                     << " (its command stream says); registering again";
        register_again_ = false;
        registered = false;
        stats_.registered = false;
        continue;
      }
      report_now_ = false;
      TakePending(batch);
      seq = ++reports_started_;
    }
    const absl::Status status = SendReport(batch, seq, options_.rpc_timeout);
    if (status.ok()) {
      if (failures > 0) {
        LOG(INFO) << "reporting to the leader again after " << failures
                  << " failed calls";
      }
      failures = 0;
      backoff = options_.initial_backoff;
      last_report = absl::Now();
      batch.clear();
      continue;
    }
    ++failures;
    if (absl::IsNotFound(status)) {
      LOG(WARNING) << "the leader does not know worker "
                   << options_.registration.worker_id()
                   << "; registering again (" << status << ")";
      registered = false;
      {
        absl::MutexLock lock(&mu_);
        stats_.registered = false;
      }
      // A leader that forgets us right after registering must not make us
      // spin: back off from the second NOT_FOUND in a row on.
      if (failures == 1) continue;
    } else if (ShouldLogFailure(failures) && !stopping()) {
      LOG(WARNING) << "cannot report to the leader (try " << failures << ", "
                   << batch.size() << " attempts waiting): " << status;
    }
    if (SleepUnlessStopping(backoff)) break;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }

  // One last report of whatever is queued, so the leader need not wait for
  // a probe to learn how the last attempts ended.
  int64_t seq = 0;
  {
    absl::MutexLock lock(&mu_);
    TakePending(batch);
    seq = ++reports_started_;
  }
  if (registered && !batch.empty()) {
    const absl::Status status =
        SendReport(batch, seq, options_.final_report_timeout);
    if (!status.ok()) {
      LOG(WARNING) << "final report of " << batch.size()
                   << " attempts failed: " << status;
    }
  }
}

}  // namespace quarry::worker

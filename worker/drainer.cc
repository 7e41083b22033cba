#include "worker/drainer.h"

#include <glog/logging.h>

#include <utility>
#include <vector>

#include "absl/strings/str_join.h"

namespace quarry::worker {

Drainer::Drainer(Options options, std::string worker_id, SlotExecutor* executor,
                 Reporter* reporter, LeaderClient* leader)
    : options_(std::move(options)),
      worker_id_(std::move(worker_id)),
      executor_(executor),
      reporter_(reporter),
      leader_(leader) {}

void Drainer::Request(absl::string_view reason) {
  // Under mu_ throughout (the calls are quick and never call back), so
  // that Run() in another thread sees the drain fully started.
  absl::MutexLock lock(&mu_);
  if (requested_) return;
  requested_ = true;
  executor_->StartDraining();
  for (const quarry::v1::SlotState& slot : executor_->Snapshot().slots) {
    if (!slot.attempt_id().empty()) ++running_at_start_;
  }
  reporter_->SetDraining();
  LOG(INFO) << "worker " << worker_id_ << " draining (" << reason
            << "): no new attempts; " << running_at_start_
            << " running ones get up to " << options_.grace << " to finish";
}

void Drainer::SkipGrace() {
  Request("asked to stop at once");
  {
    absl::MutexLock lock(&mu_);
    skip_grace_ = true;
  }
  const std::vector<std::string> cancelled = executor_->CancelRunning();
  LOG(INFO) << "drain grace skipped: cancelling " << cancelled.size()
            << " running attempts" << (cancelled.empty() ? "" : ": ")
            << absl::StrJoin(cancelled, ", ");
}

bool Drainer::WaitForRequest(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(&requested_), timeout);
}

bool Drainer::requested() const {
  absl::MutexLock lock(&mu_);
  return requested_;
}

Drainer::Result Drainer::Run() {
  Request("drain started");
  Result result;
  bool skip = false;
  {
    absl::MutexLock lock(&mu_);
    skip = skip_grace_;
    result.running_at_start = running_at_start_;
  }
  // A SkipGrace() during the wait cancels the attempts, which ends it.
  if (!skip && !executor_->WaitUntilIdle(options_.grace)) {
    LOG(INFO) << "drain grace of " << options_.grace << " is over";
  }
  const std::vector<std::string> cancelled = executor_->CancelRunning();
  result.cancelled = static_cast<int>(cancelled.size());
  if (!cancelled.empty()) {
    LOG(INFO) << "cancelling " << cancelled.size()
              << " attempts still running (the leader runs them again "
                 "elsewhere): "
              << absl::StrJoin(cancelled, ", ");
  }
  // Joins the slot threads: every completion is now queued for the leader.
  executor_->Shutdown();
  // A worker the leader never knew has nothing to report and nothing to
  // leave.
  const bool registered = reporter_->stats().registrations > 0;
  if (registered) {
    result.final_report_acknowledged =
        reporter_->Flush(options_.final_report_timeout);
    if (!result.final_report_acknowledged) {
      LOG(WARNING) << "the leader did not acknowledge the final report in "
                   << options_.final_report_timeout;
    }
  }
  reporter_->Stop();
  if (!registered) {
    result.deregistered =
        absl::FailedPreconditionError("never registered with the leader");
  } else {
    quarry::v1::DeregisterWorkerRequest request;
    request.set_worker_id(worker_id_);
    result.deregistered =
        leader_->DeregisterWorker(request, options_.deregister_timeout);
  }
  if (result.deregistered.ok()) {
    LOG(INFO) << "worker " << worker_id_ << " drained ("
              << result.running_at_start << " attempts were running, "
              << result.cancelled << " cancelled) and left the cluster";
  } else {
    LOG(WARNING) << "worker " << worker_id_ << " drained but could not "
                 << "deregister: " << result.deregistered;
  }
  return result;
}

}  // namespace quarry::worker

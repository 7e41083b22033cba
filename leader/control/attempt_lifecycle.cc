#include "leader/control/attempt_lifecycle.h"

#include <glog/logging.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "leader/control/job_runtime.h"

namespace quarry {

using quarry::v1::ExecutionStatus;

void AttemptLifecycle::ApplyStatus(const std::string& worker_id,
                                   const quarry::v1::AttemptStatus& status) {
  AttemptRef* ref = attempts_.Find(status.attempt_id());
  if (ref == nullptr || ref->worker_id != worker_id) {
    VLOG(1) << "ignoring status of attempt " << status.attempt_id() << " from "
            << worker_id << " (not live there)";
    if (IsTerminal(status.status())) {
      workers_.ReleaseStalePlace(worker_id, status.attempt_id());
    }
    return;
  }
  switch (status.status()) {
    case quarry::v1::EXECUTION_STATUS_RUNNING:
      Confirm(worker_id, *ref, now_);
      break;
    case quarry::v1::EXECUTION_STATUS_DONE:
      End(status.attempt_id(), status.status(), "", false, &status);
      break;
    case quarry::v1::EXECUTION_STATUS_FAILED:
    case quarry::v1::EXECUTION_STATUS_LOST:
      End(status.attempt_id(), status.status(), status.error(),
          /*counts_as_failure=*/true, &status);
      break;
    case quarry::v1::EXECUTION_STATUS_CANCELLED:
      End(status.attempt_id(), status.status(),
          "the worker cancelled the attempt", false, &status);
      break;
    default:
      break;
  }
}

void AttemptLifecycle::Confirm(const std::string& worker_id, AttemptRef& ref,
                               absl::Time at) {
  if (!AttemptTable::Accept(ref, at)) return;
  // Its slot now shows RUNNING.
  if (WorkerRuntime* worker = workers_.Find(worker_id); worker != nullptr) {
    worker->slots_changed = true;
  }
  if (JobRuntime* job = jobs_.Find(ref.job_id);
      job != nullptr && !job->finished) {
    job->SetTaskStatus(ref.task_index, quarry::v1::EXECUTION_STATUS_RUNNING);
  }
}

void AttemptLifecycle::End(const std::string& attempt_id,
                           ExecutionStatus status, const std::string& error,
                           bool counts_as_failure,
                           const quarry::v1::AttemptStatus* report) {
  std::optional<AttemptRef> ref = attempts_.Take(attempt_id);
  if (!ref.has_value()) return;
  if (keep_history_) {
    effects_->ended_attempts.push_back(AttemptTable::HistoryRecord(
        attempt_id, *ref, status, error, report, now_));
  }
  if (WorkerRuntime* worker = workers_.Find(ref->worker_id)) {
    worker->Free(ref->slot, attempt_id);
  }
  switch (jobs_.EndAttempt(*ref, status, error, counts_as_failure, report,
                           options_.max_dispatches_per_task)) {
    case JobTable::Outcome::kIgnored:
    case JobTable::Outcome::kDone:
      return;
    case JobTable::Outcome::kFailed:
      if (counts_as_failure) ++counts_.attempts_failed;
      return;
    case JobTable::Outcome::kRetried:
      if (counts_as_failure) ++counts_.attempts_failed;
      LOG(INFO) << "attempt " << attempt_id << " ended "
                << quarry::v1::ExecutionStatus_Name(status) << " (" << error
                << "); task re-queued";
      ++counts_.attempts_retried;
      return;
  }
}

void AttemptLifecycle::LoseAll(const std::vector<std::string>& attempt_ids,
                               const std::string& why, bool counts_as_failure) {
  for (const std::string& attempt_id : attempt_ids) {
    End(attempt_id, quarry::v1::EXECUTION_STATUS_LOST, why, counts_as_failure);
  }
}

void AttemptLifecycle::HandleStartResult(StartResult result) {
  if (!result.response.ok()) {
    const std::string why =
        absl::StrCat("StartTasks on worker ", result.worker_id,
                     " failed: ", result.response.status().ToString());
    if (WorkerRuntime* worker = workers_.Find(result.worker_id)) {
      workers_.MarkUnreachable(*worker, why);
    }
    LoseAll(result.attempt_ids, why, /*counts_as_failure=*/false);
    return;
  }
  // The attempts run since the answer came, maybe a step before now.
  const absl::Time since = std::min(now_, result.received_at);
  for (const std::string& attempt_id :
       result.response->accepted_attempt_ids()) {
    AttemptRef* ref = attempts_.Find(attempt_id);
    if (ref == nullptr || ref->worker_id != result.worker_id) continue;
    Confirm(result.worker_id, *ref, since);
  }
  for (const auto& rejected : result.response->rejected()) {
    End(rejected.attempt_id(), quarry::v1::EXECUTION_STATUS_FAILED,
        absl::StrCat("worker ", result.worker_id,
                     " refused it: ", rejected.reason()),
        false);
  }
}

void AttemptLifecycle::HandleProbeResult(ProbeResult result) {
  WorkerRuntime* found = workers_.Find(result.worker_id);
  if (found == nullptr) return;
  WorkerRuntime& worker = *found;
  worker.probe_in_flight = false;
  if (!result.response.ok()) {
    workers_.MarkUnreachable(
        worker,
        absl::StrCat("probe failed: ", result.response.status().ToString()));
    return;
  }
  const quarry::v1::GetWorkerStateResponse& state = *result.response;
  worker.last_seen = now_;
  if (worker.unreachable) {
    LOG(INFO) << "worker " << worker.record.id() << " answers again";
    worker.unreachable = false;
    worker.problem.clear();
  }
  // Reconcile the attempts the leader placed there with what it reports.
  for (int32_t slot = 0;
       slot < static_cast<int32_t>(worker.slot_attempts.size()); ++slot) {
    const std::string attempt_id = worker.slot_attempts[slot];
    if (attempt_id.empty() || attempt_id[0] == '!') continue;
    auto known = state.attempts().find(attempt_id);
    if (known != state.attempts().end()) {
      ApplyStatus(worker.record.id(), known->second);
      continue;
    }
    const AttemptRef* ref = attempts_.Find(attempt_id);
    if (ref != nullptr && ref->accepted && ref->accepted_at < result.sent_at) {
      End(attempt_id, quarry::v1::EXECUTION_STATUS_LOST,
          absl::StrCat("worker ", worker.record.id(),
                       " no longer knows the attempt"),
          true);
    }
  }
  // Slots busy with work the leader does not run (from before a leader or
  // worker restart) are kept out of scheduling until they free up.
  workers_.ReconcileStalePlaces(
      worker, state.slot_states(),
      [this](const std::string& id) { return attempts_.contains(id); });
}

void AttemptLifecycle::EnforceTaskTimeouts() {
  if (!jobs_.AnyTaskTimeout()) return;  // The common case: no pass.
  const auto expired =
      attempts_.Expired(now_, [this](const std::string& job_id) {
        const JobRuntime* job = jobs_.Find(job_id);
        return job == nullptr || job->finished ? absl::ZeroDuration()
                                               : job->task_timeout;
      });
  std::map<std::string, quarry::v1::CancelTasksRequest> cancels;
  for (const auto& [attempt_id, limit] : expired) {
    const AttemptRef ref = *attempts_.Find(attempt_id);
    quarry::v1::CancelTasksRequest& request = cancels[ref.worker_id];
    request.set_worker_id(ref.worker_id);
    request.add_attempt_ids(attempt_id);
    End(attempt_id, quarry::v1::EXECUTION_STATUS_FAILED,
        absl::StrCat("timed out after ", absl::FormatDuration(limit),
                     " on worker ", ref.worker_id),
        /*counts_as_failure=*/true);
    if (ref.slot >= 0) {
      workers_.HoldPlaceUntilReported(ref.worker_id, ref.slot, attempt_id);
    }
  }
  AddCancels(std::move(cancels));
}

void AttemptLifecycle::FinishJob(JobRuntime& job, quarry::v1::JobState state,
                                 const std::string& error) {
  job.Finish(state, error, now_);
  effects_->state_changed = true;
  ++counts_.jobs_finished[state];
  AddCancels(attempts_.CancelsForJob(job.job.id()));
  LOG(INFO) << "job " << job.job.id() << " " << quarry::v1::JobState_Name(state)
            << (error.empty() ? "" : absl::StrCat(": ", error));
}

void AttemptLifecycle::AddCancels(
    std::map<std::string, quarry::v1::CancelTasksRequest> cancels) {
  for (auto& [worker_id, request] : cancels) {
    WorkerRuntime* worker = workers_.Find(worker_id);
    if (worker == nullptr) continue;
    effects_->cancels.push_back({worker->client, std::move(request)});
  }
}

}  // namespace quarry

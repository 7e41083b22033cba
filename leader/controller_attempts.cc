// The controller's attempt lifecycle: what happens when a worker confirms,
// finishes, fails, refuses or loses an attempt. All under mu_.
#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "leader/controller.h"
#include "leader/controller_state.h"

namespace quarry {

using quarry::v1::ExecutionStatus;

void Controller::SetTaskStatus(JobRuntime& job, int32_t index,
                               ExecutionStatus status) {
  TaskRuntime& task = job.tasks[index];
  if (task.execution_status() == status) return;
  AdjustTaskCounts(*job.job.mutable_task_counts(), task.execution_status(), -1);
  AdjustTaskCounts(*job.job.mutable_task_counts(), status, +1);
  task.status = static_cast<uint8_t>(status);
  job.dirty = true;
  job.MarkDirty(index);
}

void Controller::ApplyAttemptStatus(const std::string& worker_id,
                                    const quarry::v1::AttemptStatus& status,
                                    absl::Time now, Effects* effects) {
  auto it = attempts_.find(status.attempt_id());
  if (it == attempts_.end() || it->second.worker_id != worker_id) {
    VLOG(1) << "ignoring status of attempt " << status.attempt_id() << " from "
            << worker_id << " (not live there)";
    ReleaseStaleSlot(worker_id, status);
    return;
  }
  switch (status.status()) {
    case quarry::v1::EXECUTION_STATUS_RUNNING:
      if (!it->second.accepted) {
        it->second.accepted = true;
        it->second.accepted_at = now;
        // Its slot now shows RUNNING.
        if (auto w = workers_.find(worker_id); w != workers_.end()) {
          w->second->slots_changed = true;
        }
        if (JobRuntime* job = FindJob(it->second.job_id);
            job != nullptr && !job->finished) {
          SetTaskStatus(*job, it->second.task_index,
                        quarry::v1::EXECUTION_STATUS_RUNNING);
        }
      }
      break;
    case quarry::v1::EXECUTION_STATUS_DONE:
      EndAttempt(status.attempt_id(), status.status(), "", false, now, effects,
                 &status);
      break;
    case quarry::v1::EXECUTION_STATUS_FAILED:
    case quarry::v1::EXECUTION_STATUS_LOST:
      EndAttempt(status.attempt_id(), status.status(), status.error(),
                 /*counts_as_failure=*/true, now, effects, &status);
      break;
    case quarry::v1::EXECUTION_STATUS_CANCELLED:
      EndAttempt(status.attempt_id(), status.status(),
                 "the worker cancelled the attempt", false, now, effects,
                 &status);
      break;
    default:
      break;
  }
}

void Controller::EndAttempt(const std::string& attempt_id,
                            ExecutionStatus status, const std::string& error,
                            bool counts_as_failure, absl::Time now,
                            Effects* effects,
                            const quarry::v1::AttemptStatus* report) {
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) return;
  const AttemptRef ref = std::move(it->second);
  attempts_.erase(it);
  if (history_ != nullptr) {
    quarry::v1::AttemptRecord& record = effects->ended_attempts.emplace_back();
    record.set_attempt_id(attempt_id);
    record.set_job_id(ref.job_id);
    record.set_task_index(ref.task_index);
    record.set_worker_id(ref.worker_id);
    record.set_status(status);
    record.set_error(error);
    if (report != nullptr && report->has_start_time()) {
      *record.mutable_start_time() = report->start_time();
    } else if (ref.accepted) {
      *record.mutable_start_time() = ToProtoTime(ref.accepted_at);
    }
    *record.mutable_end_time() = report != nullptr && report->has_end_time()
                                     ? report->end_time()
                                     : ToProtoTime(now);
    if (report != nullptr) record.set_output_bytes(report->output_bytes());
  }

  if (auto worker = workers_.find(ref.worker_id); worker != workers_.end()) {
    std::vector<std::string>& slots = worker->second->slot_attempts;
    if (ref.slot >= 0 && ref.slot < static_cast<int32_t>(slots.size()) &&
        slots[ref.slot] == attempt_id) {
      slots[ref.slot].clear();
      ++worker->second->free_slots;
      worker->second->slots_changed = true;
    }
  }
  JobRuntime* job = FindJob(ref.job_id);
  if (job == nullptr) return;
  --job->live_attempts;
  if (job->finished) return;
  const int32_t index = ref.task_index;
  TaskRuntime& task = job->tasks[index];
  if (task.attempts != ref.attempt_number) return;  // Superseded.

  job->MarkDirty(index);
  if (status == quarry::v1::EXECUTION_STATUS_DONE) {
    job->errors.erase(index);
    if (report != nullptr && report->has_start_time() &&
        report->has_end_time()) {
      job->NoteRunTime(FromProtoTime(report->end_time()) -
                       FromProtoTime(report->start_time()));
    }
    if (report != nullptr) {
      if (!report->summary().empty()) job->summaries[index] = report->summary();
      task.output_bytes = report->output_bytes();
    }
    SetTaskStatus(*job, index, quarry::v1::EXECUTION_STATUS_DONE);
    if (!job->plan.is_reduce(index) && --job->maps_remaining == 0 &&
        job->plan.has_reduce) {
      job->queued.push_back(job->plan.map_count);
    }
    return;
  }
  job->errors[index] = error;
  if (counts_as_failure) {
    ++task.failed_attempts;
    ++counts_.attempts_failed;
  }
  const int32_t max_attempts = job->job.spec().max_attempts();
  std::string reason;
  if (task.failed_attempts >= max_attempts) {
    reason = absl::StrCat("failed ", task.failed_attempts, " of ", max_attempts,
                          " attempts, last: ", error);
  } else if (task.attempts >= max_attempts + options_.max_dispatches_per_task) {
    reason = absl::StrCat("could not be started in ", task.attempts,
                          " tries, last: ", error);
  }
  if (!reason.empty()) {
    const std::string inputs = job->plan.DescribeInputs(index);
    const std::string input =
        inputs.empty() ? "" : absl::StrCat(" (", inputs, ")");
    job->failure_reasons.push_back(
        absl::StrCat("task ", index, input, ": ", reason));
    SetTaskStatus(*job, index, quarry::v1::EXECUTION_STATUS_FAILED);
    return;
  }
  LOG(INFO) << "attempt " << attempt_id << " ended "
            << quarry::v1::ExecutionStatus_Name(status) << " (" << error
            << "); task re-queued";
  SetTaskStatus(*job, index, quarry::v1::EXECUTION_STATUS_PENDING);
  job->queued.push_front(index);  // Retries go first.
  ++counts_.attempts_retried;
}

void Controller::HandleStartResult(StartResult result, absl::Time now,
                                   Effects* effects) {
  if (!result.response.ok()) {
    const std::string why =
        absl::StrCat("StartTasks on worker ", result.worker_id,
                     " failed: ", result.response.status().ToString());
    if (auto it = workers_.find(result.worker_id); it != workers_.end()) {
      MarkWorkerUnreachable(*it->second, why);
    }
    for (const std::string& attempt_id : result.attempt_ids) {
      EndAttempt(attempt_id, quarry::v1::EXECUTION_STATUS_LOST, why, false, now,
                 effects);
    }
    return;
  }
  for (const std::string& attempt_id :
       result.response->accepted_attempt_ids()) {
    quarry::v1::AttemptStatus running;
    running.set_attempt_id(attempt_id);
    running.set_status(quarry::v1::EXECUTION_STATUS_RUNNING);
    // The attempt runs since the answer came, maybe a tick before now.
    ApplyAttemptStatus(result.worker_id, running,
                       std::min(now, result.received_at), effects);
  }
  for (const auto& rejected : result.response->rejected()) {
    EndAttempt(rejected.attempt_id(), quarry::v1::EXECUTION_STATUS_FAILED,
               absl::StrCat("worker ", result.worker_id,
                            " refused it: ", rejected.reason()),
               false, now, effects);
  }
}

void Controller::HandleProbeResult(ProbeResult result, absl::Time now,
                                   Effects* effects) {
  auto it = workers_.find(result.worker_id);
  if (it == workers_.end()) return;
  WorkerRuntime& worker = *it->second;
  worker.probe_in_flight = false;
  if (!result.response.ok()) {
    MarkWorkerUnreachable(
        worker,
        absl::StrCat("probe failed: ", result.response.status().ToString()));
    return;
  }
  const quarry::v1::GetWorkerStateResponse& state = *result.response;
  worker.last_seen = now;
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
      ApplyAttemptStatus(worker.record.id(), known->second, now, effects);
      continue;
    }
    auto ref = attempts_.find(attempt_id);
    if (ref != attempts_.end() && ref->second.accepted &&
        ref->second.accepted_at < result.sent_at) {
      EndAttempt(attempt_id, quarry::v1::EXECUTION_STATUS_LOST,
                 absl::StrCat("worker ", worker.record.id(),
                              " no longer knows the attempt"),
                 true, now, effects);
    }
  }
  // Slots busy with work the leader does not run (from before a leader or
  // worker restart) are kept out of scheduling until they free up.
  for (const quarry::v1::SlotState& slot : state.slot_states()) {
    if (slot.index() < 0 ||
        slot.index() >= static_cast<int32_t>(worker.slot_attempts.size())) {
      continue;
    }
    std::string& mine = worker.slot_attempts[slot.index()];
    const bool busy = !slot.attempt_id().empty() &&
                      slot.status() != quarry::v1::EXECUTION_STATUS_PENDING;
    if (busy && mine.empty() && !attempts_.contains(slot.attempt_id())) {
      mine = absl::StrCat("!", slot.attempt_id());
      --worker.free_slots;
      worker.slots_changed = true;
    } else if (!busy && !mine.empty() && mine[0] == '!') {
      mine.clear();
      ++worker.free_slots;
      worker.slots_changed = true;
    }
  }
}

void Controller::ReleaseStaleSlot(const std::string& worker_id,
                                  const quarry::v1::AttemptStatus& status) {
  auto worker = workers_.find(worker_id);
  if (worker == workers_.end() || !IsTerminal(status.status())) return;
  for (std::string& slot : worker->second->slot_attempts) {
    if (!slot.empty() && slot[0] == '!' &&
        absl::string_view(slot).substr(1) == status.attempt_id()) {
      slot.clear();
      ++worker->second->free_slots;
      worker->second->slots_changed = true;
    }
  }
}

void Controller::HoldSlotUntilReported(const std::string& worker_id,
                                       int32_t slot,
                                       const std::string& attempt_id) {
  auto worker = workers_.find(worker_id);
  if (worker == workers_.end() || slot < 0 ||
      slot >= static_cast<int32_t>(worker->second->slot_attempts.size())) {
    return;  // Gone, or registered again with fewer slots.
  }
  std::string& held = worker->second->slot_attempts[slot];
  if (!held.empty()) return;
  held = absl::StrCat("!", attempt_id);
  --worker->second->free_slots;
}

void Controller::HandleCancel(const std::string& job_id, absl::Time now,
                              Effects* effects) {
  JobRuntime* job = FindJob(job_id);
  if (job == nullptr || job->finished) return;
  FinishJob(*job, quarry::v1::JOB_STATE_CANCELLED, "cancelled by request", now,
            effects);
}

void Controller::MarkWorkerUnreachable(WorkerRuntime& worker,
                                       const std::string& why) {
  if (!worker.unreachable) {
    LOG(WARNING) << "worker " << worker.record.id()
                 << " gets no new work until it answers: " << why;
  }
  worker.unreachable = true;
  worker.problem = why;
}

void Controller::LoseWorkerAttempts(WorkerRuntime& worker,
                                    const std::string& why, absl::Time now,
                                    Effects* effects, bool counts_as_failure) {
  for (std::string attempt_id : worker.slot_attempts) {
    if (attempt_id.empty() || attempt_id[0] == '!') continue;
    EndAttempt(attempt_id, quarry::v1::EXECUTION_STATUS_LOST, why,
               counts_as_failure, now, effects);
  }
  for (std::string& slot : worker.slot_attempts) slot.clear();
  worker.free_slots = static_cast<int32_t>(worker.slot_attempts.size());
  dirty_workers_.insert(worker.record.id());
}

}  // namespace quarry

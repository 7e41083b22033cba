// Taking over after a leader restart: restoring jobs from the store and
// adopting the attempts that workers still run.
#include <glog/logging.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "leader/controller.h"
#include "leader/controller_state.h"

namespace quarry {

std::unique_ptr<Controller::JobRuntime> Controller::MakeJobRuntime(
    quarry::v1::Job job, std::vector<quarry::v1::Task> tasks) {
  auto runtime = std::make_unique<JobRuntime>();
  runtime->sequence = ParseJobId(job.id()).value_or(0);
  runtime->job = std::move(job);
  runtime->tasks = std::move(tasks);
  runtime->dispatches.assign(runtime->tasks.size(), 0);
  quarry::v1::TaskCounts& counts = *runtime->job.mutable_task_counts();
  counts.Clear();
  for (const quarry::v1::Task& task : runtime->tasks) {
    const int32_t index = task.index();
    runtime->dispatches[index] = task.attempts();
    AdjustTaskCounts(counts, task.status(), +1);
    if (task.is_reduce()) runtime->reduce_index = index;
    if (!task.is_reduce() && task.status() != quarry::v1::EXECUTION_STATUS_DONE) {
      ++runtime->maps_remaining;
    }
    switch (task.status()) {
      case quarry::v1::EXECUTION_STATUS_PENDING:
        if (!task.is_reduce()) runtime->runnable.push_back(index);
        break;
      case quarry::v1::EXECUTION_STATUS_ASSIGNED:
      case quarry::v1::EXECUTION_STATUS_RUNNING:
        attempts_[task.attempt_id()] = AttemptRef{
            runtime->job.id(), index, task.worker_id(), -1, false, {}};
        unadopted_[task.worker_id()].push_back(task.attempt_id());
        ++runtime->live_attempts;
        break;
      case quarry::v1::EXECUTION_STATUS_FAILED:
        runtime->failure_reasons.push_back(
            absl::StrCat("task ", index, ": ", task.error()));
        break;
      default:
        break;
    }
  }
  if (runtime->reduce_index >= 0 && runtime->maps_remaining == 0 &&
      runtime->tasks[runtime->reduce_index].status() ==
          quarry::v1::EXECUTION_STATUS_PENDING) {
    runtime->runnable.push_back(runtime->reduce_index);
  }
  return runtime;
}

absl::Status Controller::Restore(absl::Time now) {
  std::vector<std::pair<quarry::v1::Job, std::vector<quarry::v1::Task>>> jobs;
  for (quarry::v1::JobState state :
       {quarry::v1::JOB_STATE_PENDING, quarry::v1::JOB_STATE_RUNNING}) {
    std::string page_token;
    do {
      absl::StatusOr<JobPage> page = store_->ListJobs(state, 500, page_token);
      if (!page.ok()) return page.status();
      for (quarry::v1::Job& job : page->jobs) {
        absl::StatusOr<std::vector<quarry::v1::Task>> tasks =
            store_->GetTasks(job.id());
        if (!tasks.ok()) return tasks.status();
        jobs.emplace_back(std::move(job), *std::move(tasks));
      }
      page_token = page->next_page_token;
    } while (!page_token.empty());
  }
  absl::StatusOr<std::vector<quarry::v1::Worker>> workers =
      store_->ListWorkers();
  if (!workers.ok()) return workers.status();
  for (const quarry::v1::Worker& worker : *workers) {
    if (absl::Status deleted = store_->DeleteWorker(worker.id());
        !deleted.ok()) {
      return deleted;
    }
  }

  absl::MutexLock lock(&mu_);
  for (auto& [job, tasks] : jobs) {
    std::unique_ptr<JobRuntime> runtime =
        MakeJobRuntime(std::move(job), std::move(tasks));
    output_dirs_in_use_[runtime->job.spec().output_dir()] = runtime->job.id();
    runtime->dirty = true;  // Its counts were recomputed from its tasks.
    jobs_[runtime->sequence] = std::move(runtime);
  }
  output_dirs_in_use_.erase("");
  adopt_deadline_ = now + options_.adopt_within;
  LOG(INFO) << "restored " << jobs.size() << " unfinished jobs from the store; "
            << attempts_.size() << " running attempts wait for their workers";
  Wake();
  return absl::OkStatus();
}

void Controller::AdoptAttempts(
    WorkerRuntime& worker,
    const google::protobuf::RepeatedPtrField<quarry::v1::AttemptStatus>&
        reported,
    std::vector<std::string> expected) {
  const std::string& worker_id = worker.record.id();
  if (auto it = unadopted_.find(worker_id); it != unadopted_.end()) {
    expected.insert(expected.end(), it->second.begin(), it->second.end());
    unadopted_.erase(it);
  }
  const int32_t slots = static_cast<int32_t>(worker.slot_attempts.size());
  absl::flat_hash_set<std::string> kept;
  for (const quarry::v1::AttemptStatus& status : reported) {
    auto ref = attempts_.find(status.attempt_id());
    const bool ours = ref != attempts_.end() && ref->second.worker_id == worker_id;
    if (IsTerminal(status.status())) {
      if (!ours) continue;  // Ended long ago, or not the leader's business.
      ref->second.slot = -1;  // It holds no slot; its report ends it.
    } else {
      const int32_t slot = status.slot();
      if (slot < 0 || slot >= slots || !worker.slot_attempts[slot].empty()) {
        continue;
      }
      --worker.free_slots;
      if (!ours) {  // Work the leader does not run: the slot stays busy.
        worker.slot_attempts[slot] = absl::StrCat("!", status.attempt_id());
        continue;
      }
      worker.slot_attempts[slot] = status.attempt_id();
      if (ref->second.slot < 0) ref->second.accepted = false;
      ref->second.slot = slot;
    }
    kept.insert(status.attempt_id());
    reported_.emplace_back(worker_id, status);
  }
  int lost = 0;
  for (std::string& attempt_id : expected) {
    if (kept.contains(attempt_id)) continue;
    // Free the slot now (if it had one) so EndAttempt finds nothing stale.
    if (auto ref = attempts_.find(attempt_id); ref != attempts_.end()) {
      ref->second.slot = -1;
    }
    orphaned_.push_back(std::move(attempt_id));
    ++lost;
  }
  if (!kept.empty() || lost > 0) {
    LOG(INFO) << "worker " << worker_id << ": adopted " << kept.size()
              << " attempts, " << lost << " lost";
  }
}

void Controller::ExpireUnadopted(absl::Time now, Effects* effects) {
  if (unadopted_.empty() || now < adopt_deadline_) return;
  for (auto& [worker_id, attempt_ids] : unadopted_) {
    LOG(INFO) << "worker " << worker_id << " did not come back within "
              << absl::FormatDuration(options_.adopt_within)
              << " of the leader's restart: " << attempt_ids.size()
              << " attempts LOST";
    for (const std::string& attempt_id : attempt_ids) {
      EndAttempt(attempt_id, quarry::v1::EXECUTION_STATUS_LOST,
                 absl::StrCat("worker ", worker_id,
                              " did not come back after the leader restarted"),
                 /*counts_as_failure=*/false, now, effects);
    }
  }
  unadopted_.clear();
}

}  // namespace quarry

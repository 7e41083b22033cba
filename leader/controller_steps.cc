// The three steps of Controller::RunOnce, and the collection of store
// writes. All under mu_; nothing here blocks.
#include <glog/logging.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "leader/controller.h"
#include "leader/controller_state.h"
#include "leader/scheduler.h"

namespace quarry {

using quarry::v1::ExecutionStatus;
using quarry::v1::WorkerStatus;

// (1) Cluster health: silence turns a worker SUSPECT, then DEAD (its
// attempts are LOST); long-dead workers are forgotten; all are probed.
void Controller::UpdateClusterHealth(absl::Time now, Effects* effects) {
  ExpireUnadopted(now, effects);
  int lazy_writes = 0;
  for (auto it = workers_.begin(); it != workers_.end();) {
    WorkerRuntime& worker = *it->second;
    const absl::Duration silence = now - worker.last_seen;
    WorkerStatus status = quarry::v1::WORKER_STATUS_ALIVE;
    if (worker.disconnected || silence >= options_.dead_after) {
      status = quarry::v1::WORKER_STATUS_DEAD;
    } else if (silence >= options_.suspect_after || worker.unreachable) {
      status = quarry::v1::WORKER_STATUS_SUSPECT;
    } else if (worker.draining) {
      status = quarry::v1::WORKER_STATUS_DRAINING;
    }
    if (status != worker.record.status()) {
      LOG(INFO) << "worker " << worker.record.id() << " is now "
                << quarry::v1::WorkerStatus_Name(status) << " (silent for "
                << absl::FormatDuration(silence) << ")";
      worker.record.set_status(status);
      dirty_workers_.insert(worker.record.id());
      if (status == quarry::v1::WORKER_STATUS_DEAD) {
        LoseWorkerAttempts(
            worker,
            absl::StrCat("worker ", worker.record.id(), " died (silent for ",
                         absl::FormatDuration(silence), ")"),
            now, effects);
      }
    }
    if (status == quarry::v1::WORKER_STATUS_DEAD &&
        silence >= options_.forget_dead_after) {
      LOG(INFO) << "forgetting dead worker " << worker.record.id();
      forgotten_workers_.push_back(worker.record.id());
      dirty_workers_.erase(worker.record.id());
      it = workers_.erase(it);
      continue;
    }
    // What changes all the time (slots, the heartbeat's age) is stored
    // lazily: a cluster of a thousand busy workers would otherwise rewrite
    // every record on every step.
    if (lazy_writes < options_.max_lazy_worker_writes_per_step &&
        ((worker.slots_changed &&
          now - worker.written_at >= options_.slot_write_interval) ||
         (worker.last_seen != worker.heartbeat_written &&
          now - worker.heartbeat_written >= options_.heartbeat_interval))) {
      dirty_workers_.insert(worker.record.id());
      ++lazy_writes;
    }
    // A worker silent for probe_interval is probed; one that reports all
    // the time (busy) only every reconcile_interval, to reconcile the
    // attempts it runs. Dead workers are still probed, less often, to
    // notice one that was only cut off and comes back.
    const absl::Duration probe_interval =
        status == quarry::v1::WORKER_STATUS_DEAD ? options_.dead_after
                                                 : options_.probe_interval;
    const absl::Duration since_probe = now - worker.last_probe_sent;
    if (!worker.probe_in_flight && since_probe >= probe_interval &&
        static_cast<int>(effects->probes.size()) <
            options_.max_probes_per_step &&
        (now - worker.last_seen >= probe_interval ||
         since_probe >= options_.reconcile_interval)) {
      worker.probe_in_flight = true;
      worker.last_probe_sent = now;
      Effects::Probe& probe = effects->probes.emplace_back();
      probe.client = worker.client;
      probe.worker_id = worker.record.id();
      probe.sent_at = now;
      for (const std::string& attempt_id : worker.slot_attempts) {
        if (!attempt_id.empty() && attempt_id[0] != '!') {
          probe.attempt_ids.push_back(attempt_id);
        }
      }
    }
    ++it;
  }
}

// (2) Job state refresh: attempts past their job's task_timeout end;
// jobs move to RUNNING, DONE or FAILED from their task counts; finished jobs
// are tidied once no attempt of theirs runs.
void Controller::RefreshJobs(absl::Time now, Effects* effects) {
  EnforceTaskTimeouts(now, effects);
  for (auto& [sequence, runtime] : jobs_) {
    JobRuntime& job = *runtime;
    if (job.finished) continue;
    const quarry::v1::TaskCounts& counts = job.job.task_counts();
    if (job.job.state() == quarry::v1::JOB_STATE_PENDING &&
        counts.running() + counts.done() > 0) {
      job.job.set_state(quarry::v1::JOB_STATE_RUNNING);
      *job.job.mutable_start_time() = ToProtoTime(now);
      job.dirty = true;
      effects->state_changed = true;
    }
    if (counts.failed() > 0) {
      FinishJob(job, quarry::v1::JOB_STATE_FAILED,
                absl::StrJoin(job.failure_reasons, "; "), now, effects);
    } else if (counts.done() == job.job.task_count()) {
      FinishJob(job, quarry::v1::JOB_STATE_DONE, "", now, effects);
    }
  }
}

void Controller::EnforceTaskTimeouts(absl::Time now, Effects* effects) {
  bool any_limit = false;
  for (const auto& [sequence, job] : jobs_) {
    any_limit |= !job->finished && job->task_timeout > absl::ZeroDuration();
  }
  if (!any_limit) return;  // The common case: no pass over the attempts.
  std::vector<std::pair<std::string, absl::Duration>> expired;
  for (const auto& [attempt_id, ref] : attempts_) {
    if (!ref.accepted) continue;
    const JobRuntime* job = FindJob(ref.job_id);
    if (job == nullptr || job->finished) continue;
    const absl::Duration limit = job->task_timeout;
    if (limit > absl::ZeroDuration() && now - ref.accepted_at > limit) {
      expired.emplace_back(attempt_id, limit);
    }
  }
  std::map<std::string, quarry::v1::CancelTasksRequest> cancels;
  for (const auto& [attempt_id, limit] : expired) {
    const AttemptRef ref = attempts_.at(attempt_id);
    quarry::v1::CancelTasksRequest& request = cancels[ref.worker_id];
    request.set_worker_id(ref.worker_id);
    request.add_attempt_ids(attempt_id);
    EndAttempt(attempt_id, quarry::v1::EXECUTION_STATUS_FAILED,
               absl::StrCat("timed out after ", absl::FormatDuration(limit),
                            " on worker ", ref.worker_id),
               /*counts_as_failure=*/true, now, effects);
    if (ref.slot >= 0)
      HoldSlotUntilReported(ref.worker_id, ref.slot, attempt_id);
  }
  for (auto& [worker_id, request] : cancels) {
    auto worker = workers_.find(worker_id);
    if (worker == workers_.end()) continue;
    effects->cancels.push_back({worker->second->client, std::move(request)});
  }
}

void Controller::FinishJob(JobRuntime& job, quarry::v1::JobState state,
                           const std::string& error, absl::Time now,
                           Effects* effects) {
  job.finished = true;
  effects->state_changed = true;
  ++counts_.jobs_finished[state];
  job.job.set_state(state);
  job.job.set_error(error);
  *job.job.mutable_end_time() = ToProtoTime(now);
  if (!job.job.has_start_time())
    *job.job.mutable_start_time() = ToProtoTime(now);
  job.dirty = true;
  job.ClearRunnable();
  for (int32_t index = 0; index < static_cast<int32_t>(job.tasks.size());
       ++index) {
    const ExecutionStatus status = job.tasks[index].execution_status();
    if (status == quarry::v1::EXECUTION_STATUS_PENDING ||
        status == quarry::v1::EXECUTION_STATUS_ASSIGNED ||
        status == quarry::v1::EXECUTION_STATUS_RUNNING) {
      SetTaskStatus(job, index, quarry::v1::EXECUTION_STATUS_CANCELLED);
    }
  }
  // Stop the job's live attempts; they leave attempts_ when reported.
  std::map<std::string, quarry::v1::CancelTasksRequest> cancels;
  for (const auto& [attempt_id, ref] : attempts_) {
    if (ref.job_id != job.job.id()) continue;
    quarry::v1::CancelTasksRequest& request = cancels[ref.worker_id];
    request.set_worker_id(ref.worker_id);
    request.add_attempt_ids(attempt_id);
  }
  for (auto& [worker_id, request] : cancels) {
    auto worker = workers_.find(worker_id);
    if (worker == workers_.end()) continue;
    effects->cancels.push_back({worker->second->client, std::move(request)});
  }
  LOG(INFO) << "job " << job.job.id() << " " << quarry::v1::JobState_Name(state)
            << (error.empty() ? "" : absl::StrCat(": ", error));
}

// (3) Rebalance: runnable tasks, oldest job first, onto idle slots of
// workers that can take work; then, while no slot is idle, tasks of jobs
// with short attempts into the workers' queues. One StartTasks batch per
// worker.
void Controller::Rebalance(absl::Time now, Effects* effects) {
  // While the store is down nothing new starts: a leader restart must find
  // every running attempt in the store.
  if (store_backlog_) return;
  int64_t runnable = 0;
  for (const auto& [sequence, job] : jobs_) runnable += job->runnable();
  if (runnable == 0) return;
  std::vector<WorkerRuntime*> schedulable;
  for (auto& [id, worker] : workers_) {
    if (worker->record.status() == quarry::v1::WORKER_STATUS_ALIVE &&
        !worker->unreachable && worker->free_slots > 0) {
      schedulable.push_back(worker.get());
    }
  }
  if (schedulable.empty()) return;
  // One step sends at most max_workers_per_step batches (those with the
  // most room first) and max_starts_per_step attempts; the next step, at
  // once, does the rest. Fewer, fuller batches cost less than a task or two
  // for every one of a thousand workers.
  bool capped = false;
  if (static_cast<int>(schedulable.size()) > options_.max_workers_per_step) {
    std::stable_sort(schedulable.begin(), schedulable.end(),
                     [](const WorkerRuntime* a, const WorkerRuntime* b) {
                       return a->free_slots > b->free_slots;
                     });
    schedulable.resize(options_.max_workers_per_step);
    capped = true;
  }
  if (runnable > options_.max_starts_per_step) {
    runnable = options_.max_starts_per_step;
    capped = true;
  }
  if (capped) Wake();

  std::vector<quarry::v1::StartTasksRequest> batches(schedulable.size());
  std::vector<int32_t> room(schedulable.size());
  for (size_t i = 0; i < schedulable.size(); ++i) {
    room[i] = schedulable[i]->idle_slots();
  }
  const int64_t started = PlaceTasks(SpreadTasks(room, runnable), schedulable,
                                     Tier::kIdleSlots, batches);
  if (options_.queue_tasks_shorter_than > absl::ZeroDuration()) {
    int64_t queueable = 0;
    for (const auto& [sequence, job] : jobs_) {
      if (Queueable(*job)) queueable += job->runnable();
    }
    queueable = std::min(queueable, runnable - started);
    if (queueable > 0) {
      for (size_t i = 0; i < schedulable.size(); ++i) {
        room[i] = schedulable[i]->free_slots;
      }
      PlaceTasks(SpreadTasks(room, queueable), schedulable, Tier::kQueue,
                 batches);
    }
  }
  for (size_t i = 0; i < batches.size(); ++i) {
    if (batches[i].assignments().empty()) continue;
    effects->starts.push_back({schedulable[i]->client, std::move(batches[i])});
  }
}

bool Controller::Queueable(const JobRuntime& job) const {
  return job.typical_run < options_.queue_tasks_shorter_than;
}

int64_t Controller::PlaceTasks(
    const std::vector<int32_t>& placement,
    const std::vector<WorkerRuntime*>& schedulable, Tier tier,
    std::vector<quarry::v1::StartTasksRequest>& batches) {
  auto has_room = [tier](const WorkerRuntime* worker) {
    return tier == Tier::kIdleSlots ? worker->idle_slots() > 0
                                    : worker->free_slots > 0;
  };
  auto job_it = jobs_.begin();
  for (int32_t target : placement) {
    while (job_it->second->runnable() == 0 ||
           (tier == Tier::kQueue && !Queueable(*job_it->second))) {
      ++job_it;
    }
    JobRuntime& job = *job_it->second;
    const int32_t index = job.PopRunnable();
    TaskRuntime& task = job.tasks[index];
    // A retry goes to another worker than its last one where one has room;
    // whoever gave up a slot for it takes a later task instead.
    const int32_t last_worker = task.worker;
    if (schedulable[target]->name == last_worker ||
        !has_room(schedulable[target])) {
      // One pass: the first other worker with room, else any with room
      // (only its last worker has one).
      int32_t any_with_room = -1;
      for (int32_t other = 0; other < static_cast<int32_t>(schedulable.size());
           ++other) {
        if (!has_room(schedulable[other])) continue;
        if (schedulable[other]->name != last_worker) {
          any_with_room = other;
          break;
        }
        if (any_with_room < 0) any_with_room = other;
      }
      if (any_with_room >= 0) target = any_with_room;
    }
    WorkerRuntime& worker = *schedulable[target];
    int32_t slot = 0;
    while (!worker.slot_attempts[slot].empty()) ++slot;

    ++task.attempts;
    task.worker = worker.name;
    const std::string attempt_id =
        FormatAttemptId(job.job.id(), index, task.attempts);
    SetTaskStatus(job, index, quarry::v1::EXECUTION_STATUS_ASSIGNED);
    job.job.set_attempts_started(job.job.attempts_started() + 1);
    ++counts_.attempts_started;
    ++job.live_attempts;
    attempts_[attempt_id] =
        AttemptRef{job.job.id(), index, task.attempts, worker.record.id(), slot,
                   false,        {}};
    worker.slot_attempts[slot] = attempt_id;
    --worker.free_slots;
    worker.slots_changed = true;

    quarry::v1::StartTasksRequest& batch = batches[target];
    batch.set_worker_id(worker.record.id());
    quarry::v1::Assignment* assignment = batch.add_assignments();
    assignment->set_attempt_id(attempt_id);
    assignment->set_job_id(job.job.id());
    assignment->set_task_index(index);
    assignment->set_slot(slot);
    assignment->set_kind(job.job.spec().kind());
    assignment->set_is_reduce(job.plan.is_reduce(index));
    job.plan.AddInputs(index, assignment->mutable_inputs());
    if (!job.plan.output_dir.empty()) {
      assignment->set_output_path(job.plan.OutputPath(index));
    }
    *assignment->mutable_settings() = job.job.spec().settings();
    assignment->set_attempt_number(task.attempts);
  }
  return static_cast<int64_t>(placement.size());
}

quarry::v1::Worker Controller::WorkerRecord(const WorkerRuntime& worker) const {
  quarry::v1::Worker record = worker.record;
  *record.mutable_last_heartbeat_time() = ToProtoTime(worker.last_seen);
  for (int32_t slot = 0;
       slot < static_cast<int32_t>(worker.slot_attempts.size()); ++slot) {
    quarry::v1::SlotState* state = record.add_slot_states();
    state->set_index(slot);
    state->set_status(quarry::v1::EXECUTION_STATUS_PENDING);
    std::string attempt_id = worker.slot_attempts[slot];
    if (attempt_id.empty()) continue;
    if (attempt_id[0] == '!') {  // Stale work from before a restart.
      state->set_attempt_id(attempt_id.substr(1));
      state->set_status(quarry::v1::EXECUTION_STATUS_RUNNING);
      continue;
    }
    auto ref = attempts_.find(attempt_id);
    if (ref == attempts_.end()) continue;
    state->set_attempt_id(attempt_id);
    state->set_job_id(ref->second.job_id);
    state->set_task_index(ref->second.task_index);
    state->set_status(ref->second.accepted
                          ? quarry::v1::EXECUTION_STATUS_RUNNING
                          : quarry::v1::EXECUTION_STATUS_ASSIGNED);
  }
  return record;
}

void Controller::CollectWrites(absl::Time now, Effects* effects) {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    JobRuntime& job = *it->second;
    const bool done_with = job.finished && job.live_attempts == 0;
    if (done_with) {
      effects->finalize.push_back(job.job);
      if (history_ != nullptr) effects->ended_jobs.push_back(job.job);
      output_dirs_in_use_.erase(job.job.spec().output_dir());
    }
    if (!job.dirty_tasks.empty()) {
      std::vector<quarry::v1::Task> tasks;
      tasks.reserve(job.dirty_tasks.size());
      for (int32_t index : job.dirty_tasks) {
        tasks.push_back(TaskRecord(job, index));
        job.tasks[index].dirty = false;
      }
      effects->writes.tasks.emplace_back(job.job.id(), std::move(tasks));
      job.dirty_tasks.clear();
    }
    if (job.dirty) {
      effects->writes.jobs.push_back(job.job);
      job.dirty = false;
    }
    it = done_with ? jobs_.erase(it) : std::next(it);
  }
  for (const std::string& id : dirty_workers_) {
    auto worker = workers_.find(id);
    if (worker != workers_.end()) {
      worker->second->heartbeat_written = worker->second->last_seen;
      worker->second->written_at = now;
      worker->second->slots_changed = false;
      effects->writes.workers.push_back(WorkerRecord(*worker->second));
    }
  }
  dirty_workers_.clear();
  effects->writes.deleted_workers = std::move(forgotten_workers_);
  forgotten_workers_.clear();
}

}  // namespace quarry

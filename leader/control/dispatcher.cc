#include "leader/control/dispatcher.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/ids.h"
#include "leader/scheduling/placement.h"

namespace quarry {

bool Dispatcher::Eligibility::CanRun(const JobRuntime& job) const {
  if (uniform) return schedulable.front()->Offers(job.job.spec().kind());
  for (const WorkerRuntime* worker : schedulable) {
    if (worker->Offers(job.job.spec().kind())) return true;
  }
  return false;
}

bool Dispatcher::Rebalance(JobTable& jobs, WorkerPool& workers,
                           AttemptTable& attempts, ControllerCounts& counts,
                           std::vector<StartBatch>* starts) const {
  if (jobs.Runnable() == 0) return false;
  bool capped = false;
  std::vector<WorkerRuntime*> schedulable = workers.Schedulable(&capped);
  if (schedulable.empty()) return false;
  const Eligibility eligible{
      schedulable, std::all_of(schedulable.begin(), schedulable.end(),
                               [&schedulable](const WorkerRuntime* worker) {
                                 return worker->kinds ==
                                        schedulable.front()->kinds;
                               })};
  // Tasks that these workers can run, of every job and of queueable ones.
  int64_t runnable = 0, queueable = 0;
  for (const auto& [sequence, job] : jobs) {
    if (job->runnable() == 0 || !eligible.CanRun(*job)) continue;
    runnable += job->runnable();
    if (Queueable(*job)) queueable += job->runnable();
  }
  if (runnable == 0) return false;
  // The next step, at once, does what is left.
  if (runnable > options_.max_starts_per_step) {
    runnable = options_.max_starts_per_step;
    capped = true;
  }

  std::vector<quarry::v1::StartTasksRequest> batches(schedulable.size());
  std::vector<int32_t> room(schedulable.size());
  for (size_t i = 0; i < schedulable.size(); ++i) {
    room[i] = schedulable[i]->idle_slots();
  }
  const int64_t started =
      PlaceTasks(SpreadTasks(room, runnable), eligible, Tier::kIdleSlots, jobs,
                 attempts, counts, batches);
  if (options_.queue_tasks_shorter_than > absl::ZeroDuration()) {
    queueable = std::min(queueable, runnable - started);
    if (queueable > 0) {
      for (size_t i = 0; i < schedulable.size(); ++i) {
        room[i] = schedulable[i]->free_slots;
      }
      PlaceTasks(SpreadTasks(room, queueable), eligible, Tier::kQueue, jobs,
                 attempts, counts, batches);
    }
  }
  for (size_t i = 0; i < batches.size(); ++i) {
    if (batches[i].assignments().empty()) continue;
    starts->push_back({schedulable[i]->client, std::move(batches[i])});
  }
  return capped;
}

int64_t Dispatcher::PlaceTasks(
    const std::vector<int32_t>& placement, const Eligibility& eligible,
    Tier tier, JobTable& jobs, AttemptTable& attempts, ControllerCounts& counts,
    std::vector<quarry::v1::StartTasksRequest>& batches) const {
  const std::vector<WorkerRuntime*>& schedulable = eligible.schedulable;
  auto has_room = [tier](const WorkerRuntime* worker) {
    return tier == Tier::kIdleSlots ? worker->idle_slots() > 0
                                    : worker->free_slots > 0;
  };
  int64_t placed = 0;
  auto job_it = jobs.begin();
  for (int32_t target : placement) {
    // The next job with a task to place here; a job no worker with room
    // runs waits for a later step.
    int32_t index = -1;
    for (; job_it != jobs.end(); ++job_it) {
      JobRuntime& job = *job_it->second;
      if (job.runnable() == 0 || (tier == Tier::kQueue && !Queueable(job)) ||
          !eligible.CanRun(job)) {
        continue;
      }
      // A retry goes to another worker than its last one where one has
      // room; whoever gave up a slot for it takes a later task instead.
      const int32_t last_worker = job.tasks[job.PeekRunnable()].worker;
      const WorkerRuntime* aimed = schedulable[target];
      if (aimed->name == last_worker || !has_room(aimed) ||
          !eligible.Offers(*aimed, job)) {
        // One pass: the first other worker with room that runs the job,
        // else any such worker (only its last worker has room).
        int32_t any_with_room = -1;
        for (int32_t other = 0;
             other < static_cast<int32_t>(schedulable.size()); ++other) {
          if (!has_room(schedulable[other]) ||
              !eligible.Offers(*schedulable[other], job)) {
            continue;
          }
          if (schedulable[other]->name != last_worker) {
            any_with_room = other;
            break;
          }
          if (any_with_room < 0) any_with_room = other;
        }
        if (any_with_room < 0) continue;  // None has room for this job.
        target = any_with_room;
      }
      index = job.PopRunnable();
      break;
    }
    if (index < 0) break;  // Nothing left that these workers can take.
    JobRuntime& job = *job_it->second;
    WorkerRuntime& worker = *schedulable[target];
    const int32_t number = job.StartAttempt(index, worker.name);
    ++counts.attempts_started;
    const std::string attempt_id = FormatAttemptId(job.job.id(), index, number);
    const int32_t slot = worker.Occupy(attempt_id);
    attempts.Add(
        attempt_id,
        AttemptRef{
            job.job.id(), index, number, worker.record.id(), slot, false, {}});

    quarry::v1::StartTasksRequest& batch = batches[target];
    batch.set_worker_id(worker.record.id());
    job.FillAssignment(index, attempt_id, slot, batch.add_assignments());
    ++placed;
  }
  return placed;
}

}  // namespace quarry

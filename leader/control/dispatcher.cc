#include "leader/control/dispatcher.h"

#include <algorithm>
#include <string>
#include <utility>

#include "common/ids.h"
#include "leader/scheduling/placement.h"

namespace quarry {

bool Dispatcher::Rebalance(JobTable& jobs, WorkerPool& workers,
                           AttemptTable& attempts, ControllerCounts& counts,
                           std::vector<StartBatch>* starts) const {
  int64_t runnable = jobs.Runnable();
  if (runnable == 0) return false;
  bool capped = false;
  std::vector<WorkerRuntime*> schedulable = workers.Schedulable(&capped);
  if (schedulable.empty()) return false;
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
      PlaceTasks(SpreadTasks(room, runnable), schedulable, Tier::kIdleSlots,
                 jobs, attempts, counts, batches);
  if (options_.queue_tasks_shorter_than > absl::ZeroDuration()) {
    const int64_t queueable =
        std::min(jobs.QueueableRunnable(options_.queue_tasks_shorter_than),
                 runnable - started);
    if (queueable > 0) {
      for (size_t i = 0; i < schedulable.size(); ++i) {
        room[i] = schedulable[i]->free_slots;
      }
      PlaceTasks(SpreadTasks(room, queueable), schedulable, Tier::kQueue, jobs,
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
    const std::vector<int32_t>& placement,
    const std::vector<WorkerRuntime*>& schedulable, Tier tier, JobTable& jobs,
    AttemptTable& attempts, ControllerCounts& counts,
    std::vector<quarry::v1::StartTasksRequest>& batches) const {
  auto has_room = [tier](const WorkerRuntime* worker) {
    return tier == Tier::kIdleSlots ? worker->idle_slots() > 0
                                    : worker->free_slots > 0;
  };
  auto job_it = jobs.begin();
  for (int32_t target : placement) {
    while (job_it->second->runnable() == 0 ||
           (tier == Tier::kQueue && !Queueable(*job_it->second))) {
      ++job_it;
    }
    JobRuntime& job = *job_it->second;
    const int32_t index = job.PopRunnable();
    // A retry goes to another worker than its last one where one has room;
    // whoever gave up a slot for it takes a later task instead.
    const int32_t last_worker = job.tasks[index].worker;
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
    const int32_t number = job.StartAttempt(index, worker.name);
    ++counts.attempts_started;
    const std::string attempt_id = FormatAttemptId(job.job.id(), index, number);
    const int32_t slot = worker.Occupy(attempt_id);
    attempts.Add(attempt_id, AttemptRef{job.job.id(), index, number,
                                        worker.record.id(), slot, false, {}});

    quarry::v1::StartTasksRequest& batch = batches[target];
    batch.set_worker_id(worker.record.id());
    job.FillAssignment(index, attempt_id, slot, batch.add_assignments());
  }
  return static_cast<int64_t>(placement.size());
}

}  // namespace quarry

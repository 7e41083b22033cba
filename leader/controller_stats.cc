// Controller::Stats: the snapshot behind the leader's metrics.
#include "leader/controller_stats.h"

#include <algorithm>

#include "leader/controller.h"
#include "leader/controller_state.h"

namespace quarry {

ControllerStats Controller::Stats() {
  ControllerStats stats;
  // Every label value is present, at 0 when nothing is in that state.
  for (auto state :
       {quarry::v1::JOB_STATE_PENDING, quarry::v1::JOB_STATE_RUNNING}) {
    stats.jobs[state] = 0;
  }
  for (auto status :
       {quarry::v1::EXECUTION_STATUS_PENDING,
        quarry::v1::EXECUTION_STATUS_ASSIGNED,
        quarry::v1::EXECUTION_STATUS_RUNNING, quarry::v1::EXECUTION_STATUS_DONE,
        quarry::v1::EXECUTION_STATUS_FAILED,
        quarry::v1::EXECUTION_STATUS_CANCELLED}) {
    stats.tasks[status] = 0;
  }
  for (auto status :
       {quarry::v1::WORKER_STATUS_ALIVE, quarry::v1::WORKER_STATUS_SUSPECT,
        quarry::v1::WORKER_STATUS_DEAD, quarry::v1::WORKER_STATUS_DRAINING}) {
    stats.workers[status] = 0;
  }
  const absl::Time now = clock_->Now();

  absl::MutexLock lock(&mu_);
  for (const auto& [sequence, job] : jobs_) {
    if (job->finished) continue;
    ++stats.jobs[job->job.state()];
    const quarry::v1::TaskCounts& counts = job->job.task_counts();
    stats.tasks[quarry::v1::EXECUTION_STATUS_PENDING] += counts.pending();
    stats.tasks[quarry::v1::EXECUTION_STATUS_ASSIGNED] += counts.assigned();
    stats.tasks[quarry::v1::EXECUTION_STATUS_RUNNING] += counts.running();
    stats.tasks[quarry::v1::EXECUTION_STATUS_DONE] += counts.done();
    stats.tasks[quarry::v1::EXECUTION_STATUS_FAILED] += counts.failed();
    stats.tasks[quarry::v1::EXECUTION_STATUS_CANCELLED] += counts.cancelled();
    stats.queue_depth += job->runnable();
  }
  for (const auto& [id, worker] : workers_) {
    const quarry::v1::WorkerStatus status = worker->record.status();
    ++stats.workers[status];
    stats.heartbeat_age[id] = now - worker->last_seen;
    if (status == quarry::v1::WORKER_STATUS_DEAD) continue;
    const int64_t slots = worker->record.slots();
    const int64_t held = worker->held();
    stats.slots += slots;
    stats.busy_slots += std::min(held, slots);
    stats.queued += std::max<int64_t>(0, held - slots);
  }
  stats.store_backlog = store_backlog_;
  stats.counts = counts_;
  return stats;
}

}  // namespace quarry

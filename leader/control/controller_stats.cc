#include "leader/control/controller_stats.h"

namespace quarry {

ControllerStats ControllerStats::Zero() {
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
  return stats;
}

}  // namespace quarry

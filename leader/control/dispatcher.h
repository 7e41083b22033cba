#ifndef QUARRY_LEADER_CONTROL_DISPATCHER_H_
#define QUARRY_LEADER_CONTROL_DISPATCHER_H_

#include <cstdint>
#include <vector>

#include "leader/control/attempt_table.h"
#include "leader/control/controller_options.h"
#include "leader/control/controller_stats.h"
#include "leader/control/effects.h"
#include "leader/control/job_table.h"
#include "leader/control/worker_pool.h"

namespace quarry {

// Step (3) of the controller, rebalance: runnable tasks, oldest job first,
// onto idle slots of the workers that can take work; then, while no slot
// is idle, tasks of jobs with short attempts into the workers' queue
// places. Where each task goes is the policy of scheduling/ (SpreadTasks);
// this class asks it and records each placement in the three owners of
// state: the task ASSIGNED (JobTable), a new live attempt (AttemptTable),
// a place taken (WorkerPool). One StartTasks batch per worker.
//
// Holds no state but its options; called by the Controller under its
// mutex, which guards the tables passed in.
class Dispatcher {
 public:
  explicit Dispatcher(const ControllerOptions& options) : options_(options) {}

  // Appends the batches to `starts`. Returns true if work was left for the
  // next step (a step places at most max_starts_per_step attempts on at
  // most max_workers_per_step workers).
  bool Rebalance(JobTable& jobs, WorkerPool& workers, AttemptTable& attempts,
                 ControllerCounts& counts,
                 std::vector<StartBatch>* starts) const;

 private:
  // Where tasks go: idle slots (tasks of any job), or the free places left,
  // queue places included (tasks of queueable jobs).
  enum class Tier { kIdleSlots, kQueue };

  // Which of `schedulable` may run a job: all of them run the same kinds
  // (`uniform`, the common case: one check per job), or each is asked.
  struct Eligibility {
    const std::vector<WorkerRuntime*>& schedulable;
    bool uniform;
    // Some schedulable worker runs `job`'s kind.
    bool CanRun(const JobRuntime& job) const;
    bool Offers(const WorkerRuntime& worker, const JobRuntime& job) const {
      return uniform || worker.Offers(job.job.spec().kind());
    }
  };

  // Dispatches one runnable task (oldest job first, skipping jobs whose
  // kind no worker with room runs) per entry of `placement` (indices into
  // `schedulable`) into `batches`; returns how many it placed.
  int64_t PlaceTasks(const std::vector<int32_t>& placement,
                     const Eligibility& eligible, Tier tier, JobTable& jobs,
                     AttemptTable& attempts, ControllerCounts& counts,
                     std::vector<quarry::v1::StartTasksRequest>& batches) const;
  // Whether `job`'s tasks may wait in a worker's queue: its attempts have
  // been short (ControllerOptions::queue_tasks_shorter_than).
  bool Queueable(const JobRuntime& job) const {
    return job.typical_run < options_.queue_tasks_shorter_than;
  }

  const ControllerOptions options_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_DISPATCHER_H_

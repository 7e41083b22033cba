#ifndef QUARRY_LEADER_CONTROL_ATTEMPT_LIFECYCLE_H_
#define QUARRY_LEADER_CONTROL_ATTEMPT_LIFECYCLE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "leader/control/attempt_table.h"
#include "leader/control/controller_options.h"
#include "leader/control/controller_stats.h"
#include "leader/control/effects.h"
#include "leader/control/job_table.h"
#include "leader/control/worker_pool.h"

namespace quarry {

// What the controller does as it learns an attempt's fate: the worker
// confirmed it, finished it, failed it, refused it or lost it; a probe no
// longer finds it; it ran out of time; its job ended. Each outcome is
// applied to the three owners of state: the live attempt leaves the
// AttemptTable, its place in the WorkerPool frees up, its task in the
// JobTable is DONE, waits again or FAILED; and to the step's Effects
// (history records, CancelTasks).
//
// A view made for one controller step (or event) under the Controller's
// mutex, which guards the tables it refers to; it holds no state of its
// own and must not outlive that lock.
class AttemptLifecycle {
 public:
  AttemptLifecycle(JobTable& jobs, WorkerPool& workers, AttemptTable& attempts,
                   ControllerCounts& counts, const ControllerOptions& options,
                   bool keep_history, absl::Time now, Effects* effects)
      : jobs_(jobs),
        workers_(workers),
        attempts_(attempts),
        counts_(counts),
        options_(options),
        keep_history_(keep_history),
        now_(now),
        effects_(effects) {}

  // A worker's report of one attempt (RUNNING, or how it ended).
  void ApplyStatus(const std::string& worker_id,
                   const quarry::v1::AttemptStatus& status);
  // Ends the live attempt `attempt_id` with `status`: frees its place and
  // either records the result, re-queues the task or fails it. `report`
  // (may be null) is the worker's account of it.
  void End(const std::string& attempt_id, quarry::v1::ExecutionStatus status,
           const std::string& error, bool counts_as_failure,
           const quarry::v1::AttemptStatus* report = nullptr);
  // Ends each of `attempt_ids` LOST with `why`.
  void LoseAll(const std::vector<std::string>& attempt_ids,
               const std::string& why, bool counts_as_failure);
  // The answer to a StartTasks batch: attempts confirmed, refused, or all
  // lost with the RPC.
  void HandleStartResult(StartResult result);
  // The answer to a probe: the worker is reachable again, or not; the
  // attempts it no longer knows are LOST; stale work keeps places busy.
  void HandleProbeResult(ProbeResult result);
  // Ends attempts that outlived their job's task_timeout (FAILED, retried)
  // and asks their workers to stop them.
  void EnforceTaskTimeouts();
  // `job` reached `state`: its tasks that have not ended are CANCELLED and
  // its live attempts are asked to stop (they end when reported).
  void FinishJob(JobRuntime& job, quarry::v1::JobState state,
                 const std::string& error);

 private:
  // The worker confirmed the attempt `ref` (`attempt_id`) runs, since `at`.
  void Confirm(const std::string& worker_id, AttemptRef& ref, absl::Time at);
  // Asks each worker of `cancels` to stop those attempts.
  void AddCancels(
      std::map<std::string, quarry::v1::CancelTasksRequest> cancels);

  JobTable& jobs_;
  WorkerPool& workers_;
  AttemptTable& attempts_;
  ControllerCounts& counts_;
  const ControllerOptions& options_;
  const bool keep_history_;
  const absl::Time now_;
  Effects* const effects_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_ATTEMPT_LIFECYCLE_H_

#ifndef QUARRY_LEADER_API_JOB_MANAGER_H_
#define QUARRY_LEADER_API_JOB_MANAGER_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/store.h"
#include "leader/control/change_notifier.h"
#include "leader/control/controller.h"
#include "leader/history/history.h"
#include "leader/history/history_reader.h"
#include "leader/scheduling/job_planner.h"
#include "leader/control/leader_observer.h"
#include "quarry/v1/job_service.pb.h"

namespace quarry {

// The logic behind JobService: submissions are validated and planned here
// (filesystem reads, no global lock), stored as PENDING and handed to the
// controller; reads come from the store, and from the execution history
// (if any) for jobs that have left the store and for attempts. Holds no
// state of its own; thread-safe. Called by gRPC handler threads.
class JobManager {
 public:
  // `history` may be null (none kept). `observer` (may be null) is told of
  // failed store calls.
  JobManager(Store* store, Controller* controller, ChangeNotifier* notifier,
             const Clock* clock, PlannerLimits limits = {},
             History* history = nullptr, LeaderObserver* observer = nullptr);

  // `owner`: the submitting principal (Job.owner), empty without auth.
  // RESOURCE_EXHAUSTED when the job would take the leader past
  // limits.max_pending_tasks unfinished tasks.
  absl::StatusOr<quarry::v1::SubmitJobResponse> Submit(
      const quarry::v1::JobSpec& spec, const std::string& owner = "");
  absl::StatusOr<quarry::v1::GetJobResponse> Get(
      const quarry::v1::GetJobRequest& request);
  absl::StatusOr<quarry::v1::ListJobsResponse> List(
      const quarry::v1::ListJobsRequest& request);
  absl::StatusOr<quarry::v1::GetJobResultResponse> Result(
      const std::string& job_id);
  // Cancels and returns the job once the store shows it CANCELLED (or the
  // state it reached first). FAILED_PRECONDITION if it already finished.
  absl::StatusOr<quarry::v1::Job> Cancel(const std::string& job_id);

  // Past jobs from the execution history; FAILED_PRECONDITION without one.
  absl::StatusOr<quarry::v1::ListHistoryResponse> ListHistory(
      const quarry::v1::ListHistoryRequest& request) {
    return history_reader_.ListHistory(request);
  }

  // Calls `send` with the job at once and after each change, until the job
  // is terminal (OK), `send` returns false or `cancelled` returns true
  // (CANCELLED).
  absl::Status Watch(const std::string& job_id,
                     const std::function<bool(const quarry::v1::JobEvent&)>& send,
                     const std::function<bool()>& cancelled);

 private:
  // OK if `tasks` more unfinished tasks stay within max_pending_tasks.
  absl::Status CheckRoomFor(int64_t tasks);
  // Returns `status`, telling the observer when it is a store failure
  // (NOT_FOUND and INVALID_ARGUMENT are answers to the caller, not
  // failures).
  absl::Status StoreCall(StoreOp op, absl::Status status) const;

  Store* const store_;
  Controller* const controller_;
  ChangeNotifier* const notifier_;
  const Clock* const clock_;
  const PlannerLimits limits_;
  History* const history_;
  HistoryReader history_reader_;
  LeaderObserver* const observer_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_API_JOB_MANAGER_H_

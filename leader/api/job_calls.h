#ifndef QUARRY_LEADER_API_JOB_CALLS_H_
#define QUARRY_LEADER_API_JOB_CALLS_H_

#include <functional>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "leader/api/caller_check.h"
#include "leader/api/job_manager.h"
#include "leader/api/readiness.h"
#include "leader/workers/attempt_log_fetcher.h"
#include "quarry/v1/job_service.pb.h"

namespace quarry {

// What each JobService call does once its transport is peeled off: the
// caller check (CallerCheck: reading needs role reader, SubmitJob user,
// CancelJob and GetAttemptLog user and the job's ownership or admin),
// readiness (UNAVAILABLE until the leader is ready), the JobManager or
// AttemptLogFetcher call, and the audit line of mutating calls. The gRPC
// JobService and the HTTP API are both thin adapters over it, so the two
// cannot disagree. `authorization` is the value of the call's
// authorization header or metadata (nullopt: none). Holds no state;
// thread-safe; called on the transports' handler threads.
class JobCalls {
 public:
  using Authorization = std::optional<absl::string_view>;

  // Every pointer outlives this. `callers` null: every caller may do
  // everything.
  JobCalls(JobManager* manager, const Readiness* readiness,
           const AttemptLogFetcher* logs, const CallerCheck* callers);

  absl::StatusOr<quarry::v1::SubmitJobResponse> Submit(
      Authorization authorization,
      const quarry::v1::SubmitJobRequest& request) const;
  absl::StatusOr<quarry::v1::GetJobResponse> Get(
      Authorization authorization,
      const quarry::v1::GetJobRequest& request) const;
  absl::StatusOr<quarry::v1::ListJobsResponse> List(
      Authorization authorization,
      const quarry::v1::ListJobsRequest& request) const;
  absl::StatusOr<quarry::v1::GetJobResultResponse> Result(
      Authorization authorization,
      const quarry::v1::GetJobResultRequest& request) const;
  absl::StatusOr<quarry::v1::CancelJobResponse> Cancel(
      Authorization authorization,
      const quarry::v1::CancelJobRequest& request) const;
  absl::StatusOr<quarry::v1::ListHistoryResponse> History(
      Authorization authorization,
      const quarry::v1::ListHistoryRequest& request) const;
  absl::StatusOr<quarry::v1::GetAttemptLogResponse> Log(
      Authorization authorization,
      const quarry::v1::GetAttemptLogRequest& request) const;
  // Calls `send` with the job at once and after each change until the job
  // is terminal (OK), `send` returns false or `cancelled` returns true
  // (CANCELLED); see JobManager::Watch.
  absl::Status Watch(
      Authorization authorization, const quarry::v1::WatchJobRequest& request,
      const std::function<bool(const quarry::v1::JobEvent&)>& send,
      const std::function<bool()>& cancelled) const;

  bool auth_enabled() const { return callers_->enabled(); }

 private:
  // The caller if it has role `need` and the leader is ready.
  absl::StatusOr<Principal> Admit(Authorization authorization, Role need,
                                  absl::string_view method) const;
  // OK for an admin or the job's owner; else PERMISSION_DENIED (or the
  // job's lookup error).
  absl::Status RequireJobOwner(const Principal& caller,
                               absl::string_view method,
                               const std::string& job_id) const;

  JobManager* const manager_;
  const Readiness* const readiness_;
  const AttemptLogFetcher* const logs_;
  const CallerCheck* const callers_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_API_JOB_CALLS_H_

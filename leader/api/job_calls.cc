#include "leader/api/job_calls.h"

#include <utility>

namespace quarry {
namespace {

// Anyone may do anything: the check of a leader without --auth_file.
const CallerCheck kOpen(nullptr);

}  // namespace

JobCalls::JobCalls(JobManager* manager, const Readiness* readiness,
                   const AttemptLogFetcher* logs, const CallerCheck* callers)
    : manager_(manager),
      readiness_(readiness),
      logs_(logs),
      callers_(callers != nullptr ? callers : &kOpen) {}

absl::StatusOr<Principal> JobCalls::Admit(Authorization authorization,
                                          Role need,
                                          absl::string_view method) const {
  absl::StatusOr<Principal> caller =
      callers_->Require(authorization, need, method);
  if (!caller.ok()) return caller.status();
  if (absl::Status ready = readiness_->Check(); !ready.ok()) return ready;
  return caller;
}

absl::Status JobCalls::RequireJobOwner(const Principal& caller,
                                       absl::string_view method,
                                       const std::string& job_id) const {
  if (caller.role == Role::kAdmin) return absl::OkStatus();
  quarry::v1::GetJobRequest get;
  get.set_job_id(job_id);
  absl::StatusOr<quarry::v1::GetJobResponse> job = manager_->Get(get);
  if (!job.ok()) return job.status();
  return CallerCheck::RequireOwner(caller, job->job().owner(), method, job_id);
}

absl::StatusOr<quarry::v1::SubmitJobResponse> JobCalls::Submit(
    Authorization authorization,
    const quarry::v1::SubmitJobRequest& request) const {
  absl::StatusOr<Principal> caller =
      callers_->Require(authorization, Role::kUser, "SubmitJob");
  if (!caller.ok()) return caller.status();
  absl::StatusOr<quarry::v1::SubmitJobResponse> submitted = [&]()
      -> absl::StatusOr<quarry::v1::SubmitJobResponse> {
    if (absl::Status ready = readiness_->Check(); !ready.ok()) return ready;
    return manager_->Submit(request.spec(), caller->name);
  }();
  if (callers_->enabled()) {
    CallerCheck::Audit(*caller, "SubmitJob",
                       submitted.ok() ? submitted->job_id() : "",
                       submitted.status());
  }
  return submitted;
}

absl::StatusOr<quarry::v1::GetJobResponse> JobCalls::Get(
    Authorization authorization,
    const quarry::v1::GetJobRequest& request) const {
  if (absl::StatusOr<Principal> caller =
          Admit(authorization, Role::kReader, "GetJob");
      !caller.ok()) {
    return caller.status();
  }
  return manager_->Get(request);
}

absl::StatusOr<quarry::v1::ListJobsResponse> JobCalls::List(
    Authorization authorization,
    const quarry::v1::ListJobsRequest& request) const {
  if (absl::StatusOr<Principal> caller =
          Admit(authorization, Role::kReader, "ListJobs");
      !caller.ok()) {
    return caller.status();
  }
  return manager_->List(request);
}

absl::StatusOr<quarry::v1::GetJobResultResponse> JobCalls::Result(
    Authorization authorization,
    const quarry::v1::GetJobResultRequest& request) const {
  if (absl::StatusOr<Principal> caller =
          Admit(authorization, Role::kReader, "GetJobResult");
      !caller.ok()) {
    return caller.status();
  }
  return manager_->Result(request.job_id());
}

absl::StatusOr<quarry::v1::CancelJobResponse> JobCalls::Cancel(
    Authorization authorization,
    const quarry::v1::CancelJobRequest& request) const {
  absl::StatusOr<Principal> caller =
      callers_->Require(authorization, Role::kUser, "CancelJob");
  if (!caller.ok()) return caller.status();
  absl::StatusOr<quarry::v1::CancelJobResponse> cancelled = [&]()
      -> absl::StatusOr<quarry::v1::CancelJobResponse> {
    if (absl::Status ready = readiness_->Check(); !ready.ok()) return ready;
    if (absl::Status owned =
            RequireJobOwner(*caller, "CancelJob", request.job_id());
        !owned.ok()) {
      return owned;
    }
    absl::StatusOr<quarry::v1::Job> job = manager_->Cancel(request.job_id());
    if (!job.ok()) return job.status();
    quarry::v1::CancelJobResponse response;
    *response.mutable_job() = *std::move(job);
    return response;
  }();
  if (callers_->enabled()) {
    CallerCheck::Audit(*caller, "CancelJob", request.job_id(),
                       cancelled.status());
  }
  return cancelled;
}

absl::StatusOr<quarry::v1::ListHistoryResponse> JobCalls::History(
    Authorization authorization,
    const quarry::v1::ListHistoryRequest& request) const {
  if (absl::StatusOr<Principal> caller =
          Admit(authorization, Role::kReader, "ListHistory");
      !caller.ok()) {
    return caller.status();
  }
  return manager_->ListHistory(request);
}

absl::StatusOr<quarry::v1::GetAttemptLogResponse> JobCalls::Log(
    Authorization authorization,
    const quarry::v1::GetAttemptLogRequest& request) const {
  absl::StatusOr<Principal> caller =
      Admit(authorization, Role::kUser, "GetAttemptLog");
  if (!caller.ok()) return caller.status();
  if (absl::Status owned =
          RequireJobOwner(*caller, "GetAttemptLog", request.job_id());
      !owned.ok()) {
    return owned;
  }
  return logs_->Fetch(request);
}

absl::Status JobCalls::Watch(
    Authorization authorization, const quarry::v1::WatchJobRequest& request,
    const std::function<bool(const quarry::v1::JobEvent&)>& send,
    const std::function<bool()>& cancelled) const {
  if (absl::StatusOr<Principal> caller =
          Admit(authorization, Role::kReader, "WatchJob");
      !caller.ok()) {
    return caller.status();
  }
  return manager_->Watch(request.job_id(), send, cancelled);
}

}  // namespace quarry

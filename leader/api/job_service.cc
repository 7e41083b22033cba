#include "leader/api/job_service.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/server_callback.h>

#include "common/status_util.h"

namespace quarry {
namespace {

// Anyone may do anything: the check of a leader without --auth_file.
const CallerCheck kOpen(nullptr);

// UNAVAILABLE until the leader is ready; then runs `call` and copies its
// value into the response, or returns its error.
template <typename T, typename Call>
grpc::Status Serve(const Readiness& readiness, Call call, T* response) {
  if (absl::Status ready = readiness.Check(); !ready.ok()) {
    return ToGrpcStatus(ready);
  }
  absl::StatusOr<T> result = call();
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

JobServiceImpl::JobServiceImpl(JobManager* manager, const Readiness* readiness,
                               const AttemptLogFetcher* logs,
                               bool get_job_never_blocks,
                               const CallerCheck* callers)
    : manager_(manager),
      readiness_(readiness),
      logs_(logs),
      callers_(callers != nullptr ? callers : &kOpen) {
  if (!get_job_never_blocks) return;
  // What the generated WithCallbackMethod_GetJob does, chosen at run time.
  const int index = google::protobuf::DescriptorPool::generated_pool()
                        ->FindServiceByName("quarry.v1.JobService")
                        ->FindMethodByName("GetJob")
                        ->index();
  MarkMethodCallback(
      index,
      new grpc::internal::CallbackUnaryHandler<quarry::v1::GetJobRequest,
                                               quarry::v1::GetJobResponse>(
          [this](grpc::CallbackServerContext* context,
                 const quarry::v1::GetJobRequest* request,
                 quarry::v1::GetJobResponse* response) {
            return FinishNow(context,
                             HandleGetJob(*context, request, response));
          }));
}

grpc::Status JobServiceImpl::SubmitJob(
    grpc::ServerContext* context, const quarry::v1::SubmitJobRequest* request,
    quarry::v1::SubmitJobResponse* response) {
  absl::StatusOr<Principal> caller =
      callers_->Require(*context, Role::kUser, "SubmitJob");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  grpc::Status status = Serve(
      *readiness_,
      [&] { return manager_->Submit(request->spec(), caller->name); },
      response);
  if (callers_->enabled()) {
    CallerCheck::Audit(*caller, "SubmitJob", response->job_id(),
                       FromGrpcStatus(status));
  }
  return status;
}

grpc::Status JobServiceImpl::GetJob(grpc::ServerContext* context,
                                    const quarry::v1::GetJobRequest* request,
                                    quarry::v1::GetJobResponse* response) {
  return HandleGetJob(*context, request, response);
}

grpc::Status JobServiceImpl::HandleGetJob(
    const grpc::ServerContextBase& context,
    const quarry::v1::GetJobRequest* request,
    quarry::v1::GetJobResponse* response) {
  if (absl::StatusOr<Principal> caller =
          callers_->Require(context, Role::kReader, "GetJob");
      !caller.ok()) {
    return ToGrpcStatus(caller.status());
  }
  return Serve(
      *readiness_, [&] { return manager_->Get(*request); }, response);
}

grpc::Status JobServiceImpl::ListJobs(
    grpc::ServerContext* context, const quarry::v1::ListJobsRequest* request,
    quarry::v1::ListJobsResponse* response) {
  if (absl::StatusOr<Principal> caller =
          callers_->Require(*context, Role::kReader, "ListJobs");
      !caller.ok()) {
    return ToGrpcStatus(caller.status());
  }
  return Serve(
      *readiness_, [&] { return manager_->List(*request); }, response);
}

grpc::Status JobServiceImpl::GetJobResult(
    grpc::ServerContext* context,
    const quarry::v1::GetJobResultRequest* request,
    quarry::v1::GetJobResultResponse* response) {
  if (absl::StatusOr<Principal> caller =
          callers_->Require(*context, Role::kReader, "GetJobResult");
      !caller.ok()) {
    return ToGrpcStatus(caller.status());
  }
  return Serve(
      *readiness_, [&] { return manager_->Result(request->job_id()); },
      response);
}

absl::Status JobServiceImpl::RequireJobOwner(const Principal& caller,
                                             absl::string_view method,
                                             const std::string& job_id) {
  if (caller.role == Role::kAdmin) return absl::OkStatus();
  quarry::v1::GetJobRequest get;
  get.set_job_id(job_id);
  absl::StatusOr<quarry::v1::GetJobResponse> job = manager_->Get(get);
  if (!job.ok()) return job.status();
  return CallerCheck::RequireOwner(caller, job->job().owner(), method, job_id);
}

grpc::Status JobServiceImpl::CancelJob(
    grpc::ServerContext* context, const quarry::v1::CancelJobRequest* request,
    quarry::v1::CancelJobResponse* response) {
  absl::StatusOr<Principal> caller =
      callers_->Require(*context, Role::kUser, "CancelJob");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  grpc::Status status = Serve(
      *readiness_,
      [&]() -> absl::StatusOr<quarry::v1::CancelJobResponse> {
        if (absl::Status owned =
                RequireJobOwner(*caller, "CancelJob", request->job_id());
            !owned.ok()) {
          return owned;
        }
        absl::StatusOr<quarry::v1::Job> job =
            manager_->Cancel(request->job_id());
        if (!job.ok()) return job.status();
        quarry::v1::CancelJobResponse cancelled;
        *cancelled.mutable_job() = *std::move(job);
        return cancelled;
      },
      response);
  if (callers_->enabled()) {
    CallerCheck::Audit(*caller, "CancelJob", request->job_id(),
                       FromGrpcStatus(status));
  }
  return status;
}

grpc::Status JobServiceImpl::ListHistory(
    grpc::ServerContext* context, const quarry::v1::ListHistoryRequest* request,
    quarry::v1::ListHistoryResponse* response) {
  if (absl::StatusOr<Principal> caller =
          callers_->Require(*context, Role::kReader, "ListHistory");
      !caller.ok()) {
    return ToGrpcStatus(caller.status());
  }
  return Serve(
      *readiness_, [&] { return manager_->ListHistory(*request); }, response);
}

grpc::Status JobServiceImpl::WatchJob(
    grpc::ServerContext* context, const quarry::v1::WatchJobRequest* request,
    grpc::ServerWriter<quarry::v1::JobEvent>* writer) {
  if (absl::StatusOr<Principal> caller =
          callers_->Require(*context, Role::kReader, "WatchJob");
      !caller.ok()) {
    return ToGrpcStatus(caller.status());
  }
  if (grpc::Status ready = ToGrpcStatus(readiness_->Check()); !ready.ok()) {
    return ready;
  }
  return ToGrpcStatus(manager_->Watch(
      request->job_id(),
      [writer](const quarry::v1::JobEvent& event) {
        return writer->Write(event);
      },
      [context] { return context->IsCancelled(); }));
}

grpc::Status JobServiceImpl::GetAttemptLog(
    grpc::ServerContext* context,
    const quarry::v1::GetAttemptLogRequest* request,
    quarry::v1::GetAttemptLogResponse* response) {
  absl::StatusOr<Principal> caller =
      callers_->Require(*context, Role::kUser, "GetAttemptLog");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  return Serve(
      *readiness_,
      [&]() -> absl::StatusOr<quarry::v1::GetAttemptLogResponse> {
        if (absl::Status owned =
                RequireJobOwner(*caller, "GetAttemptLog", request->job_id());
            !owned.ok()) {
          return owned;
        }
        return logs_->Fetch(*request);
      },
      response);
}

}  // namespace quarry

#include "leader/api/job_service.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/server_callback.h>

#include "common/status_util.h"

namespace quarry {
namespace {

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
                               bool get_job_never_blocks)
    : manager_(manager), readiness_(readiness), logs_(logs) {
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
            return FinishNow(context, HandleGetJob(request, response));
          }));
}

grpc::Status JobServiceImpl::SubmitJob(
    grpc::ServerContext*, const quarry::v1::SubmitJobRequest* request,
    quarry::v1::SubmitJobResponse* response) {
  return Serve(
      *readiness_, [&] { return manager_->Submit(request->spec()); }, response);
}

grpc::Status JobServiceImpl::GetJob(grpc::ServerContext*,
                                    const quarry::v1::GetJobRequest* request,
                                    quarry::v1::GetJobResponse* response) {
  return HandleGetJob(request, response);
}

grpc::Status JobServiceImpl::HandleGetJob(
    const quarry::v1::GetJobRequest* request,
    quarry::v1::GetJobResponse* response) {
  return Serve(
      *readiness_, [&] { return manager_->Get(*request); }, response);
}

grpc::Status JobServiceImpl::ListJobs(
    grpc::ServerContext*, const quarry::v1::ListJobsRequest* request,
    quarry::v1::ListJobsResponse* response) {
  return Serve(
      *readiness_, [&] { return manager_->List(*request); }, response);
}

grpc::Status JobServiceImpl::GetJobResult(
    grpc::ServerContext*, const quarry::v1::GetJobResultRequest* request,
    quarry::v1::GetJobResultResponse* response) {
  return Serve(
      *readiness_, [&] { return manager_->Result(request->job_id()); },
      response);
}

grpc::Status JobServiceImpl::CancelJob(
    grpc::ServerContext*, const quarry::v1::CancelJobRequest* request,
    quarry::v1::CancelJobResponse* response) {
  return Serve(
      *readiness_,
      [&]() -> absl::StatusOr<quarry::v1::CancelJobResponse> {
        absl::StatusOr<quarry::v1::Job> job =
            manager_->Cancel(request->job_id());
        if (!job.ok()) return job.status();
        quarry::v1::CancelJobResponse cancelled;
        *cancelled.mutable_job() = *std::move(job);
        return cancelled;
      },
      response);
}

grpc::Status JobServiceImpl::ListHistory(
    grpc::ServerContext*, const quarry::v1::ListHistoryRequest* request,
    quarry::v1::ListHistoryResponse* response) {
  return Serve(
      *readiness_, [&] { return manager_->ListHistory(*request); }, response);
}

grpc::Status JobServiceImpl::WatchJob(
    grpc::ServerContext* context, const quarry::v1::WatchJobRequest* request,
    grpc::ServerWriter<quarry::v1::JobEvent>* writer) {
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
    grpc::ServerContext*, const quarry::v1::GetAttemptLogRequest* request,
    quarry::v1::GetAttemptLogResponse* response) {
  return Serve(
      *readiness_, [&] { return logs_->Fetch(*request); }, response);
}

}  // namespace quarry

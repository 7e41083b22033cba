#include "leader/api/job_service.h"

#include <google/protobuf/descriptor.h>
#include <grpcpp/support/server_callback.h>

#include "common/status_util.h"

namespace quarry {
namespace {

// Copies `result`'s value into `response`, or returns its error.
template <typename T>
grpc::Status Answer(absl::StatusOr<T> result, T* response) {
  if (!result.ok()) return ToGrpcStatus(result.status());
  *response = *std::move(result);
  return grpc::Status::OK;
}

}  // namespace

JobServiceImpl::JobServiceImpl(JobManager* manager, const Readiness* readiness,
                               const AttemptLogFetcher* logs,
                               bool get_job_never_blocks,
                               const CallerCheck* callers)
    : calls_(manager, readiness, logs, callers) {
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
  return Answer(calls_.Submit(AuthorizationOf(*context), *request), response);
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
  return Answer(calls_.Get(AuthorizationOf(context), *request), response);
}

grpc::Status JobServiceImpl::ListJobs(
    grpc::ServerContext* context, const quarry::v1::ListJobsRequest* request,
    quarry::v1::ListJobsResponse* response) {
  return Answer(calls_.List(AuthorizationOf(*context), *request), response);
}

grpc::Status JobServiceImpl::GetJobResult(
    grpc::ServerContext* context,
    const quarry::v1::GetJobResultRequest* request,
    quarry::v1::GetJobResultResponse* response) {
  return Answer(calls_.Result(AuthorizationOf(*context), *request), response);
}

grpc::Status JobServiceImpl::CancelJob(
    grpc::ServerContext* context, const quarry::v1::CancelJobRequest* request,
    quarry::v1::CancelJobResponse* response) {
  return Answer(calls_.Cancel(AuthorizationOf(*context), *request), response);
}

grpc::Status JobServiceImpl::ListHistory(
    grpc::ServerContext* context, const quarry::v1::ListHistoryRequest* request,
    quarry::v1::ListHistoryResponse* response) {
  return Answer(calls_.History(AuthorizationOf(*context), *request),
                response);
}

grpc::Status JobServiceImpl::WatchJob(
    grpc::ServerContext* context, const quarry::v1::WatchJobRequest* request,
    grpc::ServerWriter<quarry::v1::JobEvent>* writer) {
  return ToGrpcStatus(calls_.Watch(
      AuthorizationOf(*context), *request,
      [writer](const quarry::v1::JobEvent& event) {
        return writer->Write(event);
      },
      [context] { return context->IsCancelled(); }));
}

grpc::Status JobServiceImpl::GetAttemptLog(
    grpc::ServerContext* context,
    const quarry::v1::GetAttemptLogRequest* request,
    quarry::v1::GetAttemptLogResponse* response) {
  return Answer(calls_.Log(AuthorizationOf(*context), *request), response);
}

}  // namespace quarry

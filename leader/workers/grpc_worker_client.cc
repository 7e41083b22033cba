#include "leader/workers/grpc_worker_client.h"

#include <string>

#include <grpcpp/grpcpp.h>

#include "common/auth.h"
#include "common/status_util.h"
#include "quarry/v1/worker_service.grpc.pb.h"

namespace quarry {
namespace {

using quarry::v1::WorkerService;

// One unary call in flight: owns the context, request and response until
// gRPC runs the completion, then hands the result to the caller.
template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
};

class GrpcWorkerClient : public WorkerClient {
 public:
  GrpcWorkerClient(std::shared_ptr<grpc::Channel> channel,
                   std::string worker_id, const WorkerTokens* tokens,
                   const ActingEpoch* epoch)
      : stub_(WorkerService::NewStub(channel)),
        worker_id_(std::move(worker_id)),
        tokens_(tokens),
        epoch_(epoch) {}

  void StartTasks(quarry::v1::StartTasksRequest request, absl::Duration timeout,
                  Callback<quarry::v1::StartTasksResponse> done) override {
    Send(std::move(request), timeout, std::move(done),
         [this](auto* context, auto* req, auto* resp, auto callback) {
           stub_->async()->StartTasks(context, req, resp, std::move(callback));
         });
  }

  void GetWorkerState(
      quarry::v1::GetWorkerStateRequest request, absl::Duration timeout,
      Callback<quarry::v1::GetWorkerStateResponse> done) override {
    Send(std::move(request), timeout, std::move(done),
         [this](auto* context, auto* req, auto* resp, auto callback) {
           stub_->async()->GetWorkerState(context, req, resp,
                                          std::move(callback));
         });
  }

  void CancelTasks(quarry::v1::CancelTasksRequest request,
                   absl::Duration timeout,
                   Callback<quarry::v1::CancelTasksResponse> done) override {
    Send(std::move(request), timeout, std::move(done),
         [this](auto* context, auto* req, auto* resp, auto callback) {
           stub_->async()->CancelTasks(context, req, resp, std::move(callback));
         });
  }

  void GetAttemptLog(
      quarry::v1::GetWorkerAttemptLogRequest request, absl::Duration timeout,
      Callback<quarry::v1::GetWorkerAttemptLogResponse> done) override {
    Send(std::move(request), timeout, std::move(done),
         [this](auto* context, auto* req, auto* resp, auto callback) {
           stub_->async()->GetAttemptLog(context, req, resp,
                                         std::move(callback));
         });
  }

 private:
  template <typename Request, typename Response, typename Invoke>
  void Send(Request request, absl::Duration timeout, Callback<Response> done,
            Invoke invoke) {
    auto* call = new Call<Request, Response>();
    call->request = std::move(request);
    call->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    if (tokens_ != nullptr) AddToken(tokens_->Get(worker_id_), call->context);
    if (epoch_ != nullptr) AddLeaderEpoch(epoch_->get(), call->context);
    invoke(&call->context, &call->request, &call->response,
           [call, done = std::move(done)](grpc::Status status) {
             std::unique_ptr<Call<Request, Response>> owned(call);
             if (status.ok()) {
               done(std::move(owned->response));
             } else {
               done(FromGrpcStatus(status));
             }
           });
  }

  std::unique_ptr<WorkerService::Stub> stub_;
  const std::string worker_id_;
  const WorkerTokens* const tokens_;
  const ActingEpoch* const epoch_;
};

}  // namespace

GrpcWorkerClientFactory::GrpcWorkerClientFactory(
    std::shared_ptr<grpc::ChannelCredentials> credentials,
    const WorkerTokens* tokens, const ActingEpoch* epoch)
    : credentials_(credentials != nullptr ? std::move(credentials)
                                          : grpc::InsecureChannelCredentials()),
      tokens_(tokens),
      epoch_(epoch) {}

std::unique_ptr<WorkerClient> GrpcWorkerClientFactory::Connect(
    absl::string_view worker_id, absl::string_view address) {
  // The controller retries on its own terms (another worker, a bounded
  // number of dispatches); gRPC's transparent retries only add a filter to
  // every call.
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  return std::make_unique<GrpcWorkerClient>(
      grpc::CreateCustomChannel(std::string(address), credentials_, args),
      std::string(worker_id), tokens_, epoch_);
}

}  // namespace quarry

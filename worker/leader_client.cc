#include "worker/leader_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace quarry::worker {
namespace {

constexpr int kMinReconnectBackoffMs = 100;
constexpr int kMaxReconnectBackoffMs = 1000;

void PrepareContext(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  context.set_wait_for_ready(true);
}

// Adds the leader's address to a failed call's message.
absl::Status WithAddress(const grpc::Status& status, absl::string_view rpc,
                         absl::string_view address) {
  absl::Status converted = FromGrpcStatus(status);
  if (converted.ok()) return converted;
  return absl::Status(
      converted.code(),
      absl::StrCat(rpc, " to leader ", address, ": ", converted.message()));
}

}  // namespace

class GrpcLeaderClient::InFlight {
 public:
  InFlight(GrpcLeaderClient* client, grpc::ClientContext* context)
      : client_(client), context_(context) {
    absl::MutexLock lock(&client_->mu_);
    client_->in_flight_.insert(context_);
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight() {
    absl::MutexLock lock(&client_->mu_);
    client_->in_flight_.erase(context_);
  }

 private:
  GrpcLeaderClient* const client_;
  grpc::ClientContext* const context_;
};

GrpcLeaderClient::GrpcLeaderClient(const std::string& address)
    : address_(address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kMinReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kMinReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  stub_ = quarry::v1::ClusterService::NewStub(grpc::CreateCustomChannel(
      address, grpc::InsecureChannelCredentials(), args));
}

absl::StatusOr<quarry::v1::RegisterWorkerResponse>
GrpcLeaderClient::RegisterWorker(
    const quarry::v1::RegisterWorkerRequest& request, absl::Duration timeout) {
  grpc::ClientContext context;
  PrepareContext(context, timeout);
  quarry::v1::RegisterWorkerResponse response;
  const InFlight in_flight(this, &context);
  const grpc::Status status =
      stub_->RegisterWorker(&context, request, &response);
  if (!status.ok()) return WithAddress(status, "RegisterWorker", address_);
  return response;
}

absl::Status GrpcLeaderClient::ReportWorkerState(
    const quarry::v1::ReportWorkerStateRequest& request,
    absl::Duration timeout) {
  grpc::ClientContext context;
  PrepareContext(context, timeout);
  quarry::v1::ReportWorkerStateResponse response;
  const InFlight in_flight(this, &context);
  return WithAddress(stub_->ReportWorkerState(&context, request, &response),
                     "ReportWorkerState", address_);
}

void GrpcLeaderClient::CancelCallsInFlight() {
  absl::MutexLock lock(&mu_);
  for (grpc::ClientContext* context : in_flight_) context->TryCancel();
}

}  // namespace quarry::worker

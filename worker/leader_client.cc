#include "worker/leader_client.h"

#include <grpcpp/grpcpp.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/auth.h"
#include "common/status_util.h"

namespace quarry::worker {
namespace {

constexpr int kMinReconnectBackoffMs = 100;
constexpr int kMaxReconnectBackoffMs = 1000;
// How often a RequestCommit call in flight checks its cancel flag.
constexpr absl::Duration kCancelPollInterval = absl::Milliseconds(5);

void PrepareContext(grpc::ClientContext& context, absl::Duration timeout,
                    absl::string_view token) {
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  context.set_wait_for_ready(true);
  AddToken(token, context);
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

// ConnectWorker over gRPC. Owns the call's context (so Cancel() works even
// before the call starts) and its reader. Read()/Finish() on one thread,
// Cancel() on any (ClientContext::TryCancel is thread-safe).
class GrpcCommandStream : public CommandStream {
 public:
  GrpcCommandStream(quarry::v1::ClusterService::Stub* stub,
                    quarry::v1::ConnectWorkerRequest request,
                    absl::Duration timeout, const std::string& address,
                    absl::string_view token)
      : stub_(stub), request_(std::move(request)), address_(address) {
    // Fail fast while the leader is down: the caller reconnects with its
    // own backoff.
    context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    AddToken(token, context_);
  }

  bool Read(quarry::v1::WorkerCommand* command) override {
    if (reader_ == nullptr) reader_ = stub_->ConnectWorker(&context_, request_);
    return reader_->Read(command);
  }

  absl::Status Finish() override {
    if (reader_ == nullptr) return absl::CancelledError("stream never opened");
    return WithAddress(reader_->Finish(), "ConnectWorker", address_);
  }

  void Cancel() override { context_.TryCancel(); }

 private:
  quarry::v1::ClusterService::Stub* const stub_;
  const quarry::v1::ConnectWorkerRequest request_;
  const std::string address_;
  grpc::ClientContext context_;
  // Declared after context_: destroyed before it.
  std::unique_ptr<grpc::ClientReader<quarry::v1::WorkerCommand>> reader_;
};

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

GrpcLeaderClient::GrpcLeaderClient(
    const std::string& address, std::string token,
    std::shared_ptr<grpc::ChannelCredentials> credentials)
    : address_(address), token_(std::move(token)) {
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, kMinReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, kMinReconnectBackoffMs);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, kMaxReconnectBackoffMs);
  // The reporter and the commit gate retry on their own terms; gRPC's
  // transparent retries only add a filter to every call.
  args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
  stub_ = quarry::v1::ClusterService::NewStub(grpc::CreateCustomChannel(
      address, std::move(credentials), args));
}

absl::StatusOr<quarry::v1::RegisterWorkerResponse>
GrpcLeaderClient::RegisterWorker(
    const quarry::v1::RegisterWorkerRequest& request, absl::Duration timeout) {
  grpc::ClientContext context;
  PrepareContext(context, timeout, token_);
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
  PrepareContext(context, timeout, token_);
  quarry::v1::ReportWorkerStateResponse response;
  const InFlight in_flight(this, &context);
  return WithAddress(stub_->ReportWorkerState(&context, request, &response),
                     "ReportWorkerState", address_);
}

absl::StatusOr<quarry::v1::RequestCommitResponse>
GrpcLeaderClient::RequestCommit(const quarry::v1::RequestCommitRequest& request,
                                absl::Duration timeout,
                                const CancelFlag* cancel) {
  if (cancel != nullptr && cancel->cancelled()) {
    return absl::CancelledError("attempt cancelled");
  }
  grpc::ClientContext context;
  PrepareContext(context, timeout, token_);
  quarry::v1::RequestCommitResponse response;
  const InFlight in_flight(this, &context);
  // The callback API, so the wait can watch `cancel` too.
  absl::Notification done;
  grpc::Status status;
  stub_->async()->RequestCommit(&context, &request, &response,
                                [&done, &status](grpc::Status result) {
                                  status = std::move(result);
                                  done.Notify();
                                });
  bool cancelled = false;
  while (!done.WaitForNotificationWithTimeout(kCancelPollInterval)) {
    if (!cancelled && cancel != nullptr && cancel->cancelled()) {
      context.TryCancel();
      cancelled = true;
    }
  }
  if (cancelled) return absl::CancelledError("attempt cancelled");
  if (!status.ok()) return WithAddress(status, "RequestCommit", address_);
  return response;
}

absl::Status GrpcLeaderClient::DeregisterWorker(
    const quarry::v1::DeregisterWorkerRequest& request,
    absl::Duration timeout) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  AddToken(token_, context);
  quarry::v1::DeregisterWorkerResponse response;
  const InFlight in_flight(this, &context);
  return WithAddress(stub_->DeregisterWorker(&context, request, &response),
                     "DeregisterWorker", address_);
}

std::unique_ptr<CommandStream> GrpcLeaderClient::ConnectWorker(
    const quarry::v1::ConnectWorkerRequest& request, absl::Duration timeout) {
  return std::make_unique<GrpcCommandStream>(stub_.get(), request, timeout,
                                             address_, token_);
}

void GrpcLeaderClient::CancelCallsInFlight() {
  absl::MutexLock lock(&mu_);
  for (grpc::ClientContext* context : in_flight_) context->TryCancel();
}

}  // namespace quarry::worker

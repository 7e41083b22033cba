#include "cli/leader_client.h"

#include "absl/strings/str_cat.h"
#include "common/status_util.h"

namespace quarry::cli {
namespace {

// The CLI often starts before the leader listens (cluster --wait-for) or
// outlives a leader restart (submit --wait): retry connecting quickly
// instead of gRPC's default 1 s..120 s backoff.
grpc::ChannelArguments ChannelArgs() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return args;
}

}  // namespace

LeaderClient::LeaderClient(std::string address, absl::Duration timeout,
                           std::string token, const TlsMaterial& tls)
    : address_(std::move(address)),
      timeout_(timeout),
      token_(std::move(token)),
      connect_hint_(TlsHint(tls)),
      credentials_(ChannelCredentialsFor(tls)),
      channel_(
          grpc::CreateCustomChannel(address_, credentials_, ChannelArgs())),
      jobs_(quarry::v1::JobService::NewStub(channel_)),
      cluster_(quarry::v1::ClusterService::NewStub(channel_)) {}

absl::Status LeaderClient::Check(const grpc::Status& status) const {
  const absl::Status converted = FromGrpcStatus(status);
  if (absl::IsUnavailable(converted) || absl::IsDeadlineExceeded(converted)) {
    // A leader that answered leaves the channel READY; otherwise the
    // connection itself failed, maybe for want of the right TLS options.
    const bool connected =
        channel_->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY;
    return absl::Status(
        converted.code(),
        absl::StrCat("leader ", address_, ": ", converted.message(),
                     connected ? "" : connect_hint_));
  }
  return converted;
}

}  // namespace quarry::cli

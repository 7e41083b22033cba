#ifndef QUARRY_CLI_LEADER_CLIENT_H_
#define QUARRY_CLI_LEADER_CLIENT_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/auth.h"
#include "common/tls.h"
#include "quarry/v1/cluster_service.grpc.pb.h"
#include "quarry/v1/job_service.grpc.pb.h"

namespace quarry::cli {

// The CLI's connection to the leader: one channel (TLS when a CA is given)
// and the stubs of
// JobService and ClusterService on it. Owns the channel. Thread-safe (gRPC
// stubs are), but the CLI uses it from one thread.
class LeaderClient {
 public:
  // `timeout` bounds every unary call; `token` (may be empty) goes with
  // every call as "authorization: Bearer TOKEN"; `tls` (default:
  // plaintext) secures the channel.
  LeaderClient(std::string address, absl::Duration timeout,
               std::string token = "", const TlsMaterial& tls = {});

  const std::string& address() const { return address_; }
  absl::Duration timeout() const { return timeout_; }
  const std::string& token() const { return token_; }
  quarry::v1::JobService::Stub& jobs() { return *jobs_; }
  quarry::v1::ClusterService::Stub& cluster() { return *cluster_; }
  // For channels to other addresses (`quarry health --address`).
  const std::shared_ptr<grpc::ChannelCredentials>& credentials() const {
    return credentials_;
  }
  // Appended to errors of a failed connection (common/tls.h TlsHint).
  const std::string& connect_hint() const { return connect_hint_; }

  // Runs one unary call, `call(context)`, with a deadline of now + timeout
  // (or `deadline` if sooner). Returns its status as an absl::Status;
  // UNAVAILABLE and DEADLINE_EXCEEDED messages name the leader.
  template <typename Call>
  absl::Status Unary(Call&& call,
                     absl::Time deadline = absl::InfiniteFuture()) const {
    grpc::ClientContext context;
    context.set_deadline(
        absl::ToChronoTime(std::min(absl::Now() + timeout_, deadline)));
    AddToken(token_, context);
    return Check(call(&context));
  }

  // Converts a call's status, adding the leader address to the messages of
  // UNAVAILABLE and DEADLINE_EXCEEDED (the "cannot reach it" codes).
  absl::Status Check(const grpc::Status& status) const;

 private:
  std::string address_;
  absl::Duration timeout_;
  std::string token_;
  std::string connect_hint_;
  std::shared_ptr<grpc::ChannelCredentials> credentials_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<quarry::v1::JobService::Stub> jobs_;
  std::unique_ptr<quarry::v1::ClusterService::Stub> cluster_;
};

}  // namespace quarry::cli

#endif  // QUARRY_CLI_LEADER_CLIENT_H_

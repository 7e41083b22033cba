#ifndef QUARRY_WORKER_LEADER_CLIENT_H_
#define QUARRY_WORKER_LEADER_CLIENT_H_

#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "quarry/v1/cluster_service.grpc.pb.h"
#include "quarry/v1/cluster_service.pb.h"
#include "worker/cancel_flag.h"

namespace quarry::worker {

// The leader's end of ClusterService.ConnectWorker: commands the leader
// sends to this worker. Owned by the one thread that reads it; Cancel() may
// be called from any thread.
class CommandStream {
 public:
  virtual ~CommandStream() = default;

  // Blocks for the next command. False once the stream has ended; then
  // call Finish() once.
  virtual bool Read(quarry::v1::WorkerCommand* command) = 0;

  // Why the stream ended: NOT_FOUND when the leader does not know the
  // worker (register again), CANCELLED after Cancel(), UNAVAILABLE...
  virtual absl::Status Finish() = 0;

  // Ends the stream at once: a blocked Read() returns false. Thread-safe,
  // idempotent, and valid before the first Read().
  virtual void Cancel() = 0;
};

// The ClusterService calls a worker makes, behind an interface so the
// reporter, the commit gate and the leader connection can be tested with a
// fake leader. Implementations are thread-safe: the reporter thread, slot
// threads (RequestCommit), the connection thread and the drain call them.
class LeaderClient {
 public:
  virtual ~LeaderClient() = default;

  // Announces the worker. Errors: UNAVAILABLE/DEADLINE_EXCEEDED when the
  // leader cannot be reached in `timeout` (retry), INVALID_ARGUMENT...
  virtual absl::StatusOr<quarry::v1::RegisterWorkerResponse> RegisterWorker(
      const quarry::v1::RegisterWorkerRequest& request,
      absl::Duration timeout) = 0;

  // Reports finished attempts (or nothing: a heartbeat). NOT_FOUND when the
  // leader does not know the worker: register again, then resend.
  virtual absl::Status ReportWorkerState(
      const quarry::v1::ReportWorkerStateRequest& request,
      absl::Duration timeout) = 0;

  // Asks whether an attempt may commit its output. The leader's answer, or
  // UNAVAILABLE/DEADLINE_EXCEEDED (no answer in `timeout`: retry), or
  // CANCELLED when `cancel` (may be null) was set during the call, which
  // then returns within a few milliseconds.
  virtual absl::StatusOr<quarry::v1::RequestCommitResponse> RequestCommit(
      const quarry::v1::RequestCommitRequest& request, absl::Duration timeout,
      const CancelFlag* cancel) = 0;

  // Leaves the cluster (the last call of a drained worker). Fails fast
  // when the leader is down: there is no point waiting for it.
  virtual absl::Status DeregisterWorker(
      const quarry::v1::DeregisterWorkerRequest& request,
      absl::Duration timeout) = 0;

  // Opens the worker's command stream; `timeout` bounds its whole life.
  // Returns at once: the call starts with the first Read().
  virtual std::unique_ptr<CommandStream> ConnectWorker(
      const quarry::v1::ConnectWorkerRequest& request,
      absl::Duration timeout) = 0;

  // Makes the unary calls in flight return at once (CANCELLED). Calls
  // started later, and command streams, are not affected. Used to stop the
  // worker without waiting for a leader that does not answer.
  virtual void CancelCallsInFlight() {}
};

// LeaderClient over gRPC. Owns one channel to the leader. The channel
// reconnects quickly (at most ~1 s between connection attempts) so a
// restarted leader is found again at once, and each unary call but
// DeregisterWorker waits for the connection up to its deadline
// (wait_for_ready) instead of failing fast. Thread-safe; the set of calls
// in flight is guarded by mu_.
class GrpcLeaderClient : public LeaderClient {
 public:
  // `address` is "HOST:PORT" of the leader's ClusterService; `token` (may
  // be empty: the leader runs without auth) goes with every call;
  // `credentials` (null: insecure) secure the channel (common/tls.h).
  explicit GrpcLeaderClient(
      const std::string& address, std::string token = "",
      std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);

  absl::StatusOr<quarry::v1::RegisterWorkerResponse> RegisterWorker(
      const quarry::v1::RegisterWorkerRequest& request,
      absl::Duration timeout) override;
  absl::Status ReportWorkerState(
      const quarry::v1::ReportWorkerStateRequest& request,
      absl::Duration timeout) override;
  absl::StatusOr<quarry::v1::RequestCommitResponse> RequestCommit(
      const quarry::v1::RequestCommitRequest& request, absl::Duration timeout,
      const CancelFlag* cancel) override;
  absl::Status DeregisterWorker(
      const quarry::v1::DeregisterWorkerRequest& request,
      absl::Duration timeout) override;
  std::unique_ptr<CommandStream> ConnectWorker(
      const quarry::v1::ConnectWorkerRequest& request,
      absl::Duration timeout) override;
  void CancelCallsInFlight() override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Registers `context` as in flight for the life of the object.
  class InFlight;

  const std::string address_;
  const std::string token_;
  std::unique_ptr<quarry::v1::ClusterService::Stub> stub_;
  absl::Mutex mu_;
  absl::flat_hash_set<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_LEADER_CLIENT_H_

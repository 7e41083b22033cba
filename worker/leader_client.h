#ifndef QUARRY_WORKER_LEADER_CLIENT_H_
#define QUARRY_WORKER_LEADER_CLIENT_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "quarry/v1/cluster_service.grpc.pb.h"
#include "quarry/v1/cluster_service.pb.h"

namespace quarry::worker {

// The two ClusterService calls a worker makes, behind an interface so the
// Reporter can be tested with a fake leader. Implementations are
// thread-safe; in the worker only the reporter thread calls them.
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

  // Makes the calls in flight return at once (CANCELLED). Calls started
  // later are not affected. Used to stop the worker without waiting for a
  // leader that does not answer.
  virtual void CancelCallsInFlight() {}
};

// LeaderClient over gRPC. Owns one channel to the leader. The channel
// reconnects quickly (at most ~1 s between connection attempts) so a
// restarted leader is found again at once, and each call waits for the
// connection up to its deadline (wait_for_ready) instead of failing fast.
// Thread-safe; the set of calls in flight is guarded by mu_.
class GrpcLeaderClient : public LeaderClient {
 public:
  // `address` is "HOST:PORT" of the leader's ClusterService.
  explicit GrpcLeaderClient(const std::string& address);

  absl::StatusOr<quarry::v1::RegisterWorkerResponse> RegisterWorker(
      const quarry::v1::RegisterWorkerRequest& request,
      absl::Duration timeout) override;
  absl::Status ReportWorkerState(
      const quarry::v1::ReportWorkerStateRequest& request,
      absl::Duration timeout) override;
  void CancelCallsInFlight() override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // Registers `context` as in flight for the life of the object.
  class InFlight;

  const std::string address_;
  std::unique_ptr<quarry::v1::ClusterService::Stub> stub_;
  absl::Mutex mu_;
  absl::flat_hash_set<grpc::ClientContext*> in_flight_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_LEADER_CLIENT_H_

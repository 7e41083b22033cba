#ifndef QUARRY_LEADER_WORKERS_WORKER_CONNECTION_H_
#define QUARRY_LEADER_WORKERS_WORKER_CONNECTION_H_

#include <deque>
#include <memory>
#include <optional>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "leader/workers/worker_link.h"
#include "quarry/v1/cluster_service.pb.h"

namespace quarry {

class WorkerConnection;

// A stream that ends at once with `status` (e.g. a malformed request).
grpc::ServerWriteReactor<quarry::v1::WorkerCommand>* RejectStream(
    const grpc::Status& status);

// Every open ConnectWorker stream, so the leader can end them all at
// shutdown instead of waiting for them. Thread-safe.
class WorkerConnections {
 public:
  // Opens the server side of a stream for `worker_id` (gRPC owns the
  // returned reactor until its OnDone).
  grpc::ServerWriteReactor<quarry::v1::WorkerCommand>* Open(
      WorkerLinkEvents* events, const std::string& worker_id);
  void CloseAll();

 private:
  friend class WorkerConnection;
  void Forget(WorkerConnection* connection);

  absl::Mutex mu_;
  absl::flat_hash_set<std::shared_ptr<WorkerConnection>> open_
      ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
};

// One ConnectWorker stream (gRPC callback API). Tells the controller when
// it opens and when it breaks (the worker died or its host went away), and
// writes the controller's commands to the worker in order. Owned by
// WorkerConnections (shared) until gRPC calls OnDone. Thread-safe: gRPC
// callbacks and controller commands meet under mu_.
class WorkerConnection : public grpc::ServerWriteReactor<quarry::v1::WorkerCommand>,
                         public WorkerLink,
                         public std::enable_shared_from_this<WorkerConnection> {
 public:
  WorkerConnection(WorkerLinkEvents* events, std::string worker_id,
                   WorkerConnections* owner);

  // Registers with the controller and sends KIND_CONNECTED (or finishes
  // with NOT_FOUND for an unknown worker).
  void Begin();

  void SendDrain() override;
  void Close() override;

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  void Send(quarry::v1::WorkerCommand::Kind kind) ABSL_LOCKS_EXCLUDED(mu_);
  void FinishOnce(const grpc::Status& status) ABSL_LOCKS_EXCLUDED(mu_);

  WorkerLinkEvents* const events_;
  const std::string worker_id_;
  WorkerConnections* const owner_;
  int64_t connection_id_ = -1;  // Set by Begin, read by callbacks after.

  absl::Mutex mu_;
  std::deque<quarry::v1::WorkerCommand> queue_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  // Finish waits for the write in flight: the status to finish with then.
  std::optional<grpc::Status> finish_after_write_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry

#endif  // QUARRY_LEADER_WORKERS_WORKER_CONNECTION_H_

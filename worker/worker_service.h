#ifndef QUARRY_WORKER_WORKER_SERVICE_H_
#define QUARRY_WORKER_WORKER_SERVICE_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/leader_epoch.h"
#include "quarry/v1/worker_service.grpc.pb.h"
#include "worker/attempt_log_store.h"
#include "worker/slot_executor.h"

namespace quarry::worker {

// The WorkerService gRPC adapter: checks that each request is meant for
// this worker, then calls the SlotExecutor and converts the result.
//
// Every request names a worker_id. Empty: INVALID_ARGUMENT. Another id:
// FAILED_PRECONDITION ("request meant for worker "X" reached worker "Y" at
// ADDRESS"), so a misrouted address never makes this worker run someone
// else's work. Before SetIdentity() every call is UNAVAILABLE.
//
// Owns only the worker's identity (guarded by mu_); the executor and the
// attempt logs are borrowed. Thread-safe: gRPC calls it on its own threads.
// StartTasks, the call of every dispatch, uses the callback API: answered
// on the gRPC thread that read it (starting attempts never blocks), without
// a hand-off to a sync server thread; its work is HandleStartTasks (which
// decorators such as TimedWorkerService override).
class WorkerServiceImpl
    : public quarry::v1::WorkerService::WithCallbackMethod_StartTasks<
          quarry::v1::WorkerService::Service> {
 public:
  // `executor` and `logs` must outlive the service; `logs` may be null (no
  // attempt logs: GetAttemptLog answers NOT_FOUND).
  // `leader_token` not empty (the worker runs with --token_file): every
  // call must carry it (the leader sends the token the worker registered
  // with); others get UNAUTHENTICATED. `fence` (may be null: none)
  // refuses calls from a deposed leader (common/leader_epoch.h).
  explicit WorkerServiceImpl(SlotExecutor* executor,
                             AttemptLogStore* logs = nullptr,
                             std::string leader_token = "",
                             EpochFence* fence = nullptr);

  // Names this worker. Called by the composition root once the server's
  // port (and so the default id and the address) is known.
  void SetIdentity(std::string worker_id, std::string address)
      ABSL_LOCKS_EXCLUDED(mu_);

  grpc::ServerUnaryReactor* StartTasks(
      grpc::CallbackServerContext* context,
      const quarry::v1::StartTasksRequest* request,
      quarry::v1::StartTasksResponse* response) final;
  // What StartTasks does; never blocks.
  virtual grpc::Status HandleStartTasks(
      const quarry::v1::StartTasksRequest* request,
      quarry::v1::StartTasksResponse* response);
  grpc::Status GetWorkerState(
      grpc::ServerContext* context,
      const quarry::v1::GetWorkerStateRequest* request,
      quarry::v1::GetWorkerStateResponse* response) override;
  grpc::Status CancelTasks(grpc::ServerContext* context,
                           const quarry::v1::CancelTasksRequest* request,
                           quarry::v1::CancelTasksResponse* response) override;
  grpc::Status GetAttemptLog(
      grpc::ServerContext* context,
      const quarry::v1::GetWorkerAttemptLogRequest* request,
      quarry::v1::GetWorkerAttemptLogResponse* response) override;

 private:
  // OK if `requested_id` names this worker; the error to return otherwise.
  absl::Status CheckMeantForMe(absl::string_view requested_id) const
      ABSL_LOCKS_EXCLUDED(mu_);

  // OK if the caller may call this worker (see the constructor).
  absl::Status CheckCaller(const grpc::ServerContextBase& context) const;

  SlotExecutor* const executor_;
  AttemptLogStore* const logs_;
  const std::string leader_token_;
  EpochFence* const fence_;
  mutable absl::Mutex mu_;
  std::string worker_id_ ABSL_GUARDED_BY(mu_);
  std::string address_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_WORKER_SERVICE_H_

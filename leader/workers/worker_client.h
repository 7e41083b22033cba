#ifndef QUARRY_LEADER_WORKERS_WORKER_CLIENT_H_
#define QUARRY_LEADER_WORKERS_WORKER_CLIENT_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "quarry/v1/worker_service.pb.h"

namespace quarry {

// How the leader talks to one worker. Every call is asynchronous, carries a
// deadline, and names the worker it is meant for (requests carry worker_id).
// `done` runs exactly once, on an RPC thread, never under the caller's
// locks. The gRPC implementation is GrpcWorkerClient; tests use
// FakeWorkerClient (tests/testing/fake_worker_client.h). Thread-safe.
class WorkerClient {
 public:
  template <typename T>
  using Callback = std::function<void(absl::StatusOr<T>)>;

  virtual ~WorkerClient() = default;
  virtual void StartTasks(quarry::v1::StartTasksRequest request,
                          absl::Duration timeout,
                          Callback<quarry::v1::StartTasksResponse> done) = 0;
  virtual void GetWorkerState(
      quarry::v1::GetWorkerStateRequest request, absl::Duration timeout,
      Callback<quarry::v1::GetWorkerStateResponse> done) = 0;
  virtual void CancelTasks(quarry::v1::CancelTasksRequest request,
                           absl::Duration timeout,
                           Callback<quarry::v1::CancelTasksResponse> done) = 0;
  virtual void GetAttemptLog(
      quarry::v1::GetWorkerAttemptLogRequest request, absl::Duration timeout,
      Callback<quarry::v1::GetWorkerAttemptLogResponse> done) = 0;
};

// Makes the client for a worker at `address`. Thread-safe.
class WorkerClientFactory {
 public:
  virtual ~WorkerClientFactory() = default;
  virtual std::unique_ptr<WorkerClient> Connect(absl::string_view worker_id,
                                                absl::string_view address) = 0;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_WORKERS_WORKER_CLIENT_H_

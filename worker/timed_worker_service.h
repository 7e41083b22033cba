#ifndef QUARRY_WORKER_TIMED_WORKER_SERVICE_H_
#define QUARRY_WORKER_TIMED_WORKER_SERVICE_H_

#include <utility>

#include "common/rpc_metrics.h"
#include "worker/worker_service.h"

namespace quarry::worker {

// WorkerServiceImpl with every RPC timed into RpcMetrics (a decorator: the
// adapter stays as it is; an RPC added later without an override here is
// served untimed). Thread-safe, as the service it extends.
class TimedWorkerService : public WorkerServiceImpl {
 public:
  // `args` are WorkerServiceImpl's.
  template <typename... Args>
  explicit TimedWorkerService(RpcMetrics* rpc, Args&&... args)
      : WorkerServiceImpl(std::forward<Args>(args)...),
        start_(rpc->ForMethod(kService, "StartTasks")),
        state_(rpc->ForMethod(kService, "GetWorkerState")),
        cancel_(rpc->ForMethod(kService, "CancelTasks")),
        attempt_log_(rpc->ForMethod(kService, "GetAttemptLog")) {}

  grpc::Status HandleStartTasks(const quarry::v1::StartTasksRequest* q,
                                quarry::v1::StartTasksResponse* r) override {
    return start_->Time(
        [&] { return WorkerServiceImpl::HandleStartTasks(q, r); });
  }
  grpc::Status GetWorkerState(grpc::ServerContext* c,
                              const quarry::v1::GetWorkerStateRequest* q,
                              quarry::v1::GetWorkerStateResponse* r) override {
    return state_->Time(
        [&] { return WorkerServiceImpl::GetWorkerState(c, q, r); });
  }
  grpc::Status CancelTasks(grpc::ServerContext* c,
                           const quarry::v1::CancelTasksRequest* q,
                           quarry::v1::CancelTasksResponse* r) override {
    return cancel_->Time(
        [&] { return WorkerServiceImpl::CancelTasks(c, q, r); });
  }
  grpc::Status GetAttemptLog(
      grpc::ServerContext* c, const quarry::v1::GetWorkerAttemptLogRequest* q,
      quarry::v1::GetWorkerAttemptLogResponse* r) override {
    return attempt_log_->Time(
        [&] { return WorkerServiceImpl::GetAttemptLog(c, q, r); });
  }

 private:
  static constexpr const char* kService =
      quarry::v1::WorkerService::service_full_name();
  RpcMetrics::Method* const start_;
  RpcMetrics::Method* const state_;
  RpcMetrics::Method* const cancel_;
  RpcMetrics::Method* const attempt_log_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_TIMED_WORKER_SERVICE_H_

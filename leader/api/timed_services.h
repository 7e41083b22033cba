#ifndef QUARRY_LEADER_API_TIMED_SERVICES_H_
#define QUARRY_LEADER_API_TIMED_SERVICES_H_

#include <utility>

#include "common/rpc_metrics.h"
#include "leader/api/cluster_service.h"
#include "leader/api/job_service.h"

namespace quarry {

// The leader's services with every unary RPC timed into RpcMetrics
// (decorators: the adapters stay as they are). Streams (WatchJob,
// ConnectWorker) and RPCs added later without an override here are served
// untimed. Thread-safe, as the services they extend.
class TimedJobService : public JobServiceImpl {
 public:
  // `args` are JobServiceImpl's.
  template <typename... Args>
  explicit TimedJobService(RpcMetrics* rpc, Args&&... args)
      : JobServiceImpl(std::forward<Args>(args)...),
        submit_(rpc->ForMethod(kService, "SubmitJob")),
        get_(rpc->ForMethod(kService, "GetJob")),
        list_(rpc->ForMethod(kService, "ListJobs")),
        result_(rpc->ForMethod(kService, "GetJobResult")),
        cancel_(rpc->ForMethod(kService, "CancelJob")),
        attempt_log_(rpc->ForMethod(kService, "GetAttemptLog")),
        history_(rpc->ForMethod(kService, "ListHistory")) {}

  grpc::Status SubmitJob(grpc::ServerContext* c,
                         const quarry::v1::SubmitJobRequest* q,
                         quarry::v1::SubmitJobResponse* r) override {
    return submit_->Time([&] { return JobServiceImpl::SubmitJob(c, q, r); });
  }
  grpc::Status HandleGetJob(const grpc::ServerContextBase& c,
                            const quarry::v1::GetJobRequest* q,
                            quarry::v1::GetJobResponse* r) override {
    return get_->Time([&] { return JobServiceImpl::HandleGetJob(c, q, r); });
  }
  grpc::Status ListJobs(grpc::ServerContext* c,
                        const quarry::v1::ListJobsRequest* q,
                        quarry::v1::ListJobsResponse* r) override {
    return list_->Time([&] { return JobServiceImpl::ListJobs(c, q, r); });
  }
  grpc::Status GetJobResult(grpc::ServerContext* c,
                            const quarry::v1::GetJobResultRequest* q,
                            quarry::v1::GetJobResultResponse* r) override {
    return result_->Time([&] { return JobServiceImpl::GetJobResult(c, q, r); });
  }
  grpc::Status CancelJob(grpc::ServerContext* c,
                         const quarry::v1::CancelJobRequest* q,
                         quarry::v1::CancelJobResponse* r) override {
    return cancel_->Time([&] { return JobServiceImpl::CancelJob(c, q, r); });
  }
  grpc::Status GetAttemptLog(grpc::ServerContext* c,
                             const quarry::v1::GetAttemptLogRequest* q,
                             quarry::v1::GetAttemptLogResponse* r) override {
    return attempt_log_->Time(
        [&] { return JobServiceImpl::GetAttemptLog(c, q, r); });
  }
  grpc::Status ListHistory(grpc::ServerContext* c,
                           const quarry::v1::ListHistoryRequest* q,
                           quarry::v1::ListHistoryResponse* r) override {
    return history_->Time([&] { return JobServiceImpl::ListHistory(c, q, r); });
  }

 private:
  static constexpr const char* kService =
      quarry::v1::JobService::service_full_name();
  RpcMetrics::Method* const submit_;
  RpcMetrics::Method* const get_;
  RpcMetrics::Method* const list_;
  RpcMetrics::Method* const result_;
  RpcMetrics::Method* const cancel_;
  RpcMetrics::Method* const attempt_log_;
  RpcMetrics::Method* const history_;
};

class TimedClusterService : public ClusterServiceImpl {
 public:
  // `args` are ClusterServiceImpl's.
  template <typename... Args>
  explicit TimedClusterService(RpcMetrics* rpc, Args&&... args)
      : ClusterServiceImpl(std::forward<Args>(args)...),
        register_(rpc->ForMethod(kService, "RegisterWorker")),
        report_(rpc->ForMethod(kService, "ReportWorkerState")),
        cluster_(rpc->ForMethod(kService, "GetCluster")),
        commit_(rpc->ForMethod(kService, "RequestCommit")),
        drain_(rpc->ForMethod(kService, "DrainWorker")),
        deregister_(rpc->ForMethod(kService, "DeregisterWorker")) {}

  grpc::Status RegisterWorker(grpc::ServerContext* c,
                              const quarry::v1::RegisterWorkerRequest* q,
                              quarry::v1::RegisterWorkerResponse* r) override {
    return register_->Time(
        [&] { return ClusterServiceImpl::RegisterWorker(c, q, r); });
  }
  grpc::Status HandleReportWorkerState(
      const grpc::ServerContextBase& c,
      const quarry::v1::ReportWorkerStateRequest* q,
      quarry::v1::ReportWorkerStateResponse* r) override {
    return report_->Time(
        [&] { return ClusterServiceImpl::HandleReportWorkerState(c, q, r); });
  }
  grpc::Status GetCluster(grpc::ServerContext* c,
                          const quarry::v1::GetClusterRequest* q,
                          quarry::v1::GetClusterResponse* r) override {
    return cluster_->Time(
        [&] { return ClusterServiceImpl::GetCluster(c, q, r); });
  }
  grpc::Status RequestCommit(grpc::ServerContext* c,
                             const quarry::v1::RequestCommitRequest* q,
                             quarry::v1::RequestCommitResponse* r) override {
    return commit_->Time(
        [&] { return ClusterServiceImpl::RequestCommit(c, q, r); });
  }
  grpc::Status DrainWorker(grpc::ServerContext* c,
                           const quarry::v1::DrainWorkerRequest* q,
                           quarry::v1::DrainWorkerResponse* r) override {
    return drain_->Time(
        [&] { return ClusterServiceImpl::DrainWorker(c, q, r); });
  }
  grpc::Status DeregisterWorker(
      grpc::ServerContext* c, const quarry::v1::DeregisterWorkerRequest* q,
      quarry::v1::DeregisterWorkerResponse* r) override {
    return deregister_->Time(
        [&] { return ClusterServiceImpl::DeregisterWorker(c, q, r); });
  }

 private:
  static constexpr const char* kService =
      quarry::v1::ClusterService::service_full_name();
  RpcMetrics::Method* const register_;
  RpcMetrics::Method* const report_;
  RpcMetrics::Method* const cluster_;
  RpcMetrics::Method* const commit_;
  RpcMetrics::Method* const drain_;
  RpcMetrics::Method* const deregister_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_API_TIMED_SERVICES_H_

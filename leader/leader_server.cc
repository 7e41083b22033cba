#include "leader/leader_server.h"

#include <glog/logging.h>

#include "common/memory_store.h"
#include "common/rpc_metrics.h"
#include "leader/grpc_worker_client.h"

namespace quarry {

LeaderServer::LeaderServer(LeaderConfig config)
    : config_(std::move(config)),
      leader_metrics_(&metrics_),
      store_(std::make_unique<MemoryStore>()),
      worker_clients_(std::make_unique<GrpcWorkerClientFactory>()) {
  controller_ = std::make_unique<Controller>(
      store_.get(), worker_clients_.get(), &finalizer_, &clock_, &notifier_,
      config_.controller, &leader_metrics_);
  leader_metrics_.CollectFrom(controller_.get());
  job_manager_ =
      std::make_unique<JobManager>(store_.get(), controller_.get(), &notifier_,
                                   &clock_, PlannerLimits{}, &leader_metrics_);
  job_service_ = std::make_unique<JobServiceImpl>(job_manager_.get());
  cluster_service_ = std::make_unique<ClusterServiceImpl>(
      controller_.get(), store_.get(), &clock_);
}

LeaderServer::~LeaderServer() { Shutdown(); }

absl::Status LeaderServer::Start() {
  if (!config_.metrics_listen.empty()) {
    if (absl::Status served = metrics_.Serve(config_.metrics_listen);
        !served.ok()) {
      return served;
    }
  }
  std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>
      interceptors;
  interceptors.push_back(NewRpcMetricsInterceptorFactory(&metrics_));
  absl::StatusOr<StartedServer> started = StartGrpcServer(
      config_.listen, {job_service_.get(), cluster_service_.get()},
      std::move(interceptors));
  if (!started.ok()) return started.status();
  server_ = std::move(started->server);
  port_ = started->port;
  controller_->Start();
  return absl::OkStatus();
}

void LeaderServer::Shutdown() {
  metrics_.StopServing();
  if (server_ != nullptr) {
    // Workers' streams end now (they reconnect to the next leader);
    // WatchJob streams get a moment to end, then are cancelled.
    cluster_service_->CloseConnections();
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(1));
    server_.reset();
  }
  if (controller_ != nullptr) controller_->Stop();
}

}  // namespace quarry

#include "leader/leader_server.h"

#include <glog/logging.h>

#include "common/memory_store.h"
#include "leader/grpc_worker_client.h"

namespace quarry {

LeaderServer::LeaderServer(LeaderConfig config)
    : config_(std::move(config)),
      store_(std::make_unique<MemoryStore>()),
      worker_clients_(std::make_unique<GrpcWorkerClientFactory>()) {
  controller_ = std::make_unique<Controller>(
      store_.get(), worker_clients_.get(), &finalizer_, &clock_, &notifier_,
      config_.controller);
  job_manager_ = std::make_unique<JobManager>(store_.get(), controller_.get(),
                                              &notifier_, &clock_);
  attempt_logs_ = std::make_unique<AttemptLogFetcher>(
      store_.get(), worker_clients_.get(),
      config_.controller.worker_rpc_timeout);
  job_service_ = std::make_unique<JobServiceImpl>(job_manager_.get(),
                                                  attempt_logs_.get());
  cluster_service_ = std::make_unique<ClusterServiceImpl>(
      controller_.get(), store_.get(), &clock_);
}

LeaderServer::~LeaderServer() { Shutdown(); }

absl::Status LeaderServer::Start() {
  absl::StatusOr<StartedServer> started = StartGrpcServer(
      config_.listen, {job_service_.get(), cluster_service_.get()});
  if (!started.ok()) return started.status();
  server_ = std::move(started->server);
  port_ = started->port;
  controller_->Start();
  return absl::OkStatus();
}

void LeaderServer::Shutdown() {
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

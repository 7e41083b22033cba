#ifndef QUARRY_LEADER_LEADER_SERVER_H_
#define QUARRY_LEADER_LEADER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/server_util.h"
#include "common/store.h"
#include "leader/attempt_log_fetcher.h"
#include "leader/change_notifier.h"
#include "leader/cluster_service.h"
#include "leader/controller.h"
#include "leader/job_manager.h"
#include "leader/job_service.h"
#include "leader/output_finalizer.h"
#include "leader/worker_client.h"

namespace quarry {

struct LeaderConfig {
  std::string listen = "127.0.0.1:7070";
  ControllerOptions controller;
};

// The composition root of the leader: builds the store, controller, job
// manager and gRPC services, and owns them. Start() serves; Shutdown()
// stops serving, then stops the controller.
class LeaderServer {
 public:
  explicit LeaderServer(LeaderConfig config);
  ~LeaderServer();

  absl::Status Start();
  void Shutdown();
  // The port really listened on (after Start).
  int port() const { return port_; }

 private:
  const LeaderConfig config_;
  RealClock clock_;
  ChangeNotifier notifier_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<WorkerClientFactory> worker_clients_;
  StagingDirRemover finalizer_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<JobManager> job_manager_;
  std::unique_ptr<AttemptLogFetcher> attempt_logs_;
  std::unique_ptr<JobServiceImpl> job_service_;
  std::unique_ptr<ClusterServiceImpl> cluster_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_LEADER_SERVER_H_

#ifndef QUARRY_LEADER_LEADER_SERVER_H_
#define QUARRY_LEADER_LEADER_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/data_roots.h"
#include "common/metrics.h"
#include "common/server_util.h"
#include "common/store.h"
#include "common/tls.h"
#include "leader/workers/attempt_log_fetcher.h"
#include "leader/control/change_notifier.h"
#include "leader/api/cluster_service.h"
#include "leader/control/controller.h"
#include "leader/api/job_manager.h"
#include "common/auth.h"
#include "leader/api/caller_check.h"
#include "leader/api/job_calls.h"
#include "leader/api/job_service.h"
#include "leader/http/http_api.h"
#include "leader/http/http_server.h"
#include "leader/leader_metrics.h"
#include "leader/control/output_finalizer.h"
#include "leader/api/readiness.h"
#include "leader/history/retention.h"
#include "leader/api/timed_services.h"
#include "leader/workers/worker_client.h"

namespace quarry {

struct LeaderConfig {
  std::string listen = "127.0.0.1:7070";
  // "memory" (state dies with the process) or redis://HOST:PORT[/DB].
  std::string store = "memory";
  // Names this cluster's keys in a shared Redis (and its rows in history).
  std::string cluster_name = "default";
  // postgresql://USER@HOST:PORT/DB for the execution history; empty: none.
  std::string history;
  // Finished jobs leave the store this long after they end (they stay in
  // the history); zero keeps them.
  absl::Duration retention = absl::Hours(24);
  // Where to serve the HTTP/JSON API and dashboard ("HOST:PORT", port 0:
  // any; docs/http.md); empty: nowhere. Obeys the same loopback rule as
  // `listen`.
  std::string http_listen;
  // Where to serve GET /metrics ("IP:PORT", port 0: any); empty: nowhere.
  std::string metrics_listen;
  // NAME ROLE TOKEN per line (common/auth.h); empty: no auth, and then
  // `listen` must be a loopback address unless `insecure`.
  std::string auth_file;
  bool insecure = false;
  // --tls_cert/--tls_key (serve TLS), --tls_client_ca (require client
  // certificates), --tls_ca (dial workers over TLS, trusting it).
  TlsFiles tls;
  // Largest request accepted (bytes), and most unfinished tasks held.
  int max_request_bytes = 4 << 20;
  int64_t max_pending_tasks = 10'000'000;
  // Where jobs may read inputs and write outputs (--data_root; see
  // common/data_roots.h); empty: anywhere.
  DataRoots data_roots;
  ControllerOptions controller;
};

// The store `url` names: "memory" or redis://[:PASSWORD@]HOST:PORT[/DB].
// INVALID_ARGUMENT naming the flag for anything else.
absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& url,
                                                 const std::string& cluster);

// The composition root of the leader: builds the store, controller, job
// manager, gRPC services and metrics, and owns them. Start() serves at
// once; a restore thread then loads the previous leader's state from the
// store (retrying, with backoff, while the store is unreachable) and only
// then starts the controller and makes the API ready (until then calls
// answer UNAVAILABLE and the health service NOT_SERVING). Shutdown() stops
// serving, then stops the controller. Start/Shutdown from one thread.
class LeaderServer {
 public:
  explicit LeaderServer(LeaderConfig config);
  ~LeaderServer();

  // INVALID_ARGUMENT for a bad store URL; an error if it cannot listen.
  absl::Status Start();
  void Shutdown();
  // The port really listened on (after Start).
  int port() const { return port_; }
  // The port the HTTP API is served on (after Start); 0 when not served.
  int http_port() const { return http_server_ ? http_server_->port() : 0; }
  // The port /metrics is served on (after Start); 0 when not served.
  int metrics_port() const { return metrics_.port(); }
  // Reads --auth_file again (SIGHUP); on error the old one stays.
  absl::Status ReloadAuth();

 private:
  // Loads --auth_file, or checks that serving without auth is allowed.
  absl::Status SetUpAuth();

  // The restore thread: Restore() until it works or Shutdown().
  void RestoreThenRun() ABSL_LOCKS_EXCLUDED(mu_);

  const LeaderConfig config_;
  // Outlives everything that reports to it; StopServing() comes first in
  // Shutdown(), before the controller its scrapes read goes away.
  Metrics metrics_;
  LeaderMetrics leader_metrics_;
  RpcMetrics rpc_metrics_;
  RealClock clock_;
  ChangeNotifier notifier_;
  Readiness readiness_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<History> history_;
  std::unique_ptr<RetentionSweeper> retention_;
  WorkerTokens worker_tokens_;  // Before worker_clients_, which may read it.
  // The epoch of this leader's term (0: no lease); before worker_clients_.
  ActingEpoch epoch_;
  std::unique_ptr<WorkerClientFactory> worker_clients_;
  StagingDirRemover finalizer_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<JobManager> job_manager_;
  std::unique_ptr<AttemptLogFetcher> attempt_logs_;
  std::unique_ptr<Authenticator> authenticator_;  // Null: no auth.
  std::unique_ptr<CallerCheck> callers_;
  std::unique_ptr<JobServiceImpl> job_service_;
  std::unique_ptr<ClusterServiceImpl> cluster_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  // The HTTP API (--http_listen): its own JobCalls over the same manager,
  // readiness, log fetcher and caller check as job_service_.
  std::unique_ptr<JobCalls> http_job_calls_;
  std::unique_ptr<HttpApi> http_api_;
  std::unique_ptr<HttpServer> http_server_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread restore_thread_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_LEADER_SERVER_H_

#ifndef QUARRY_WORKER_WORKER_SERVER_H_
#define QUARRY_WORKER_WORKER_SERVER_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/clock.h"
#include "common/data_roots.h"
#include "common/metrics.h"
#include "common/tls.h"
#include "worker/attempt_log_store.h"
#include "worker/commit_gate.h"
#include "worker/drainer.h"
#include "worker/kinds/kind_registry.h"
#include "worker/kinds/plugin_loader.h"
#include "worker/leader_client.h"
#include "worker/leader_connection.h"
#include "worker/reporter.h"
#include "worker/slot_executor.h"
#include "worker/timed_worker_service.h"
#include "worker/worker_metrics.h"
#include "worker/worker_service.h"

namespace quarry::worker {

inline constexpr int kMaxSlots = 1024;
// Most queue places a worker may have per slot (--queue_per_slot).
inline constexpr int kMaxQueuePerSlot = 64;

// How to run a worker (from main's flags, or a test).
struct WorkerConfig {
  // Empty: "<hostname>-<port>".
  std::string worker_id;
  // Where the WorkerService listens; port 0 picks a free port.
  std::string listen = "127.0.0.1:0";
  // Where to serve GET /metrics ("IP:PORT", port 0: any); empty: nowhere.
  std::string metrics_listen;
  // Host the leader should dial. Empty: the host of `listen`, or this
  // machine's hostname when `listen` is a wildcard (0.0.0.0, [::]).
  std::string advertise_host;
  // The leader's ClusterService, HOST:PORT.
  std::string leader = "127.0.0.1:7070";
  int slots = 4;
  // Attempts it accepts per slot beyond the one running there; they wait
  // in its queue (SlotExecutor). 0: no queue.
  int queue_per_slot = 0;
  std::map<std::string, std::string> labels;
  // Timing of the reporter, the commit permission, the command stream and
  // the drain (--drain_grace); tests shorten them.
  Reporter::Options reporter;
  CommitGate::Options commit;
  LeaderConnection::Options connection;
  Drainer::Options drain;
  // Where and how much of each attempt's log is kept (--attempt_log_*).
  AttemptLogStore::Options attempt_logs;
  // The exec kind (the user's own programs) runs only with --allow_exec;
  // --exec_allow, --exec_user and --exec_scratch_dir (see ExecOptions).
  bool allow_exec = false;
  std::string exec_allow;
  std::string exec_user;
  std::string exec_scratch_dir = "/tmp";
  // A file holding this worker's token (role worker) for its calls to the
  // leader; empty: none (a leader without --auth_file).
  std::string token_file;
  // Serve a non-loopback `listen` although the worker's own port does not
  // yet authenticate its caller (see docs/security.md).
  bool insecure = false;
  // --tls_cert/--tls_key (serve TLS), --tls_client_ca (require client
  // certificates: the leader's), --tls_ca (dial the leader over TLS).
  TlsFiles tls;
  // Where plugin kinds are loaded from at start (--plugin_dir; see
  // plugin_loader.h); empty: none.
  std::string plugin_dir;
  // Where attempts may read inputs and write outputs (--data_root; see
  // common/data_roots.h); empty: anywhere.
  DataRoots data_roots;
};

// Checks every field; errors name the flag ("--slots must be ...").
absl::Status ValidateWorkerConfig(const WorkerConfig& config);

// Parses "k1=v1,k2=v2" (empty: no labels).
absl::StatusOr<std::map<std::string, std::string>> ParseLabels(
    absl::string_view text);

// This machine's hostname ("localhost" if it cannot be read).
std::string Hostname();

// The composition root of a worker process: builds the kind registry (with
// the plugins of --plugin_dir), the
// attempt log store, the slot executor, the WorkerService and its gRPC server,
// the reporter that registers with the leader and reports completions, the
// commit gate, the leader connection (command stream), the drainer and the
// metrics. Owns all of them. Thread-safe for its accessors, RequestDrain() and
// SkipDrainGrace(); Start(), Drain() and Shutdown() are called by the main
// thread (or a test).
class WorkerServer {
 public:
  // Starts serving at once and registers with the leader in the
  // background (retrying while the leader is unreachable). `leader` may be
  // null: a GrpcLeaderClient to config.leader is used.
  static absl::StatusOr<std::unique_ptr<WorkerServer>> Start(
      const WorkerConfig& config,
      std::unique_ptr<LeaderClient> leader = nullptr);

  WorkerServer(const WorkerServer&) = delete;
  WorkerServer& operator=(const WorkerServer&) = delete;
  ~WorkerServer();

  // Starts draining (see Drainer): new attempts are refused and the
  // leader is told at once. Called on SIGTERM (signal thread) or when the
  // leader sends KIND_DRAIN (connection thread). Returns at once;
  // idempotent.
  void RequestDrain(absl::string_view reason);
  // Ends the drain's grace period now (a second signal).
  void SkipDrainGrace();
  // Blocks until a drain is requested or `timeout`; returns whether it was.
  bool WaitForDrainRequest(absl::Duration timeout = absl::InfiniteDuration());

  // Drains (requesting it if needed): lets running attempts finish within
  // the grace period, cancels the rest, sends a final report, deregisters,
  // then Shutdown()s. Blocks until done. Call once, before Shutdown().
  Drainer::Result Drain();

  // Stops taking work, cancels running attempts (they end CANCELLED and
  // commit nothing), sends a last report, closes the command stream and
  // stops the server. Idempotent.
  void Shutdown();

  const std::string& worker_id() const { return worker_id_; }
  // HOST:PORT the leader dials (advertised to it).
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  // The port /metrics is served on; 0 when not served.
  int metrics_port() const { return metrics_.port(); }
  int slots() const { return executor_->slot_count(); }
  SlotExecutor* executor() { return executor_.get(); }
  // The directory holding the attempt logs.
  const std::string& attempt_log_dir() const { return attempt_logs_->dir(); }
  Reporter* reporter() { return reporter_.get(); }
  // What loading --plugin_dir did (nothing without one).
  const PluginLoadResult& plugins() const { return plugins_; }
  LeaderConnection* connection() { return connection_.get(); }

 private:
  WorkerServer() = default;

  std::string worker_id_;
  std::string address_;
  int port_ = 0;
  bool shut_down_ = false;

  // Outlive everything that reports to them; Shutdown() stops serving
  // first.
  Metrics metrics_;
  WorkerMetrics worker_metrics_{&metrics_};
  RpcMetrics rpc_metrics_{&metrics_};
  // Destroyed in reverse order, after Shutdown() has stopped every thread
  // (the slot threads use the commit gate and the reporter; the reporter
  // and the connection call each other; the connection calls the drainer).
  RealClock clock_;
  // The highest leader epoch seen (fencing: common/leader_epoch.h).
  EpochFence fence_;
  std::unique_ptr<LeaderClient> leader_;
  std::unique_ptr<KindRegistry> kinds_;
  PluginLoadResult plugins_;
  std::unique_ptr<AttemptLogStore> attempt_logs_;
  std::unique_ptr<CommitGate> commit_gate_;
  std::unique_ptr<Reporter> reporter_;
  std::unique_ptr<LeaderConnection> connection_;
  std::unique_ptr<Drainer> drainer_;
  std::unique_ptr<SlotExecutor> executor_;
  std::unique_ptr<WorkerServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_WORKER_SERVER_H_

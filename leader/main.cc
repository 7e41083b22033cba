// quarry-leader: accepts jobs and runs the controller loop.
#include <glog/logging.h>

#include "absl/flags/flag.h"
#include "common/data_roots.h"
#include "common/server_util.h"
#include "common/tls_flags.h"
#include "leader/leader_server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:7070",
          "HOST:PORT to serve JobService and ClusterService on");
ABSL_FLAG(std::string, auth_file, "",
          "principals and their tokens, one 'NAME ROLE TOKEN' per line "
          "(roles: admin, user, reader, worker; mode 600); every call then "
          "needs 'authorization: Bearer TOKEN'. SIGHUP reloads it. Without "
          "it the leader serves loopback only (see --insecure)");
ABSL_FLAG(bool, insecure, false,
          "serve a non-loopback --listen without --auth_file (anyone who "
          "reaches the port may do anything)");
ABSL_FLAG(int32_t, max_request_bytes, 4 << 20,
          "largest request the leader accepts, in bytes (1K..1G); a bigger "
          "one is refused with RESOURCE_EXHAUSTED");
ABSL_FLAG(int64_t, max_pending_tasks, 10'000'000,
          "most unfinished tasks (of every job) the leader holds; SubmitJob "
          "answers RESOURCE_EXHAUSTED rather than take a job past it");
ABSL_FLAG(std::string, data_root, "",
          "DIR or DIR:ro, repeatable or comma separated: jobs may read only "
          "beneath these directories and write only beneath those without "
          ":ro; a job naming a path outside them (or reaching out through a "
          "symlink) is refused (docs/security.md); empty: anywhere");
ABSL_FLAG(std::string, port_file, "",
          "if set, write the port really listened on to this file (useful "
          "with --listen HOST:0)");
ABSL_FLAG(std::string, http_listen, "",
          "HOST:PORT to serve the HTTP/JSON API (/v1/..., docs/http.md) "
          "and the dashboard (/) on; port 0 picks a free port; empty: no "
          "HTTP. Same auth and loopback rule as --listen");
ABSL_FLAG(std::string, http_port_file, "",
          "if set, write the HTTP port really listened on to this file");
ABSL_FLAG(std::string, metrics_listen, "",
          "IP:PORT to serve Prometheus metrics on (GET /metrics); port 0 "
          "picks a free port; empty: no metrics endpoint");
ABSL_FLAG(std::string, metrics_port_file, "",
          "if set, write the metrics port really listened on to this file");
ABSL_FLAG(std::string, store, "memory",
          "where the leader keeps its state: \"memory\" (lost when the "
          "leader exits) or redis://[:PASSWORD@]HOST:PORT[/DB] (shared; a "
          "restarted leader carries on)");
ABSL_FLAG(std::string, cluster_name, "default",
          "prefix of this cluster's keys in the store ([A-Za-z0-9_.-]), so "
          "several clusters can share one Redis");
ABSL_FLAG(std::string, history, "",
          "postgresql://USER@HOST:PORT/DB: keep every finished job and "
          "attempt in PostgreSQL (empty: no history)");
ABSL_FLAG(absl::Duration, retention, absl::Hours(24),
          "finished jobs leave the store this long after they end (they "
          "stay in the history); 0 keeps them");
ABSL_FLAG(absl::Duration, adopt_within, absl::Seconds(5),
          "after a restart, how long attempts still running on workers wait "
          "for their worker to register again before they are re-run");
ABSL_FLAG(absl::Duration, tick, absl::Milliseconds(100),
          "controller timer period (it also runs at once on events)");
ABSL_FLAG(absl::Duration, worker_rpc_timeout, absl::Seconds(2),
          "deadline of every leader-to-worker RPC");
ABSL_FLAG(absl::Duration, suspect_after, absl::Milliseconds(500),
          "silence after which a worker is SUSPECT and gets no new work");
ABSL_FLAG(absl::Duration, dead_after, absl::Seconds(1),
          "silence after which a worker is DEAD and its tasks are re-queued");
ABSL_FLAG(absl::Duration, probe_interval, absl::Milliseconds(100),
          "a worker silent this long is probed (GetWorkerState); raise it "
          "with --suspect_after and --dead_after for clusters of hundreds of "
          "workers");

ABSL_FLAG(absl::Duration, queue_tasks_shorter_than, absl::Milliseconds(50),
          "when no slot is idle, tasks of jobs whose attempts take less "
          "than this on average wait in the workers' queues "
          "(--queue_per_slot), so short tasks never leave a slot idle; 0 "
          "never queues");

int main(int argc, char** argv) {
  quarry::InitProgram(argc, argv,
                      "quarry-leader: the Quarry leader.\n"
                      "Usage: quarry-leader [--listen HOST:PORT] [flags]");
  quarry::LeaderConfig config;
  config.listen = absl::GetFlag(FLAGS_listen);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.http_listen = absl::GetFlag(FLAGS_http_listen);
  config.auth_file = absl::GetFlag(FLAGS_auth_file);
  config.insecure = absl::GetFlag(FLAGS_insecure);
  config.tls = quarry::TlsFilesFromFlags();
  config.max_request_bytes = absl::GetFlag(FLAGS_max_request_bytes);
  config.max_pending_tasks = absl::GetFlag(FLAGS_max_pending_tasks);
  if (config.max_request_bytes < 1024 || config.max_request_bytes > (1 << 30) ||
      config.max_pending_tasks < 1) {
    LOG(ERROR) << "--max_request_bytes must be in [1024, 2^30] and "
                  "--max_pending_tasks positive";
    return 2;
  }
  // Every --data_root on the command line (absl keeps only the last one),
  // else the flag's value from QUARRY_DATA_ROOT.
  std::vector<std::string> data_roots =
      quarry::RepeatedFlagValues(argc, argv, "data_root");
  if (data_roots.empty()) data_roots.push_back(absl::GetFlag(FLAGS_data_root));
  absl::StatusOr<quarry::DataRoots> roots =
      quarry::DataRoots::Parse(data_roots);
  if (!roots.ok()) {
    LOG(ERROR) << roots.status().message();
    return 2;
  }
  config.data_roots = *std::move(roots);
  config.store = absl::GetFlag(FLAGS_store);
  config.cluster_name = absl::GetFlag(FLAGS_cluster_name);
  config.history = absl::GetFlag(FLAGS_history);
  config.retention = absl::GetFlag(FLAGS_retention);
  config.controller.adopt_within = absl::GetFlag(FLAGS_adopt_within);
  config.controller.tick = absl::GetFlag(FLAGS_tick);
  config.controller.worker_rpc_timeout =
      absl::GetFlag(FLAGS_worker_rpc_timeout);
  config.controller.suspect_after = absl::GetFlag(FLAGS_suspect_after);
  config.controller.dead_after = absl::GetFlag(FLAGS_dead_after);
  config.controller.probe_interval = absl::GetFlag(FLAGS_probe_interval);
  config.controller.queue_tasks_shorter_than =
      absl::GetFlag(FLAGS_queue_tasks_shorter_than);
  if (config.controller.queue_tasks_shorter_than < absl::ZeroDuration()) {
    LOG(ERROR) << "--queue_tasks_shorter_than must not be negative";
    return 2;
  }
  if (config.controller.tick <= absl::ZeroDuration() ||
      config.controller.probe_interval <= absl::ZeroDuration() ||
      config.controller.suspect_after >= config.controller.dead_after) {
    LOG(ERROR) << "--tick and --probe_interval must be positive and "
                  "--suspect_after shorter than --dead_after";
    return 2;
  }

  quarry::LeaderServer server(config);
  if (absl::Status started = server.Start(); !started.ok()) {
    LOG(ERROR) << "cannot start: " << started;
    return absl::IsInvalidArgument(started) ? 2 : 1;
  }
  // The HTTP port file first: scripts wait for --port_file, then read both.
  if (!config.http_listen.empty()) {
    if (absl::Status written = quarry::WritePortFile(
            absl::GetFlag(FLAGS_http_port_file), server.http_port());
        !written.ok()) {
      LOG(ERROR) << written;
      return 1;
    }
    LOG(INFO) << "HTTP API and dashboard on http://"
              << quarry::WithPort(config.http_listen, server.http_port())
              << "/";
  }
  if (absl::Status written =
          quarry::WritePortFile(absl::GetFlag(FLAGS_port_file), server.port());
      !written.ok()) {
    LOG(ERROR) << written;
    return 1;
  }
  LOG(INFO) << "quarry-leader listening on "
            << quarry::WithPort(config.listen, server.port())
            << " (store: " << config.store
            << ", data roots: " << config.data_roots.ToString() << ")";
  if (absl::Status announced = quarry::AnnounceMetricsPort(
          config.metrics_listen, server.metrics_port(),
          absl::GetFlag(FLAGS_metrics_port_file));
      !announced.ok()) {
    LOG(ERROR) << announced;
    return 1;
  }
  if (!config.auth_file.empty()) {
    quarry::WatchReloadSignal([&server] { server.ReloadAuth().IgnoreError(); });
  }
  quarry::WaitForTerminationSignal();
  server.Shutdown();
  LOG(INFO) << "quarry-leader stopped";
  return 0;
}

// quarry-worker: runs attempts for a Quarry leader.
//
//   quarry-worker --leader=127.0.0.1:7070 --listen=0.0.0.0:7100 --slots=8
//
// SIGTERM or SIGINT (or `quarry worker drain ID`) drains the worker: it
// takes no new attempts, lets the running ones finish for up to
// --drain_grace, cancels the rest (the leader runs them elsewhere), leaves
// the cluster and exits 0. A second signal cancels at once.

#include <glog/logging.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "common/data_roots.h"
#include "common/server_util.h"
#include "common/tls_flags.h"
#include "worker/signal_watcher.h"
#include "worker/worker_server.h"

ABSL_FLAG(std::string, leader, "127.0.0.1:7070",
          "HOST:PORT of the leader's ClusterService");
ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "HOST:PORT for this worker's WorkerService; port 0 picks a free "
          "port (the real one is advertised)");
ABSL_FLAG(std::string, advertise_host, "",
          "host the leader dials; default: the host of --listen, or this "
          "machine's hostname when --listen is 0.0.0.0 or [::]");
ABSL_FLAG(int32_t, slots, 4, "number of slots (attempts run at once), 1..1024");
ABSL_FLAG(int32_t, queue_per_slot, 4,
          "attempts accepted per slot beyond the running one, 0..64: they "
          "wait on this worker and start as slots free up (the leader "
          "queues only short tasks); 0: no queue");
ABSL_FLAG(std::string, id, "",
          "worker id, [A-Za-z0-9._-]{1,128}; default: <hostname>-<port>");
ABSL_FLAG(std::string, label, "",
          "labels for the leader, comma separated: key=value,key2=value2");
ABSL_FLAG(std::string, metrics_listen, "",
          "IP:PORT to serve Prometheus metrics on (GET /metrics); port 0 "
          "picks a free port; empty: no metrics endpoint");
ABSL_FLAG(std::string, metrics_port_file, "",
          "if set, write the metrics port really listened on to this file");
ABSL_FLAG(absl::Duration, drain_grace, absl::Seconds(30),
          "on SIGTERM or a drain request, how long running attempts may "
          "take to finish before they are cancelled (e.g. 30s, 2m, 0)");
ABSL_FLAG(std::string, attempt_log_dir, "",
          "directory for the per-attempt logs (quarry logs); kept across "
          "restarts; default: a temporary directory removed at exit");
ABSL_FLAG(int64_t, attempt_log_max_bytes, 1 << 20,
          "bytes of log kept per attempt (1024..3145728); longer logs end "
          "with a truncation marker");
ABSL_FLAG(int64_t, attempt_log_keep, 1000,
          "attempt logs kept: the newest N (disk use is at most N times "
          "--attempt_log_max_bytes)");
ABSL_FLAG(bool, allow_exec, false,
          "run the programs of exec jobs (the user's own commands); off by "
          "default: a worker that allows it runs whatever a job submits");
ABSL_FLAG(std::string, exec_allow, "",
          "with --allow_exec: the only programs exec jobs may run, comma "
          "separated absolute paths or patterns (/usr/bin/python3,/opt/t/*)");
ABSL_FLAG(std::string, exec_user, "",
          "with --allow_exec: the user commands run as; default: nobody "
          "when the worker runs as root (root only if named), else the "
          "worker's own user");
ABSL_FLAG(std::string, token_file, "",
          "a file (mode 600) holding this worker's token, role worker in the "
          "leader's --auth_file: sent with every call to the leader, and "
          "required of every call to this worker (its leader sends it back)");
ABSL_FLAG(bool, insecure, false,
          "serve a non-loopback --listen without --token_file (anyone who "
          "reaches the port may start tasks)");
ABSL_FLAG(std::string, exec_scratch_dir, "/tmp",
          "where each exec attempt gets its scratch working directory");
ABSL_FLAG(std::string, plugin_dir, "",
          "load job kinds from every *.so file in this directory at start "
          "(docs/plugins.md); it and its files must be writable only by "
          "the operator; empty: no plugins");
ABSL_FLAG(absl::Duration, attempt_log_max_age, absl::Hours(24),
          "attempt logs older than this are removed");
ABSL_FLAG(std::string, data_root, "",
          "DIR or DIR:ro, repeatable or comma separated: attempts read inputs "
          "only beneath these directories and write outputs only beneath "
          "those without :ro, resolving paths so that no symlink leads out "
          "(docs/security.md); empty: anywhere");

namespace {

std::string SignalName(int signal) {
  if (signal == SIGTERM) return "SIGTERM";
  if (signal == SIGINT) return "SIGINT";
  return absl::StrCat("signal ", signal);
}

int Fail(const absl::Status& status) {
  std::cerr << "quarry-worker: " << status.message() << std::endl;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> positional = quarry::InitProgram(
      argc, argv,
      "quarry-worker runs Quarry tasks in a fixed number of slots.\n"
      "Usage: quarry-worker --leader=HOST:PORT [--listen=HOST:PORT] "
      "[--slots=N] [--id=NAME] [--label=k=v,...] [--drain_grace=30s] "
      "[--attempt_log_dir=DIR] [--plugin_dir=DIR]");
  if (positional.size() > 1) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat("unexpected argument \"", positional[1],
                     "\" (flags only; see --help)")));
  }

  quarry::worker::WorkerConfig config;
  config.leader = absl::GetFlag(FLAGS_leader);
  config.listen = absl::GetFlag(FLAGS_listen);
  config.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  config.advertise_host = absl::GetFlag(FLAGS_advertise_host);
  config.slots = absl::GetFlag(FLAGS_slots);
  config.queue_per_slot = absl::GetFlag(FLAGS_queue_per_slot);
  config.worker_id = absl::GetFlag(FLAGS_id);
  absl::StatusOr<std::map<std::string, std::string>> labels =
      quarry::worker::ParseLabels(absl::GetFlag(FLAGS_label));
  if (!labels.ok()) return Fail(labels.status());
  config.labels = *std::move(labels);
  config.drain.grace = absl::GetFlag(FLAGS_drain_grace);
  config.attempt_logs.dir = absl::GetFlag(FLAGS_attempt_log_dir);
  config.attempt_logs.max_bytes = static_cast<size_t>(
      std::max<int64_t>(0, absl::GetFlag(FLAGS_attempt_log_max_bytes)));
  config.attempt_logs.keep = static_cast<size_t>(
      std::max<int64_t>(0, absl::GetFlag(FLAGS_attempt_log_keep)));
  config.attempt_logs.max_age = absl::GetFlag(FLAGS_attempt_log_max_age);
  config.allow_exec = absl::GetFlag(FLAGS_allow_exec);
  config.exec_allow = absl::GetFlag(FLAGS_exec_allow);
  config.exec_user = absl::GetFlag(FLAGS_exec_user);
  config.exec_scratch_dir = absl::GetFlag(FLAGS_exec_scratch_dir);
  config.token_file = absl::GetFlag(FLAGS_token_file);
  config.insecure = absl::GetFlag(FLAGS_insecure);
  config.tls = quarry::TlsFilesFromFlags();
  config.plugin_dir = absl::GetFlag(FLAGS_plugin_dir);
  // Every --data_root on the command line (absl keeps only the last one),
  // else the flag's value from QUARRY_DATA_ROOT.
  std::vector<std::string> data_roots =
      quarry::RepeatedFlagValues(argc, argv, "data_root");
  if (data_roots.empty()) data_roots.push_back(absl::GetFlag(FLAGS_data_root));
  absl::StatusOr<quarry::DataRoots> roots = quarry::DataRoots::Parse(data_roots);
  if (!roots.ok()) return Fail(roots.status());
  config.data_roots = *std::move(roots);
  if (absl::Status valid = quarry::worker::ValidateWorkerConfig(config);
      !valid.ok()) {
    return Fail(valid);
  }

  absl::StatusOr<std::unique_ptr<quarry::worker::WorkerServer>> worker =
      quarry::worker::WorkerServer::Start(config);
  if (!worker.ok()) return Fail(worker.status());
  LOG(INFO) << "quarry-worker " << (*worker)->worker_id() << " listening on "
            << (*worker)->address() << " with " << (*worker)->slots()
            << " slots, leader " << config.leader << ", attempt logs in "
            << (*worker)->attempt_log_dir()
            << ", data roots: " << config.data_roots.ToString();
  if (absl::Status announced = quarry::AnnounceMetricsPort(
          config.metrics_listen, (*worker)->metrics_port(),
          absl::GetFlag(FLAGS_metrics_port_file));
      !announced.ok()) {
    return Fail(announced);
  }

  quarry::worker::WorkerServer& server = **worker;
  // Declared after `worker`: stops watching before the worker goes away.
  const quarry::worker::SignalWatcher signals(
      {SIGTERM, SIGINT}, [&server](int signal, int count) {
        if (count == 1) {
          server.RequestDrain(SignalName(signal));
        } else {
          LOG(INFO) << "second signal (" << SignalName(signal)
                    << "): cancelling running attempts now";
          server.SkipDrainGrace();
        }
      });
  server.WaitForDrainRequest();
  server.Drain();
  return 0;
}

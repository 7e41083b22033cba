// quarry-sim-workers: many simulated workers in one process, for the
// `scale` benchmark (see bench/sim_workers.h and docs/benchmarks.md).
//
//   quarry-sim-workers --leader=HOST:PORT [--workers=1000] [--slots=8]
//                      [--listen=127.0.0.1:0] [--id_prefix=sim-w]
#include <glog/logging.h>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "bench/sim_workers.h"
#include "common/ids.h"
#include "common/server_util.h"

ABSL_FLAG(std::string, leader, "127.0.0.1:7070", "the leader, HOST:PORT");
ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "HOST:PORT where the simulated workers' WorkerService listens");
ABSL_FLAG(int, workers, 1000, "number of simulated workers");
ABSL_FLAG(int, slots, 8, "slots per simulated worker");
ABSL_FLAG(std::string, id_prefix, "sim-w",
          "worker ids are this prefix and a 4-digit number");

int main(int argc, char** argv) {
  quarry::InitProgram(argc, argv,
                      "quarry-sim-workers: simulated workers for benchmarks.\n"
                      "Usage: quarry-sim-workers --leader HOST:PORT [flags]");
  quarry::bench::SimulatedWorkers::Options options;
  options.leader = absl::GetFlag(FLAGS_leader);
  options.workers = absl::GetFlag(FLAGS_workers);
  options.slots = absl::GetFlag(FLAGS_slots);
  options.id_prefix = absl::GetFlag(FLAGS_id_prefix);
  if (options.workers < 1 || options.workers > 100'000 || options.slots < 1 ||
      options.slots > 1024) {
    LOG(ERROR) << "--workers must be in [1, 100000] and --slots in [1, 1024]";
    return 2;
  }
  if (absl::Status valid = quarry::ValidateWorkerId(
          absl::StrCat(options.id_prefix, "0000"), "--id_prefix");
      !valid.ok()) {
    LOG(ERROR) << valid;
    return 2;
  }
  for (const auto& [value, flag] :
       {std::pair{options.leader, "--leader"},
        std::pair{absl::GetFlag(FLAGS_listen), "--listen"}}) {
    if (absl::Status valid = quarry::ValidateHostPort(value, flag);
        !valid.ok()) {
      LOG(ERROR) << valid;
      return 2;
    }
  }

  quarry::bench::SimulatedWorkers workers(options);
  absl::StatusOr<quarry::StartedServer> server =
      quarry::StartGrpcServer(absl::GetFlag(FLAGS_listen), {&workers});
  if (!server.ok()) {
    LOG(ERROR) << "cannot serve: " << server.status();
    return 1;
  }
  const std::string address =
      quarry::WithPort(absl::GetFlag(FLAGS_listen), server->port);
  if (absl::Status started = workers.Start(address); !started.ok()) {
    LOG(ERROR) << started;
    return 1;
  }
  LOG(INFO) << options.workers << " simulated workers x " << options.slots
            << " slots serving on " << address;
  quarry::WaitForTerminationSignal();
  workers.Stop();
  server->server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
  LOG(INFO) << "quarry-sim-workers stopped after " << workers.completed()
            << " attempts";
  return 0;
}

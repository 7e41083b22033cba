#ifndef QUARRY_BENCH_BENCH_CLUSTER_H_
#define QUARRY_BENCH_BENCH_CLUSTER_H_

#include <grpcpp/grpcpp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "quarry/v1/cluster_service.grpc.pb.h"
#include "quarry/v1/job_service.grpc.pb.h"
#include "tests/testing/rpc.h"
#include "tests/testing/subprocess.h"

namespace quarry::bench {

// Where the binaries under test are and where the cluster keeps its logs.
struct ClusterOptions {
  std::string leader_binary;
  std::string worker_binary;
  std::string sim_workers_binary;  // quarry-sim-workers.
  // A scratch directory for logs and the port file; must exist.
  std::string work_dir;
  // Extra flags for every quarry-worker, e.g. {"--allow_exec"}.
  std::vector<std::string> worker_flags;
};

// A real cluster on loopback for one benchmark scenario: one quarry-leader
// on a free port and quarry-worker processes registered with it. Every RPC
// has a deadline and every wait is bounded. The destructor stops every
// process (SIGTERM, then SIGKILL). Owned by the driver's main thread; the
// stubs are thread-safe and may be shared by client threads.
class BenchCluster {
 public:
  // Starts the leader and `workers` workers with `slots` slots each, and
  // waits until all are ALIVE.
  static absl::StatusOr<std::unique_ptr<BenchCluster>> Start(
      const ClusterOptions& options, int workers, int slots);
  // The same with simulated workers: one quarry-sim-workers process
  // serving `workers` worker ids. `leader_flags` go to the leader.
  static absl::StatusOr<std::unique_ptr<BenchCluster>> StartSimulated(
      const ClusterOptions& options, int workers, int slots,
      const std::vector<std::string>& leader_flags);
  ~BenchCluster();

  // Stops every process; an error names those that did not exit cleanly.
  absl::Status Shutdown();
  // Stops the leader alone (SIGTERM); an error if it did not exit cleanly.
  absl::Status StopLeader();

  absl::StatusOr<quarry::v1::SubmitJobResponse> Submit(
      const quarry::v1::JobSpec& spec);
  // Follows the job with WatchJob until it is terminal (or `timeout`).
  absl::StatusOr<quarry::v1::Job> WaitForJob(const std::string& job_id,
                                             absl::Duration timeout);
  absl::StatusOr<quarry::v1::GetJobResultResponse> GetJobResult(
      const std::string& job_id);

  quarry::v1::JobService::Stub& jobs() { return *jobs_; }
  const std::string& leader_address() const { return leader_address_; }
  pid_t leader_pid() const { return leader_.pid(); }
  // CPU time (user + system) the worker processes have used so far.
  double WorkersCpuSeconds() const;
  // CPU time of the workers' children that they have reaped (the processes
  // of exec attempts).
  double WorkersChildrenCpuSeconds() const;
  // The same for the leader, the workers and this driver together.
  double ClusterCpuSeconds() const;
  std::string leader_log() const { return options_.work_dir + "/leader.log"; }
  // The last lines of every process log, for failure messages.
  std::string LogTails() const;

 private:
  explicit BenchCluster(ClusterOptions options)
      : options_(std::move(options)) {}
  absl::Status StartLeader(const std::vector<std::string>& flags = {});
  absl::Status StartWorker(const std::string& id, int slots);
  absl::Status StartSimulatedWorkers(int workers, int slots);
  absl::Status WaitForAliveWorkers(int count, absl::Duration timeout);

  ClusterOptions options_;
  testing::Subprocess leader_;
  std::map<std::string, testing::Subprocess> workers_;
  std::string leader_address_;
  std::unique_ptr<quarry::v1::JobService::Stub> jobs_;
  std::unique_ptr<quarry::v1::ClusterService::Stub> cluster_;
};

using testing::ContextWithDeadline;

// CPU time (user + system) process `pid` has used so far; 0 if unknown.
double ProcessCpuSeconds(pid_t pid);
// CPU time of the children of process `pid` that it has waited for (and of
// their waited-for descendants); 0 if unknown.
double ReapedChildrenCpuSeconds(pid_t pid);

// A channel to `address` with its own TCP connection (not shared with other
// channels to the same address), for client threads.
std::shared_ptr<grpc::Channel> NewPrivateChannel(const std::string& address);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_BENCH_CLUSTER_H_

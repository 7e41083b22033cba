#ifndef QUARRY_TESTS_TESTING_LOCAL_CLUSTER_H_
#define QUARRY_TESTS_TESTING_LOCAL_CLUSTER_H_

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
#include "tests/testing/temp_dir.h"

namespace quarry::testing {

// Paths of the real binaries under test (set by CMake).
std::string LeaderBinary();
std::string WorkerBinary();
std::string CliBinary();

// Reads the port `process` writes to `path` (--port_file,
// --metrics_port_file), waiting up to `timeout` for the file; an error if
// the process exits first.
absl::StatusOr<int> WaitForPortFile(const std::string& path,
                                    Subprocess& process,
                                    absl::Duration timeout);

// A real cluster for integration tests: one quarry-leader process on a free
// loopback port and quarry-worker processes registered with it, all logging
// into a temp dir that is removed afterwards. Every call has a deadline.
// Owned by one test; not thread-safe.
class LocalCluster {
 public:
  // Starts the leader (extra flags appended) and waits until it listens.
  // The helpers below dial it with `credentials` (null: plaintext).
  static absl::StatusOr<std::unique_ptr<LocalCluster>> Start(
      const std::vector<std::string>& leader_flags = {},
      std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr);
  ~LocalCluster();

  // Stops every process still running with SIGTERM; an error lists those
  // that did not exit cleanly (code 0) in time, with their logs: a crash or
  // a sanitizer report at exit fails the test.
  absl::Status Shutdown();

  // kill -9 the leader (workers keep running).
  void KillLeader();
  // Starts the leader again with the same flags on the same port and waits
  // until it listens (it may not be ready: see WaitForAliveWorkers).
  absl::Status RestartLeader();

  // Starts worker `id` with `slots` slots (extra flags appended; `env`:
  // extra "NAME=value" environment variables). Does not wait for it to
  // register: see WaitForAliveWorkers.
  absl::Status StartWorker(const std::string& id, int slots,
                           const std::vector<std::string>& flags = {},
                           const std::vector<std::string>& env = {});
  // The worker process (for kill -9 and friends).
  Subprocess& worker(const std::string& id) { return workers_.at(id); }
  Subprocess& leader() { return leader_; }
  // Waits until GetCluster shows at least `count` ALIVE workers.
  absl::Status WaitForAliveWorkers(int count,
                                   absl::Duration timeout = absl::Seconds(20));

  absl::StatusOr<std::string> Submit(const quarry::v1::JobSpec& spec);
  // Follows the job with WatchJob until it is terminal.
  absl::StatusOr<quarry::v1::Job> WaitForJob(
      const std::string& job_id, absl::Duration timeout = absl::Seconds(60));
  absl::StatusOr<quarry::v1::GetClusterResponse> GetCluster();
  // Polls GetJob (bounded by `timeout`) until the job shows a waiting
  // reason; returns the job as last read.
  absl::StatusOr<quarry::v1::Job> WaitForWaitingReason(
      const std::string& job_id, absl::Duration timeout = absl::Seconds(10));

  quarry::v1::JobService::Stub& jobs() { return *jobs_; }
  quarry::v1::ClusterService::Stub& cluster() { return *cluster_; }
  const std::string& leader_address() const { return leader_address_; }
  // A scratch directory for test data, removed with the cluster.
  const std::string& dir() const { return dir_.path(); }
  // The last lines of every process log, for failure messages.
  std::string LogTails() const;
  // The bearer token the helpers above send (a leader with --auth_file).
  void set_token(std::string token) { token_ = std::move(token); }
  // A context with a deadline and the token.
  std::unique_ptr<grpc::ClientContext> Context(
      absl::Duration timeout = absl::Seconds(10)) const;

 private:
  LocalCluster() = default;

  // Starts the leader on `listen` and waits for its port file.
  absl::Status StartLeader(const std::string& listen);

  TempDir dir_;
  std::vector<std::string> leader_flags_;
  std::string token_;
  int leader_starts_ = 0;
  Subprocess leader_;
  std::map<std::string, Subprocess> workers_;
  std::string leader_address_;
  std::unique_ptr<quarry::v1::JobService::Stub> jobs_;
  std::unique_ptr<quarry::v1::ClusterService::Stub> cluster_;
};


}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_LOCAL_CLUSTER_H_

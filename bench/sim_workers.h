#ifndef QUARRY_BENCH_SIM_WORKERS_H_
#define QUARRY_BENCH_SIM_WORKERS_H_

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "quarry/v1/cluster_service.grpc.pb.h"
#include "quarry/v1/worker_service.grpc.pb.h"

namespace quarry::bench {

// Many simulated workers in one process, for the `scale` benchmark: they
// serve WorkerService for every simulated worker id on one port, register
// each id with the leader (RegisterWorker), keep each one's ConnectWorker
// stream open, and report to the leader like real workers do (batched
// completions, heartbeats, registering again on NOT_FOUND). Every attempt
// of kind `noop` completes the moment it is started; other kinds are
// refused. A request naming an id this process does not serve is refused
// with FAILED_PRECONDITION, like a real worker refuses one meant for
// another worker.
//
// Thread-safe: gRPC server threads (WorkerService), the reporter thread
// and gRPC callback threads (report answers, command streams) meet under
// mu_. Start()/Stop() are called by the owner's thread.
class SimulatedWorkers final : public quarry::v1::WorkerService::Service {
 public:
  struct Options {
    std::string leader;  // HOST:PORT of the leader.
    std::string id_prefix = "sim-w";
    int workers = 1000;
    int slots = 8;
    absl::Duration rpc_timeout = absl::Seconds(5);
    // Finished attempts remembered per worker, for probes.
    size_t remembered_per_worker = 64;
  };

  explicit SimulatedWorkers(Options options);
  ~SimulatedWorkers() override;

  // Registers every worker (advertising `address`, where this service is
  // served), opens their streams and starts the reporter thread.
  absl::Status Start(const std::string& address) ABSL_LOCKS_EXCLUDED(mu_);
  // Stops reporting and closes the streams. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Attempts completed so far, over all workers.
  int64_t completed() const ABSL_LOCKS_EXCLUDED(mu_);

  grpc::Status StartTasks(grpc::ServerContext* context,
                          const quarry::v1::StartTasksRequest* request,
                          quarry::v1::StartTasksResponse* response) override
      ABSL_LOCKS_EXCLUDED(mu_);
  grpc::Status GetWorkerState(grpc::ServerContext* context,
                              const quarry::v1::GetWorkerStateRequest* request,
                              quarry::v1::GetWorkerStateResponse* response)
      override ABSL_LOCKS_EXCLUDED(mu_);
  grpc::Status CancelTasks(grpc::ServerContext* context,
                           const quarry::v1::CancelTasksRequest* request,
                           quarry::v1::CancelTasksResponse* response) override
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class CommandStream;
  struct Worker {
    std::string id;
    int index = 0;
    std::vector<quarry::v1::AttemptStatus> unreported;
    int reported_in_flight = 0;  // Attempts in the report in flight.
    bool report_in_flight = false;
    bool queued = false;  // In ready_.
    bool register_again = false;
    absl::Time last_report = absl::InfinitePast();
    absl::flat_hash_map<std::string, quarry::v1::AttemptStatus> remembered;
    std::deque<std::string> remembered_order;
    CommandStream* stream = nullptr;  // Owned by gRPC until its OnDone.
  };

  // The worker `id` names, or a FAILED_PRECONDITION naming it.
  absl::StatusOr<Worker*> Find(const std::string& id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  quarry::v1::RegisterWorkerRequest Registration(const Worker& worker) const;
  absl::Status Register(const Worker& worker) ABSL_LOCKS_EXCLUDED(mu_);
  void OpenStream(Worker& worker) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void StreamEnded(int index, const grpc::Status& status)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Remember(Worker& worker, const quarry::v1::AttemptStatus& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The reporter thread: sends the queued completions of each worker (one
  // call in flight per worker) and heartbeats.
  void RunReporter() ABSL_LOCKS_EXCLUDED(mu_);
  void SendReport(Worker& worker) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ReportDone(int index, const grpc::Status& status)
      ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  std::string address_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<quarry::v1::ClusterService::Stub> leader_;

  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Worker>> workers_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> index_ ABSL_GUARDED_BY(mu_);
  std::deque<int> ready_ ABSL_GUARDED_BY(mu_);  // Workers with news.
  absl::Duration heartbeat_ ABSL_GUARDED_BY(mu_) = absl::Milliseconds(500);
  int64_t completed_ ABSL_GUARDED_BY(mu_) = 0;
  int calls_in_flight_ ABSL_GUARDED_BY(mu_) = 0;  // Reports and streams.
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  std::thread reporter_;
};

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_SIM_WORKERS_H_

// The worker against a real (fake) leader over gRPC on loopback: the
// GrpcLeaderClient, event-driven reports, and a leader restart.

#include <glog/logging.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/server_util.h"
#include "common/time_util.h"
#include "quarry/v1/cluster_service.grpc.pb.h"
#include "quarry/v1/worker_service.grpc.pb.h"
#include "tests/worker/test_util.h"
#include "worker/worker_server.h"

namespace quarry::worker {
namespace {

using testing::MakeAssignment;

// A ClusterService that, like a real leader, answers NOT_FOUND to reports
// from workers it has not registered. Records when each attempt's report
// arrived. Thread-safe (gRPC threads call it, the test reads it).
class FakeClusterService final : public quarry::v1::ClusterService::Service {
 public:
  grpc::Status RegisterWorker(
      grpc::ServerContext*, const quarry::v1::RegisterWorkerRequest* request,
      quarry::v1::RegisterWorkerResponse* response) override {
    absl::MutexLock lock(&mu_);
    registered_.insert(request->worker_id());
    ++registrations_;
    response->set_heartbeat_interval_ms(20);
    return grpc::Status::OK;
  }

  grpc::Status ReportWorkerState(
      grpc::ServerContext*, const quarry::v1::ReportWorkerStateRequest* request,
      quarry::v1::ReportWorkerStateResponse*) override {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    if (!registered_.contains(request->worker_id())) {
      return grpc::Status(
          grpc::StatusCode::NOT_FOUND,
          absl::StrCat("unknown worker ", request->worker_id()));
    }
    ++reports_;
    for (const auto& attempt : request->attempts()) {
      arrivals_[attempt.attempt_id()] = now;
      statuses_[attempt.attempt_id()] = attempt;
    }
    return grpc::Status::OK;
  }

  grpc::Status GetCluster(grpc::ServerContext*,
                          const quarry::v1::GetClusterRequest*,
                          quarry::v1::GetClusterResponse*) override {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "fake");
  }

  // Waits for the report of `attempt_id`; returns (status, arrival time).
  bool WaitForAttempt(absl::string_view attempt_id,
                      quarry::v1::AttemptStatus* status, absl::Time* arrival) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return arrivals_.contains(attempt_id);
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&seen), absl::Seconds(10))) {
      return false;
    }
    *status = statuses_.at(attempt_id);
    *arrival = arrivals_.at(attempt_id);
    return true;
  }

  bool WaitForRegistrations(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return registrations_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

  bool WaitForReports(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return reports_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> registered_ ABSL_GUARDED_BY(mu_);
  int registrations_ ABSL_GUARDED_BY(mu_) = 0;
  int reports_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, absl::Time> arrivals_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, quarry::v1::AttemptStatus> statuses_
      ABSL_GUARDED_BY(mu_);
};

// A fake leader process: the service and its gRPC server.
struct FakeLeader {
  FakeClusterService service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

std::unique_ptr<FakeLeader> StartLeader(const std::string& listen) {
  auto leader = std::make_unique<FakeLeader>();
  absl::StatusOr<StartedServer> started =
      StartGrpcServer(listen, {&leader->service});
  EXPECT_TRUE(started.ok()) << started.status();
  if (!started.ok()) return nullptr;
  leader->server = std::move(started->server);
  leader->port = started->port;
  return leader;
}

grpc::Status StartTask(WorkerServer& worker,
                       const quarry::v1::Assignment& assignment) {
  auto stub = quarry::v1::WorkerService::NewStub(grpc::CreateChannel(
      worker.address(), grpc::InsecureChannelCredentials()));
  quarry::v1::StartTasksRequest request;
  request.set_worker_id(worker.worker_id());
  *request.add_assignments() = assignment;
  quarry::v1::StartTasksResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::Status status = stub->StartTasks(&context, request, &response);
  if (status.ok() && response.accepted_attempt_ids_size() != 1) {
    return grpc::Status(grpc::StatusCode::ABORTED, "rejected");
  }
  return status;
}

TEST(GrpcLeaderClientTest, CompletionReachesTheLeaderAtOnce) {
  std::unique_ptr<FakeLeader> leader = StartLeader("127.0.0.1:0");
  ASSERT_NE(leader, nullptr);
  WorkerConfig config;
  config.worker_id = "w-grpc";
  config.leader = absl::StrCat("127.0.0.1:", leader->port);
  absl::StatusOr<std::unique_ptr<WorkerServer>> worker =
      WorkerServer::Start(config);
  ASSERT_TRUE(worker.ok()) << worker.status();
  ASSERT_TRUE(leader->service.WaitForRegistrations(1, absl::Seconds(10)));

  absl::Duration slowest;
  for (int i = 0; i < 20; ++i) {
    const std::string id = absl::StrCat("job-000001.", i, ".1");
    ASSERT_TRUE(StartTask(**worker, MakeAssignment(id, "noop")).ok());
    quarry::v1::AttemptStatus status;
    absl::Time arrival;
    ASSERT_TRUE(leader->service.WaitForAttempt(id, &status, &arrival));
    EXPECT_EQ(status.status(), quarry::v1::EXECUTION_STATUS_DONE);
    slowest = std::max(slowest, arrival - FromProtoTime(status.end_time()));
  }
  // Event driven: milliseconds, not the 20 ms heartbeat or a poll period
  // (a generous bound for a loaded 2-core machine).
  LOG(INFO) << "slowest completion-to-leader latency: " << slowest;
  EXPECT_LT(slowest, absl::Milliseconds(200));
  (*worker)->Shutdown();
  leader->server->Shutdown();
}

TEST(GrpcLeaderClientTest, RegistersAgainWithARestartedLeader) {
  std::unique_ptr<FakeLeader> leader = StartLeader("127.0.0.1:0");
  ASSERT_NE(leader, nullptr);
  const std::string address = absl::StrCat("127.0.0.1:", leader->port);
  WorkerConfig config;
  config.worker_id = "w-restart";
  config.leader = address;
  absl::StatusOr<std::unique_ptr<WorkerServer>> worker =
      WorkerServer::Start(config);
  ASSERT_TRUE(worker.ok()) << worker.status();
  ASSERT_TRUE(leader->service.WaitForReports(2, absl::Seconds(10)));

  // The leader dies and comes back on the same port, knowing nothing.
  leader->server->Shutdown();
  leader.reset();
  leader = StartLeader(address);
  ASSERT_NE(leader, nullptr);
  // Its first heartbeat gets NOT_FOUND; the worker registers again.
  ASSERT_TRUE(leader->service.WaitForRegistrations(1, absl::Seconds(10)));
  ASSERT_TRUE(leader->service.WaitForReports(1, absl::Seconds(10)));

  ASSERT_TRUE(
      StartTask(**worker, MakeAssignment("job-000002.0.1", "noop")).ok());
  quarry::v1::AttemptStatus status;
  absl::Time arrival;
  ASSERT_TRUE(
      leader->service.WaitForAttempt("job-000002.0.1", &status, &arrival));
  EXPECT_EQ(status.status(), quarry::v1::EXECUTION_STATUS_DONE);
  (*worker)->Shutdown();
  leader->server->Shutdown();
}

}  // namespace
}  // namespace quarry::worker

// The worker against a real (fake) leader over gRPC on loopback: the
// GrpcLeaderClient, event-driven reports, a leader restart, the command
// stream, commit permission and a drain asked for by the leader.

#include <glog/logging.h>
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/time_util.h"
#include "tests/worker/fake_cluster_service.h"
#include "tests/worker/test_util.h"
#include "worker/leader_client.h"
#include "worker/worker_server.h"

namespace quarry::worker {
namespace {

using testing::FakeLeader;
using testing::FileExists;
using testing::MakeAssignment;
using testing::StartLeader;
using testing::StartTask;
using testing::TempDir;

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
  leader->Stop();
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

  ASSERT_TRUE(leader->service.WaitForOpenStreams(1));
  // The leader dies and comes back on the same port, knowing nothing.
  leader->Stop();
  leader.reset();
  leader = StartLeader(address);
  ASSERT_NE(leader, nullptr);
  // Its first heartbeat gets NOT_FOUND; the worker registers again.
  ASSERT_TRUE(leader->service.WaitForRegistrations(1, absl::Seconds(10)));
  ASSERT_TRUE(leader->service.WaitForReports(1, absl::Seconds(10)));
  // The command stream is back too.
  ASSERT_TRUE(leader->service.WaitForOpenStreams(1));

  ASSERT_TRUE(
      StartTask(**worker, MakeAssignment("job-000002.0.1", "noop")).ok());
  quarry::v1::AttemptStatus status;
  absl::Time arrival;
  ASSERT_TRUE(
      leader->service.WaitForAttempt("job-000002.0.1", &status, &arrival));
  EXPECT_EQ(status.status(), quarry::v1::EXECUTION_STATUS_DONE);
  (*worker)->Shutdown();
  leader->Stop();
}

TEST(GrpcLeaderClientTest, LeaderDrainsAWorkerThatThenLeaves) {
  std::unique_ptr<FakeLeader> leader = StartLeader("127.0.0.1:0");
  ASSERT_NE(leader, nullptr);
  WorkerConfig config;
  config.worker_id = "w-drain";
  config.leader = absl::StrCat("127.0.0.1:", leader->port);
  absl::StatusOr<std::unique_ptr<WorkerServer>> worker =
      WorkerServer::Start(config);
  ASSERT_TRUE(worker.ok()) << worker.status();
  ASSERT_TRUE(leader->service.WaitForOpenStreams(1));

  // Commit permission over gRPC: the first attempt of a task wins.
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  ASSERT_TRUE(
      StartTask(**worker, MakeAssignment("job-000001.0.1", "noop", {}, out))
          .ok());
  quarry::v1::AttemptStatus status;
  absl::Time arrival;
  ASSERT_TRUE(
      leader->service.WaitForAttempt("job-000001.0.1", &status, &arrival));
  EXPECT_EQ(status.status(), quarry::v1::EXECUTION_STATUS_DONE);
  EXPECT_TRUE(FileExists(out));
  ASSERT_TRUE(
      StartTask(**worker, MakeAssignment("job-000001.0.2", "noop", {}, out))
          .ok());
  ASSERT_TRUE(
      leader->service.WaitForAttempt("job-000001.0.2", &status, &arrival));
  EXPECT_EQ(status.status(), quarry::v1::EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(status.error(),
            "commit refused by the leader: attempt job-000001.0.1 already "
            "committed the output");

  leader->service.Drain("w-drain");
  ASSERT_TRUE((*worker)->WaitForDrainRequest(absl::Seconds(10)));
  const Drainer::Result result = (*worker)->Drain();
  EXPECT_TRUE(result.deregistered.ok()) << result.deregistered;
  EXPECT_TRUE(leader->service.deregistered("w-drain"));
  // The leader sees the stream end.
  EXPECT_TRUE(leader->service.WaitForOpenStreams(0));
}

TEST(GrpcLeaderClientTest, StreamIsRenewedBeforeItsDeadline) {
  std::unique_ptr<FakeLeader> leader = StartLeader("127.0.0.1:0");
  ASSERT_NE(leader, nullptr);
  WorkerConfig config;
  config.worker_id = "w-renew";
  config.leader = absl::StrCat("127.0.0.1:", leader->port);
  config.connection.stream_timeout = absl::Milliseconds(400);
  config.connection.renew_before = absl::Milliseconds(300);  // At 200 ms.
  absl::StatusOr<std::unique_ptr<WorkerServer>> worker =
      WorkerServer::Start(config);
  ASSERT_TRUE(worker.ok()) << worker.status();
  ASSERT_TRUE(leader->service.WaitForStreamsOpened(4));
  // The leader never saw the worker without a stream.
  EXPECT_EQ(leader->service.gaps(), 0);
  EXPECT_GE((*worker)->connection()->stats().renewals, 2);
  (*worker)->Shutdown();
  EXPECT_TRUE(leader->service.WaitForOpenStreams(0));
}

TEST(GrpcLeaderClientTest, StreamEndsWhenTheWorkerStops) {
  std::unique_ptr<FakeLeader> leader = StartLeader("127.0.0.1:0");
  ASSERT_NE(leader, nullptr);
  WorkerConfig config;
  config.worker_id = "w-stop";
  config.leader = absl::StrCat("127.0.0.1:", leader->port);
  absl::StatusOr<std::unique_ptr<WorkerServer>> worker =
      WorkerServer::Start(config);
  ASSERT_TRUE(worker.ok()) << worker.status();
  ASSERT_TRUE(leader->service.WaitForOpenStreams(1));
  const absl::Time start = absl::Now();
  (*worker)->Shutdown();
  EXPECT_TRUE(leader->service.WaitForOpenStreams(0));
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_FALSE(leader->service.deregistered("w-stop"));
}

TEST(GrpcLeaderClientTest, CommitRequestReturnsAtOnceWhenCancelled) {
  std::unique_ptr<FakeLeader> leader = StartLeader("127.0.0.1:0");
  ASSERT_NE(leader, nullptr);
  GrpcLeaderClient client(absl::StrCat("127.0.0.1:", leader->port));
  quarry::v1::RequestCommitRequest request;
  request.set_worker_id("w1");
  request.set_attempt_id("job-000001.0.hang");
  CancelFlag cancel;
  absl::Status status;
  std::thread asker([&] {
    status = client.RequestCommit(request, absl::Hours(1), &cancel).status();
  });
  EXPECT_TRUE(leader->service.WaitForHangingCommit());
  const absl::Time start = absl::Now();
  cancel.Cancel();
  asker.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled) << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  // Unreachable leader: DeregisterWorker fails fast.
  GrpcLeaderClient nowhere("127.0.0.1:1");
  quarry::v1::DeregisterWorkerRequest deregister;
  deregister.set_worker_id("w1");
  const absl::Status gone =
      nowhere.DeregisterWorker(deregister, absl::Seconds(30));
  EXPECT_EQ(gone.code(), absl::StatusCode::kUnavailable) << gone;
}

}  // namespace
}  // namespace quarry::worker

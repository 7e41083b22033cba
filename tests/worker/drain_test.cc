// The worker's fault-tolerance protocol with a fake leader: commit
// permission, the command stream, and draining.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "tests/worker/test_util.h"
#include "tests/worker/worker_server_fixture.h"

namespace quarry::worker {
namespace {

using quarry::v1::AttemptStatus;
using quarry::v1::EXECUTION_STATUS_CANCELLED;
using quarry::v1::EXECUTION_STATUS_DONE;
using quarry::v1::EXECUTION_STATUS_FAILED;
using testing::FakeLeaderClient;
using testing::FileExists;
using ::testing::IsEmpty;
using testing::ListDir;
using testing::MakeAssignment;
using ::testing::StartsWith;
using testing::TempDir;

class DrainTest : public testing::WorkerServerFixture {
 protected:
  quarry::v1::Assignment Sleep(absl::string_view id, int slot,
                               absl::string_view ms = "3600000") {
    return MakeAssignment(id, "sleep", {}, "", {{"ms", std::string(ms)}}, slot);
  }
};

TEST_F(DrainTest, CommitGrantedRefusedOrUnanswered) {
  WorkerConfig config = LocalConfig();
  config.commit.give_up_after = absl::Milliseconds(100);
  config.commit.initial_backoff = absl::Milliseconds(1);
  StartWorker(config);
  TempDir dir;
  ASSERT_TRUE(Start(MakeAssignment("job-000001.0.1", "noop", {},
                                   dir.Join("part-00000")))
                  .ok());
  EXPECT_EQ(WaitForReport("job-000001.0.1").status(), EXECUTION_STATUS_DONE);
  EXPECT_TRUE(FileExists(dir.Join("part-00000")));
  ASSERT_EQ(leader_->commit_requests().size(), 1u);
  EXPECT_EQ(leader_->commit_requests()[0].worker_id(), "w-test");
  EXPECT_EQ(leader_->commit_requests()[0].attempt_id(), "job-000001.0.1");

  leader_->QueueCommitAnswer(FakeLeaderClient::Refused("task 1 is done"));
  ASSERT_TRUE(Start(MakeAssignment("job-000001.1.1", "noop", {},
                                   dir.Join("part-00001")))
                  .ok());
  AttemptStatus status = WaitForReport("job-000001.1.1");
  EXPECT_EQ(status.status(), EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(status.error(), "commit refused by the leader: task 1 is done");
  EXPECT_FALSE(FileExists(dir.Join("part-00001")));

  leader_->SetCommitAnswer(absl::UnavailableError("leader unreachable"));
  ASSERT_TRUE(Start(MakeAssignment("job-000001.2.1", "noop", {},
                                   dir.Join("part-00002")))
                  .ok());
  status = WaitForReport("job-000001.2.1");
  EXPECT_EQ(status.status(), EXECUTION_STATUS_FAILED);
  EXPECT_THAT(status.error(),
              StartsWith("no commit permission from the leader: gave up "
                         "after 100ms: leader unreachable"));
  EXPECT_FALSE(FileExists(dir.Join("part-00002")));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

TEST_F(DrainTest, DrainRefusesNewWorkAndLetsRunningAttemptsFinish) {
  WorkerConfig config = LocalConfig();
  config.drain.grace = absl::Minutes(1);
  StartWorker(config);
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  // The attempt is done working but waits for the leader's permission: it
  // runs on after the drain starts, and finishes once the leader answers.
  leader_->HoldCommits(true);
  ASSERT_TRUE(Start(MakeAssignment("job-000001.0.1", "noop", {}, out)).ok());
  ASSERT_TRUE(leader_->WaitForCommitRequests(1));

  worker_->RequestDrain("test");
  EXPECT_TRUE(WaitForDrainingReport());
  const grpc::Status refused = Start(Sleep("job-000001.1.1", 1));
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(refused.error_message(), "worker is draining");

  Drainer::Result result;
  std::thread drain([&] { result = worker_->Drain(); });
  leader_->HoldCommits(false);
  drain.join();
  EXPECT_EQ(result.running_at_start, 1);
  EXPECT_EQ(result.cancelled, 0);
  EXPECT_TRUE(result.final_report_acknowledged);
  EXPECT_TRUE(result.deregistered.ok()) << result.deregistered;
  EXPECT_TRUE(FileExists(out));

  // The final report reached the leader before the worker left.
  ASSERT_EQ(leader_->deregistrations().size(), 1u);
  EXPECT_EQ(leader_->deregistrations()[0].worker_id(), "w-test");
  const std::vector<Call> before = leader_->calls_before_deregistration();
  const AttemptStatus* done = FindReport(before, "job-000001.0.1");
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(done->status(), EXECUTION_STATUS_DONE);
  EXPECT_TRUE(before.back().report.draining());
  EXPECT_FALSE(leader_->stream_open());
}

TEST_F(DrainTest, DrainCancelsWhatOutlivesTheGrace) {
  WorkerConfig config = LocalConfig();
  config.drain.grace = absl::Milliseconds(100);
  StartWorker(config);
  ASSERT_TRUE(Start(Sleep("job-000001.0.1", 0)).ok());
  const absl::Time start = absl::Now();
  const Drainer::Result result = worker_->Drain();
  const absl::Duration took = absl::Now() - start;
  EXPECT_GE(took, absl::Milliseconds(100));
  EXPECT_LT(took, absl::Seconds(10));
  EXPECT_EQ(result.running_at_start, 1);
  EXPECT_EQ(result.cancelled, 1);
  EXPECT_TRUE(result.deregistered.ok()) << result.deregistered;
  const std::vector<Call> before = leader_->calls_before_deregistration();
  const AttemptStatus* cancelled = FindReport(before, "job-000001.0.1");
  ASSERT_NE(cancelled, nullptr);
  EXPECT_EQ(cancelled->status(), EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(cancelled->error(), "");
}

TEST_F(DrainTest, SecondSignalSkipsTheGrace) {
  WorkerConfig config = LocalConfig();
  config.drain.grace = absl::Hours(1);
  StartWorker(config);
  ASSERT_TRUE(Start(Sleep("job-000001.0.1", 0)).ok());
  ASSERT_TRUE(Start(Sleep("job-000001.1.1", 1)).ok());
  worker_->RequestDrain("first signal");
  Drainer::Result result;
  std::thread drain([&] { result = worker_->Drain(); });
  worker_->SkipDrainGrace();
  drain.join();
  EXPECT_TRUE(result.deregistered.ok()) << result.deregistered;
  const std::vector<Call> before = leader_->calls_before_deregistration();
  for (const char* id : {"job-000001.0.1", "job-000001.1.1"}) {
    const AttemptStatus* report = FindReport(before, id);
    ASSERT_NE(report, nullptr) << id;
    EXPECT_EQ(report->status(), EXECUTION_STATUS_CANCELLED) << id;
  }
}

TEST_F(DrainTest, LeaderDrainCommandStartsADrain) {
  StartWorker(LocalConfig());
  ASSERT_TRUE(worker_->connection()->WaitForStats(
      [](const LeaderConnection::Stats& s) { return s.connected; },
      absl::Seconds(10)));
  EXPECT_EQ(leader_->connect_requests()[0].worker_id(), "w-test");
  EXPECT_FALSE(worker_->WaitForDrainRequest(absl::ZeroDuration()));

  ASSERT_TRUE(leader_->SendCommand(quarry::v1::WorkerCommand::KIND_DRAIN));
  EXPECT_TRUE(worker_->WaitForDrainRequest(absl::Seconds(10)));
  EXPECT_TRUE(WaitForDrainingReport());
  EXPECT_EQ(Start(Sleep("job-000001.0.1", 0)).error_message(),
            "worker is draining");
  const Drainer::Result result = worker_->Drain();
  EXPECT_EQ(result.running_at_start, 0);
  EXPECT_TRUE(result.deregistered.ok()) << result.deregistered;
  EXPECT_EQ(leader_->deregistrations().size(), 1u);
  EXPECT_FALSE(leader_->stream_open());
}

TEST_F(DrainTest, ShutdownWithoutDrainClosesTheStreamButStaysRegistered) {
  StartWorker(LocalConfig());
  ASSERT_TRUE(worker_->connection()->WaitForStats(
      [](const LeaderConnection::Stats& s) { return s.connected; },
      absl::Seconds(10)));
  worker_->Shutdown();
  EXPECT_TRUE(leader_->WaitForStreamCancelled());
  EXPECT_TRUE(leader_->deregistrations().empty());
}

}  // namespace
}  // namespace quarry::worker

#include "worker/commit_gate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "tests/worker/fake_leader_client.h"

namespace quarry::worker {
namespace {

using testing::FakeLeaderClient;
using ::testing::HasSubstr;
using ::testing::StartsWith;

CommitGate::Options FastOptions() {
  CommitGate::Options options;
  options.call_timeout = absl::Milliseconds(50);
  options.give_up_after = absl::Milliseconds(200);
  options.initial_backoff = absl::Milliseconds(1);
  options.max_backoff = absl::Milliseconds(10);
  return options;
}

TEST(CommitGateTest, AsksForTheAttemptAndReturnsTheAnswer) {
  FakeLeaderClient leader;
  const CommitGate gate(FastOptions(), "w1", &leader);
  CancelFlag cancel;
  absl::StatusOr<quarry::v1::RequestCommitResponse> answer =
      gate.Ask("job-000001.0.1", cancel);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->granted());
  ASSERT_EQ(leader.commit_requests().size(), 1u);
  EXPECT_EQ(leader.commit_requests()[0].worker_id(), "w1");
  EXPECT_EQ(leader.commit_requests()[0].attempt_id(), "job-000001.0.1");

  leader.QueueCommitAnswer(FakeLeaderClient::Refused("superseded"));
  answer = gate.Ask("job-000001.1.1", cancel);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_FALSE(answer->granted());
  EXPECT_EQ(answer->reason(), "superseded");
}

TEST(CommitGateTest, AGrantFromADeposedLeaderIsARefusal) {
  FakeLeaderClient leader;
  EpochFence fence;
  ASSERT_TRUE(fence.Admit(7).ok());  // A leader of epoch 7 has been seen.
  const CommitGate gate(FastOptions(), "w1", &leader, &fence);
  CancelFlag cancel;
  quarry::v1::RequestCommitResponse stale;
  stale.set_granted(true);
  stale.set_leader_epoch(6);
  leader.QueueCommitAnswer(stale);
  absl::StatusOr<quarry::v1::RequestCommitResponse> answer =
      gate.Ask("job-000001.0.1", cancel);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_FALSE(answer->granted());
  EXPECT_EQ(answer->reason(), "deposed leader: epoch 6 < 7");
  quarry::v1::RequestCommitResponse current = stale;
  current.set_leader_epoch(8);
  leader.QueueCommitAnswer(current);
  answer = gate.Ask("job-000001.0.1", cancel);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->granted());
  EXPECT_EQ(fence.highest(), 8);
}

TEST(CommitGateTest, RetriesAnUnreachableLeader) {
  FakeLeaderClient leader;
  leader.QueueCommitAnswer(absl::UnavailableError("leader restarting"));
  leader.QueueCommitAnswer(absl::DeadlineExceededError("slow"));
  const CommitGate gate(FastOptions(), "w1", &leader);
  CancelFlag cancel;
  absl::StatusOr<quarry::v1::RequestCommitResponse> answer =
      gate.Ask("job-000001.0.1", cancel);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->granted());
  EXPECT_EQ(leader.commit_requests().size(), 3u);
}

TEST(CommitGateTest, GivesUpAfterTheBound) {
  FakeLeaderClient leader;
  leader.SetCommitAnswer(absl::UnavailableError("connection refused"));
  const CommitGate gate(FastOptions(), "w1", &leader);
  CancelFlag cancel;
  const absl::Time start = absl::Now();
  const absl::StatusOr<quarry::v1::RequestCommitResponse> answer =
      gate.Ask("job-000001.0.1", cancel);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(answer.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(std::string(answer.status().message()),
              StartsWith("gave up after 200ms: "));
  EXPECT_THAT(answer.status().message(), HasSubstr("connection refused"));
  EXPECT_GE(took, absl::Milliseconds(200));
  EXPECT_LT(took, absl::Seconds(5));
  EXPECT_GT(leader.commit_requests().size(), 2u);
}

TEST(CommitGateTest, OtherErrorsAreNotRetried) {
  FakeLeaderClient leader;
  leader.SetCommitAnswer(absl::NotFoundError("unknown worker w1"));
  const CommitGate gate(FastOptions(), "w1", &leader);
  CancelFlag cancel;
  EXPECT_EQ(gate.Ask("job-000001.0.1", cancel).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(leader.commit_requests().size(), 1u);
}

TEST(CommitGateTest, CancelEndsTheWaitAtOnce) {
  FakeLeaderClient leader;
  leader.SetCommitAnswer(absl::UnavailableError("leader down"));
  CommitGate::Options options = FastOptions();
  options.give_up_after = absl::Hours(1);
  options.initial_backoff = absl::Hours(1);
  const CommitGate gate(options, "w1", &leader);
  CancelFlag cancel;
  absl::Status status;
  std::thread asker(
      [&] { status = gate.Ask("job-000001.0.1", cancel).status(); });
  ASSERT_TRUE(leader.WaitForCommitRequests(1));
  const absl::Time start = absl::Now();
  cancel.Cancel();
  asker.join();
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));

  // Already cancelled: not even asked.
  EXPECT_EQ(gate.Ask("job-000001.1.1", cancel).status().code(),
            absl::StatusCode::kCancelled);
  EXPECT_EQ(leader.commit_requests().size(), 1u);
}

}  // namespace
}  // namespace quarry::worker

#include "worker/leader_connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/worker/fake_leader_client.h"

namespace quarry::worker {
namespace {

using ::testing::ElementsAre;
using testing::FakeLeaderClient;
using Stats = LeaderConnection::Stats;

class LeaderConnectionTest : public ::testing::Test {
 protected:
  void Start(LeaderConnection::Options options = {}) {
    options.initial_backoff = absl::Milliseconds(1);
    options.max_backoff = absl::Milliseconds(5);
    connection_ = std::make_unique<LeaderConnection>(
        options, "w1", &leader_,
        LeaderConnection::Callbacks{[this] {
                                      absl::MutexLock lock(&mu_);
                                      ++drains_;
                                    },
                                    [this](int64_t registrations) {
                                      absl::MutexLock lock(&mu_);
                                      not_found_after_.push_back(registrations);
                                    }});
    connection_->Start();
  }

  bool WaitForStats(const std::function<bool(const Stats&)>& done) {
    return connection_->WaitForStats(done, absl::Seconds(10));
  }

  FakeLeaderClient leader_;
  absl::Mutex mu_;
  int drains_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<int64_t> not_found_after_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<LeaderConnection> connection_;  // Last: stopped first.
};

TEST_F(LeaderConnectionTest, ConnectsOnlyOnceRegistered) {
  Start();
  EXPECT_FALSE(leader_.WaitForConnects(1, absl::Milliseconds(20)));
  connection_->OnRegistered(1);
  ASSERT_TRUE(WaitForStats([](const Stats& s) { return s.connected; }));
  ASSERT_EQ(leader_.connect_requests().size(), 1u);
  EXPECT_EQ(leader_.connect_requests()[0].worker_id(), "w1");
  EXPECT_EQ(connection_->stats().connects, 1);
}

TEST_F(LeaderConnectionTest, DrainCommandCallsBack) {
  Start();
  connection_->OnRegistered(1);
  ASSERT_TRUE(WaitForStats([](const Stats& s) { return s.connected; }));
  ASSERT_TRUE(leader_.SendCommand(quarry::v1::WorkerCommand::KIND_DRAIN));
  ASSERT_TRUE(WaitForStats([](const Stats& s) { return s.drains == 1; }));
  absl::MutexLock lock(&mu_);
  EXPECT_EQ(drains_, 1);
}

TEST_F(LeaderConnectionTest, ReconnectsWhenTheStreamEnds) {
  leader_.QueueConnectAnswer(absl::UnavailableError("leader down"));
  leader_.QueueConnectAnswer(absl::UnavailableError("leader down"));
  Start();
  connection_->OnRegistered(1);
  ASSERT_TRUE(WaitForStats([](const Stats& s) { return s.connected; }));
  EXPECT_EQ(leader_.connect_requests().size(), 3u);

  leader_.EndStream(absl::UnavailableError("leader restarted"));
  ASSERT_TRUE(WaitForStats([](const Stats& s) { return s.connects == 2; }));
  EXPECT_EQ(connection_->stats().streams_opened, 4);
}

TEST_F(LeaderConnectionTest, NotFoundRegistersAgainBeforeReconnecting) {
  Start();
  connection_->OnRegistered(1);
  ASSERT_TRUE(WaitForStats([](const Stats& s) { return s.connected; }));
  leader_.QueueConnectAnswer(absl::NotFoundError("unknown worker w1"));
  leader_.EndStream(absl::UnavailableError("leader restarted"));
  ASSERT_TRUE(WaitForStats([](const Stats& s) { return s.not_found == 1; }));
  // It waits for the new registration: no new stream before it.
  EXPECT_FALSE(leader_.WaitForConnects(3, absl::Milliseconds(20)));
  {
    absl::MutexLock lock(&mu_);
    EXPECT_THAT(not_found_after_, ElementsAre(1));
  }
  connection_->OnRegistered(2);
  ASSERT_TRUE(WaitForStats([](const Stats& s) { return s.connects == 2; }));
  EXPECT_EQ(leader_.connect_requests().size(), 3u);
}

TEST_F(LeaderConnectionTest, RenewsTheStreamBeforeItsDeadlineWithoutAGap) {
  LeaderConnection::Options options;
  options.stream_timeout = absl::Milliseconds(100);
  options.renew_before = absl::Milliseconds(80);  // Capped: renew at 50 ms.
  Start(options);
  connection_->OnRegistered(1);
  ASSERT_TRUE(WaitForStats([](const Stats& s) { return s.renewals >= 3; }));
  connection_->Stop();
  const std::vector<int> open_after = leader_.open_after_cancels();
  ASSERT_GE(open_after.size(), 3u);
  // Every renewal closed the old stream only once the new one was open.
  for (size_t i = 0; i + 1 < open_after.size(); ++i) {
    EXPECT_EQ(open_after[i], 1) << i;
  }
  EXPECT_EQ(open_after.back(), 0);  // Stop() closed the last one.
  EXPECT_GE(connection_->stats().connects, 4);
}

TEST_F(LeaderConnectionTest, StopEndsTheStreamAtOnce) {
  Start();
  connection_->OnRegistered(1);
  ASSERT_TRUE(WaitForStats([](const Stats& s) { return s.connected; }));
  const absl::Time start = absl::Now();
  connection_->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  EXPECT_FALSE(leader_.stream_open());
  EXPECT_FALSE(connection_->stats().connected);
  connection_->Stop();  // Idempotent.
}

TEST_F(LeaderConnectionTest, StopBeforeRegistrationReturns) {
  Start();
  connection_->Stop();
  EXPECT_TRUE(leader_.connect_requests().empty());
}

}  // namespace
}  // namespace quarry::worker

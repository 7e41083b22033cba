// The election's decisions, driven with a FakeClock over an in-memory
// lease with the same rules as the Redis one.
#include "leader/election/leader_election.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"

namespace quarry {
namespace {

using Change = LeaderElection::Change;
using testing::FakeClock;

// RedisLease's rules, with the clock of the test and a switch that makes
// the store unreachable.
class FakeLease : public LeaseStore {
 public:
  explicit FakeLease(const FakeClock* clock) : clock_(clock) {}

  absl::StatusOr<int64_t> Acquire(const LeaseHolder& me,
                                  absl::Duration ttl) override {
    if (down) return absl::UnavailableError("store down");
    if (Live()) return absl::AlreadyExistsError(holder_->id);
    holder_ = me;
    holder_->epoch = ++epoch_;
    expires_ = clock_->Now() + ttl;
    return holder_->epoch;
  }
  absl::Status Renew(const LeaseHolder& me, absl::Duration ttl) override {
    if (down) return absl::UnavailableError("store down");
    if (!Live() || holder_->id != me.id || holder_->epoch != me.epoch) {
      return absl::FailedPreconditionError("not ours");
    }
    expires_ = clock_->Now() + ttl;
    return absl::OkStatus();
  }
  absl::Status Release(const LeaseHolder& me) override {
    if (down) return absl::UnavailableError("store down");
    if (Live() && holder_->id == me.id && holder_->epoch == me.epoch) {
      holder_.reset();
    }
    return absl::OkStatus();
  }
  absl::StatusOr<LeaseHolder> Holder() override {
    if (!Live()) return absl::NotFoundError("none");
    return *holder_;
  }

  bool down = false;

 private:
  bool Live() const { return holder_.has_value() && clock_->Now() < expires_; }

  const FakeClock* const clock_;
  std::optional<LeaseHolder> holder_;
  absl::Time expires_;
  int64_t epoch_ = 0;
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  LeaderElection Leader(const std::string& id) {
    return LeaderElection(&lease_, {id, absl::StrCat(id, ":7070"), 0},
                          timing_);
  }

  FakeClock clock_;
  FakeLease lease_{&clock_};
  ElectionTiming timing_;  // Renew every 100 ms, TTL 500 ms.
};

TEST_F(LeaderElectionTest, OneLeaderAtATimeAndEpochsGrow) {
  LeaderElection a = Leader("a");
  LeaderElection b = Leader("b");
  EXPECT_EQ(a.Step(clock_.Now()), Change::kElected);
  EXPECT_EQ(a.epoch(), 1);
  EXPECT_EQ(b.Step(clock_.Now()), Change::kNone);
  EXPECT_FALSE(b.active());
  for (int i = 0; i < 50; ++i) {
    clock_.Advance(timing_.renew_every);
    EXPECT_EQ(a.Step(clock_.Now()), Change::kNone);
    EXPECT_EQ(b.Step(clock_.Now()), Change::kNone);
    EXPECT_TRUE(a.MayAct(clock_.Now()));
    EXPECT_FALSE(b.MayAct(clock_.Now()));
  }
  a.Resign();
  EXPECT_FALSE(a.MayAct(clock_.Now()));
  // A released lease goes to the next standby at once.
  EXPECT_EQ(b.Step(clock_.Now()), Change::kElected);
  EXPECT_EQ(b.epoch(), 2);
}

TEST_F(LeaderElectionTest, AHolderThatCannotRenewStopsBeforeTheLeaseExpires) {
  LeaderElection a = Leader("a");
  LeaderElection b = Leader("b");
  ASSERT_EQ(a.Step(clock_.Now()), Change::kElected);
  const absl::Time last_good = clock_.Now();
  lease_.down = true;  // a is cut off from the store (and b, for now).
  absl::Time stopped = absl::InfiniteFuture();
  bool deposed = false;
  for (int ms = 10; ms <= 1000 && !deposed; ms += 10) {
    clock_.Advance(absl::Milliseconds(10));
    // MayAct turns false by itself, between Steps.
    if (!a.MayAct(clock_.Now()) && stopped == absl::InfiniteFuture()) {
      stopped = clock_.Now();
    }
    if (ms % 100 == 0) deposed = a.Step(clock_.Now()) == Change::kDeposed;
  }
  EXPECT_EQ(stopped - last_good, timing_.renew_deadline());
  EXPECT_LT(stopped - last_good, timing_.ttl);
  EXPECT_TRUE(deposed);
  EXPECT_FALSE(a.active());
  // The store is back; a's term is still live in it until the TTL: b waits.
  lease_.down = false;
  EXPECT_EQ(b.Step(clock_.Now()), Change::kNone);
  clock_.Advance(last_good + timing_.ttl - clock_.Now());
  EXPECT_EQ(b.Step(clock_.Now()), Change::kElected);
  EXPECT_EQ(b.epoch(), 2);
  // a is a standby now: it waits for b's lease like anyone.
  EXPECT_EQ(a.Step(clock_.Now()), Change::kNone);
  EXPECT_FALSE(a.MayAct(clock_.Now()));
}

TEST_F(LeaderElectionTest, ALeaderThatLearnsItLostStopsAtOnce) {
  LeaderElection a = Leader("a");
  LeaderElection b = Leader("b");
  ASSERT_EQ(a.Step(clock_.Now()), Change::kElected);
  // a pauses (SIGSTOP) past its TTL; b takes over meanwhile.
  clock_.Advance(timing_.ttl);
  EXPECT_FALSE(a.MayAct(clock_.Now()));
  ASSERT_EQ(b.Step(clock_.Now()), Change::kElected);
  // a wakes up: its renewal is refused and it is deposed for certain.
  EXPECT_EQ(a.Step(clock_.Now()), Change::kDeposed);
  EXPECT_TRUE(b.MayAct(clock_.Now()));
}

TEST_F(LeaderElectionTest, OneFailedRenewalDoesNotDepose) {
  LeaderElection a = Leader("a");
  ASSERT_EQ(a.Step(clock_.Now()), Change::kElected);
  clock_.Advance(timing_.renew_every);
  lease_.down = true;
  EXPECT_EQ(a.Step(clock_.Now()), Change::kNone);
  EXPECT_TRUE(a.MayAct(clock_.Now()));
  lease_.down = false;
  clock_.Advance(timing_.renew_every);
  EXPECT_EQ(a.Step(clock_.Now()), Change::kNone);
  EXPECT_TRUE(a.MayAct(clock_.Now() + timing_.renew_deadline() -
                       absl::Milliseconds(1)));
  EXPECT_EQ(a.epoch(), 1);
}

TEST(ElectionTimingTest, TheDefaultsLeaveARenewalOfSlackAndBadOnesAreNamed) {
  const ElectionTiming timing;
  EXPECT_TRUE(ValidateElectionTiming(timing).ok());
  EXPECT_EQ(timing.renew_deadline(), absl::Milliseconds(300));
  EXPECT_EQ(timing.store_timeout(), absl::Milliseconds(200));
  const absl::Status bad = ValidateElectionTiming(
      {absl::Milliseconds(200), absl::Milliseconds(500)});
  EXPECT_TRUE(absl::IsInvalidArgument(bad));
  EXPECT_NE(bad.message().find("--lease_ttl"), std::string::npos);
  EXPECT_FALSE(
      ValidateElectionTiming({absl::ZeroDuration(), absl::Seconds(1)}).ok());
}

}  // namespace
}  // namespace quarry

// The leader lease on a real Redis: the Lua scripts' rules and the TTL.
#include "leader/election/redis_lease.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_servers.h"

namespace quarry {
namespace {

using testing::TestServer;

class RedisLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = TestServer::Start(TestServer::Kind::kRedis);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    auto address = ParseRedisUrl(server_->url());
    ASSERT_TRUE(address.ok()) << address.status();
    address_ = *address;
  }

  RedisLease Lease(const std::string& cluster = "lease-test") {
    return RedisLease(address_, cluster, absl::Seconds(2));
  }

  std::unique_ptr<TestServer> server_;
  RedisAddress address_;
};

TEST_F(RedisLeaseTest, AcquireRenewReleaseAndHolder) {
  RedisLease a = Lease();
  RedisLease b = Lease();
  LeaseHolder alpha{"alpha", "10.0.0.1:7070", 0};
  LeaseHolder beta{"beta", "10.0.0.2:7070", 0};
  EXPECT_TRUE(absl::IsNotFound(a.Holder().status()));
  absl::StatusOr<int64_t> epoch = a.Acquire(alpha, absl::Seconds(10));
  ASSERT_TRUE(epoch.ok()) << epoch.status();
  alpha.epoch = *epoch;
  const absl::Status taken = b.Acquire(beta, absl::Seconds(10)).status();
  EXPECT_TRUE(absl::IsAlreadyExists(taken)) << taken;
  absl::StatusOr<LeaseHolder> holder = b.Holder();
  ASSERT_TRUE(holder.ok()) << holder.status();
  EXPECT_EQ(holder->id, "alpha");
  EXPECT_EQ(holder->address, "10.0.0.1:7070");
  EXPECT_EQ(holder->epoch, alpha.epoch);
  EXPECT_TRUE(a.Renew(alpha, absl::Seconds(10)).ok());
  // Only the holder of this very term may renew or release it.
  EXPECT_TRUE(absl::IsFailedPrecondition(b.Renew(beta, absl::Seconds(10))));
  LeaseHolder old_alpha = alpha;
  old_alpha.epoch -= 1;
  EXPECT_TRUE(
      absl::IsFailedPrecondition(a.Renew(old_alpha, absl::Seconds(10))));
  EXPECT_TRUE(b.Release(beta).ok());
  EXPECT_TRUE(b.Holder().ok());  // Still alpha's.
  EXPECT_TRUE(a.Release(alpha).ok());
  epoch = b.Acquire(beta, absl::Seconds(10));
  ASSERT_TRUE(epoch.ok()) << epoch.status();
  EXPECT_EQ(*epoch, alpha.epoch + 1);
  // Clusters sharing one Redis have their own leases.
  RedisLease other = Lease("another-cluster");
  EXPECT_TRUE(other.Acquire(alpha, absl::Seconds(10)).ok());
}

TEST_F(RedisLeaseTest, AnUnrenewedLeaseExpiresAndTheNextTermHasAHigherEpoch) {
  RedisLease a = Lease();
  RedisLease b = Lease();
  LeaseHolder alpha{"alpha", "a:1", 0};
  absl::StatusOr<int64_t> first = a.Acquire(alpha, absl::Milliseconds(100));
  ASSERT_TRUE(first.ok()) << first.status();
  alpha.epoch = *first;
  // Bounded wait for Redis to expire the key (100 ms TTL).
  const absl::Time deadline = absl::Now() + absl::Seconds(5);
  absl::StatusOr<int64_t> second = absl::UnavailableError("not tried");
  while (absl::Now() < deadline) {
    second = b.Acquire({"beta", "b:1", 0}, absl::Seconds(10));
    if (second.ok()) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_GT(*second, *first);
  EXPECT_TRUE(absl::IsFailedPrecondition(a.Renew(alpha, absl::Seconds(10))));
}

TEST_F(RedisLeaseTest, AnUnreachableStoreIsUnavailableNotAnError) {
  RedisAddress nowhere = address_;
  nowhere.port = 1;  // Nothing listens there.
  RedisLease lease(nowhere, "lease-test", absl::Milliseconds(200));
  const absl::Status status =
      lease.Acquire({"alpha", "a:1", 0}, absl::Seconds(1)).status();
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
}

}  // namespace
}  // namespace quarry

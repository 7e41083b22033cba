// Execution history with real processes, a real Redis and a real
// PostgreSQL: after a job ends and leaves the Redis cache (retention),
// `quarry status` and `quarry history` still show it with every attempt.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/redis_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/local_cluster.h"
#include "tests/testing/test_servers.h"

namespace quarry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HistoryTest, FinishedJobOutlivesTheCacheWithEveryAttempt) {
  auto redis = TestServer::Start(TestServer::Kind::kRedis);
  ASSERT_TRUE(redis.ok()) << redis.status();
  auto postgres = TestServer::Start(TestServer::Kind::kPostgres);
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  auto cluster = LocalCluster::Start(
      {"--store=" + (*redis)->url(), "--history=" + (*postgres)->url(),
       "--cluster_name=history", "--retention=1s"});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->StartWorker("w1", 2).ok());
  ASSERT_TRUE((*cluster)->WaitForAliveWorkers(1).ok());
  const absl::Time before_submit = absl::Now();

  // Each of the 3 tasks fails once, then succeeds: 6 attempts.
  quarry::v1::JobSpec spec;
  spec.set_kind("flaky");
  (*spec.mutable_settings())["tasks"] = "3";
  (*spec.mutable_settings())["fail_attempts"] = "1";
  spec.set_max_attempts(3);
  auto id = (*cluster)->Submit(spec);
  ASSERT_TRUE(id.ok()) << id.status();
  auto job = (*cluster)->WaitForJob(*id);
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_EQ(job->state(), quarry::v1::JOB_STATE_DONE);

  // Retention takes it out of Redis (once the history has it).
  RedisStoreOptions options;
  options.address = *ParseRedisUrl((*redis)->url());
  options.cluster_name = "history";
  auto cache = *RedisStore::Create(options);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (cache->GetJob(*id).ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));  // The sweeper runs on a timer.
  }
  ASSERT_EQ(cache->GetJob(*id).status().code(), absl::StatusCode::kNotFound)
      << (*cluster)->LogTails();

  const std::string leader = "--leader=" + (*cluster)->leader_address();
  std::string output;
  ASSERT_EQ(*RunCommand({CliBinary(), leader, "status", *id, "--attempts"},
                        &output),
            0)
      << output;
  EXPECT_THAT(output, HasSubstr("DONE"));
  for (int task = 0; task < 3; ++task) {
    for (int attempt = 1; attempt <= 2; ++attempt) {
      EXPECT_THAT(output, HasSubstr(absl::StrCat(*id, ".", task, ".", attempt)))
          << output;
    }
  }
  EXPECT_THAT(output, HasSubstr("FAILED"));
  EXPECT_THAT(output, HasSubstr("w1"));

  ASSERT_EQ(*RunCommand({CliBinary(), leader, "history", "--state", "done",
                         "--kind", "flaky", "--since", "10m"},
                        &output),
            0)
      << output;
  EXPECT_THAT(output, HasSubstr(*id));
  ASSERT_EQ(*RunCommand({CliBinary(), leader, "history", "--kind", "grep"},
                        &output),
            0)
      << output;
  EXPECT_THAT(output, Not(HasSubstr(*id)));
  ASSERT_EQ(*RunCommand({CliBinary(), leader, "history", "--until",
                         absl::FormatTime(absl::RFC3339_full, before_submit,
                                          absl::UTCTimeZone())},
                        &output),
            0)
      << output;
  EXPECT_THAT(output, Not(HasSubstr(*id)));
  // ListJobs falls back to the history too.
  ASSERT_EQ(*RunCommand({CliBinary(), leader, "list"}, &output), 0) << output;
  EXPECT_THAT(output, HasSubstr(*id));
  EXPECT_TRUE((*cluster)->Shutdown().ok());
}

TEST(HistoryTest, HistoryCommandNeedsALeaderWithHistory) {
  auto cluster = LocalCluster::Start();
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  std::string output;
  const int code = *RunCommand(
      {CliBinary(), "--leader=" + (*cluster)->leader_address(), "history"},
      &output);
  EXPECT_NE(code, 0);
  EXPECT_THAT(output, HasSubstr("--history"));
}

}  // namespace
}  // namespace quarry::testing

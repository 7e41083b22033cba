// RedisStore on a real Redis: what the contract suite cannot show (URLs,
// key prefixes, outages and restarts), and a randomized comparison with
// the memory store over thousands of operations.
#include "common/redis_store.h"

#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/memory_store.h"
#include "common/time_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_servers.h"

namespace quarry {
namespace {

using quarry::v1::Job;
using quarry::v1::Task;
using testing::TestServer;

TEST(ParseRedisUrlTest, AcceptsHostPortDatabaseAndPassword) {
  auto plain = ParseRedisUrl("redis://127.0.0.1:6400");
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->host, "127.0.0.1");
  EXPECT_EQ(plain->port, 6400);
  EXPECT_EQ(plain->db, 0);
  auto full = ParseRedisUrl("redis://:s3cret@cache.internal:7000/3");
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->host, "cache.internal");
  EXPECT_EQ(full->port, 7000);
  EXPECT_EQ(full->db, 3);
  EXPECT_EQ(full->password, "s3cret");
  EXPECT_EQ(ParseRedisUrl("redis://cache")->port, 6379);
}

TEST(ParseRedisUrlTest, RejectsMalformedUrlsWithTheReason) {
  for (const char* url :
       {"", "http://x:1", "redis://", "redis://:1", "redis://h:0",
        "redis://h:70000", "redis://h:port", "redis://h:1/x", "redis://h:1/-1",
        "redis://user:pw@h:1"}) {
    auto parsed = ParseRedisUrl(url);
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument)
        << url;
    EXPECT_THAT(parsed.status().message(), ::testing::HasSubstr("redis URL"));
  }
}

TEST(RedisStoreTest, RejectsBadClusterNames) {
  for (const char* name : {"", "a b", "x:y", "../etc"}) {
    RedisStoreOptions options;
    options.cluster_name = name;
    EXPECT_EQ(RedisStore::Create(options).status().code(),
              absl::StatusCode::kInvalidArgument)
        << name;
  }
}

class RedisStoreServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = TestServer::Start(TestServer::Kind::kRedis);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<RedisStore> MakeStore(const std::string& cluster = "test") {
    RedisStoreOptions options;
    options.address = *ParseRedisUrl(server_->url());
    options.cluster_name = cluster;
    options.timeout = absl::Milliseconds(500);
    options.max_backoff = absl::Milliseconds(100);
    return *RedisStore::Create(options);
  }

  static Job MakeJob(int64_t sequence) {
    Job job;
    job.set_id(absl::StrFormat("job-%06d", sequence));
    job.set_state(quarry::v1::JOB_STATE_PENDING);
    return job;
  }

  // Calls `call` until it succeeds; false after `timeout`.
  static bool Eventually(const std::function<absl::Status()>& call,
                         absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (call().ok()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(RedisStoreServerTest, ClustersSharingARedisDoNotSeeEachOther) {
  auto red = MakeStore("red");
  auto blue = MakeStore("blue");
  ASSERT_TRUE(red->CreateJob(MakeJob(1), {}).ok());
  EXPECT_EQ(*red->NextJobSequence(), 1);
  EXPECT_EQ(*blue->NextJobSequence(), 1);
  EXPECT_EQ(blue->GetJob("job-000001").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(blue->CreateJob(MakeJob(1), {}).ok());
}

TEST_F(RedisStoreServerTest, DataSurvivesARedisRestart) {
  auto store = MakeStore();
  ASSERT_TRUE(store->CreateJob(MakeJob(1), {}).ok());
  ASSERT_TRUE(store->Ping().ok());  // Leaves a pooled connection behind.
  ASSERT_TRUE(server_->Stop().ok());
  EXPECT_EQ(store->GetJob("job-000001").status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(server_->Restart().ok());
  // The dead pooled connection is replaced; the job was in the AOF.
  ASSERT_TRUE(Eventually([&] { return store->Ping(); }, absl::Seconds(5)));
  auto job = store->GetJob("job-000001");
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(*store->NextJobSequence(), 1);
}

TEST_F(RedisStoreServerTest, UnreachableRedisIsUnavailableThenRecovers) {
  ASSERT_TRUE(server_->Stop().ok());
  auto store = MakeStore();
  for (int i = 0; i < 3; ++i) {
    absl::Status status = store->CreateJob(MakeJob(1), {});
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_THAT(status.message(), ::testing::HasSubstr("Redis"));
  }
  ASSERT_TRUE(server_->Restart().ok());
  EXPECT_TRUE(Eventually([&] { return store->CreateJob(MakeJob(1), {}); },
                         absl::Seconds(5)));
}

// Applies the same random operations to Redis and to the memory store and
// compares every answer, then the whole state (LevelDB's ModelDB idea).
TEST_F(RedisStoreServerTest, BehavesLikeTheMemoryStore) {
  constexpr int kOperations = 12000;
  auto redis = MakeStore("random");
  MemoryStore model;
  std::mt19937 rng(20261121);
  auto pick = [&rng](int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(rng);
  };
  auto random_state = [&] {
    return static_cast<quarry::v1::JobState>(pick(6));  // Incl. UNSPECIFIED.
  };
  auto random_job = [&] {
    Job job = MakeJob(1 + pick(40));
    job.set_state(random_state());
    job.set_error(absl::StrCat("e", pick(5)));
    if (IsFinished(job.state())) {
      *job.mutable_end_time() = ToProtoTime(absl::FromUnixSeconds(pick(100)));
    }
    return job;
  };
  auto random_tasks = [&](int count, int max_index) {
    std::vector<Task> tasks(count);
    for (int i = 0; i < count; ++i) {
      tasks[i].set_index(pick(max_index + 1) - (pick(20) == 0 ? 2 : 0));
      tasks[i].set_status(static_cast<quarry::v1::ExecutionStatus>(pick(8)));
      tasks[i].set_attempts(pick(4));
    }
    return tasks;
  };
  auto same = [](const auto& a, const auto& b) {
    if (a.ok() != b.ok()) return false;
    return a.ok() || a.status().code() == b.status().code();
  };
  auto job_id = [&] { return absl::StrFormat("job-%06d", 1 + pick(40)); };

  int differences = 0;
  for (int op = 0; op < kOperations && differences < 5; ++op) {
    const int choice = pick(12);
    std::string what;
    bool equal = true;
    if (choice == 0) {
      equal = *redis->NextJobSequence() == *model.NextJobSequence();
      what = "NextJobSequence";
    } else if (choice == 1) {
      std::vector<Task> tasks(pick(5));
      for (size_t i = 0; i < tasks.size(); ++i) tasks[i].set_index(i);
      Job job = random_job();
      equal = redis->CreateJob(job, tasks).code() ==
              model.CreateJob(job, tasks).code();
      what = "CreateJob " + job.id();
    } else if (choice == 2 || choice == 3) {
      Job job = random_job();
      equal = redis->UpdateJob(job).code() == model.UpdateJob(job).code();
      what = "UpdateJob " + job.id();
    } else if (choice == 4 || choice == 5) {
      const std::string id = job_id();
      std::vector<Task> tasks = random_tasks(1 + pick(3), 4);
      equal = redis->UpdateTasks(id, tasks).code() ==
              model.UpdateTasks(id, tasks).code();
      what = "UpdateTasks " + id;
    } else if (choice == 6) {
      const std::string id = job_id();
      auto a = redis->GetJob(id);
      auto b = model.GetJob(id);
      equal = same(a, b) &&
              (!a.ok() || a->SerializeAsString() == b->SerializeAsString());
      what = "GetJob " + id;
    } else if (choice == 7) {
      const std::string id = job_id();
      auto a = redis->GetTasks(id);
      auto b = model.GetTasks(id);
      equal = same(a, b) && (!a.ok() || a->size() == b->size());
      for (size_t i = 0; equal && a.ok() && i < a->size(); ++i) {
        equal = (*a)[i].SerializeAsString() == (*b)[i].SerializeAsString();
      }
      what = "GetTasks " + id;
    } else if (choice == 8) {
      const quarry::v1::JobState state = random_state();
      const int page_size = 1 + pick(6);
      std::string token_a, token_b;
      do {
        auto a = redis->ListJobs(state, page_size, token_a);
        auto b = model.ListJobs(state, page_size, token_b);
        equal = a.ok() && b.ok() && a->jobs.size() == b->jobs.size() &&
                a->next_page_token == b->next_page_token;
        for (size_t i = 0; equal && i < a->jobs.size(); ++i) {
          equal = a->jobs[i].SerializeAsString() ==
                  b->jobs[i].SerializeAsString();
        }
        if (equal) token_a = a->next_page_token, token_b = b->next_page_token;
      } while (equal && !token_a.empty());
      what = absl::StrCat("ListJobs state=", state, " page=", page_size);
    } else if (choice == 9) {
      const std::string id = job_id();
      equal = redis->DeleteJob(id).code() == model.DeleteJob(id).code();
      what = "DeleteJob " + id;
    } else if (choice == 10) {
      const absl::Time cutoff = absl::FromUnixSeconds(pick(110));
      const int limit = 1 + pick(10);
      auto a = redis->ListJobsEndedBefore(cutoff, limit);
      auto b = model.ListJobsEndedBefore(cutoff, limit);
      // Ties in end time may come in either order: compare as sets when
      // the page is not cut short.
      equal = a.ok() && b.ok() && a->size() == b->size();
      if (equal && static_cast<int>(a->size()) < limit) {
        std::sort(a->begin(), a->end());
        std::sort(b->begin(), b->end());
        equal = *a == *b;
      }
      what = "ListJobsEndedBefore";
    } else {
      quarry::v1::Worker worker;
      worker.set_id(absl::StrCat("w-", pick(6)));
      worker.set_slots(1 + pick(8));
      if (pick(3) == 0) {
        equal = redis->DeleteWorker(worker.id()).ok() ==
                model.DeleteWorker(worker.id()).ok();
      } else {
        equal = redis->PutWorker(worker).ok() == model.PutWorker(worker).ok();
      }
      auto a = redis->ListWorkers();
      auto b = model.ListWorkers();
      equal = equal && a.ok() && b.ok() && a->size() == b->size();
      for (size_t i = 0; equal && i < a->size(); ++i) {
        equal = (*a)[i].SerializeAsString() == (*b)[i].SerializeAsString();
      }
      what = "PutWorker/DeleteWorker/ListWorkers";
    }
    if (!equal) {
      ++differences;
      ADD_FAILURE() << "operation " << op << " (" << what
                    << ") differs between Redis and the memory store";
    }
  }
  EXPECT_EQ(differences, 0);
}

}  // namespace
}  // namespace quarry

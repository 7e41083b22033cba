// The Store contract: one suite that every backend must pass, run on the
// memory store and on a real Redis (see the bottom).
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/memory_store.h"
#include "common/redis_store.h"
#include "common/store.h"
#include "common/time_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/test_servers.h"

namespace quarry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using StoreFactory = std::unique_ptr<Store> (*)();
using quarry::v1::JOB_STATE_DONE;
using quarry::v1::JOB_STATE_PENDING;
using quarry::v1::JOB_STATE_RUNNING;

quarry::v1::Job MakeJob(int64_t sequence, quarry::v1::JobState state) {
  quarry::v1::Job job;
  job.set_id(absl::StrFormat("job-%06d", sequence));
  job.set_state(state);
  job.set_task_count(2);
  return job;
}

std::vector<quarry::v1::Task> TwoTasks() {
  std::vector<quarry::v1::Task> tasks(2);
  tasks[0].set_index(0);
  tasks[1].set_index(1);
  return tasks;
}

std::vector<std::string> Ids(const JobPage& page) {
  std::vector<std::string> ids;
  for (const auto& job : page.jobs) ids.push_back(job.id());
  return ids;
}

// The fixture: MakeStore() gives each test a fresh, empty store of the
// backend under test.
class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  virtual std::unique_ptr<Store> MakeStore() { return GetParam()(); }
  void SetUp() override {
    store_ = MakeStore();
    ASSERT_NE(store_, nullptr);
  }
  std::unique_ptr<Store> store_;
};

quarry::v1::Job Finished(int64_t sequence, absl::Time end) {
  quarry::v1::Job job = MakeJob(sequence, JOB_STATE_DONE);
  *job.mutable_end_time() = ToProtoTime(end);
  return job;
}

TEST_P(StoreContractTest, SequencesIncrease) {
  EXPECT_EQ(*store_->NextJobSequence(), 1);
  EXPECT_EQ(*store_->NextJobSequence(), 2);
}

TEST_P(StoreContractTest, JobsAndTasksRoundTrip) {
  ASSERT_TRUE(store_->CreateJob(MakeJob(1, quarry::v1::JOB_STATE_PENDING), TwoTasks()).ok());
  EXPECT_EQ(store_->CreateJob(MakeJob(1, quarry::v1::JOB_STATE_PENDING), {}).code(),
            absl::StatusCode::kAlreadyExists);
  quarry::v1::Job job = MakeJob(1, quarry::v1::JOB_STATE_RUNNING);
  ASSERT_TRUE(store_->UpdateJob(job).ok());
  EXPECT_EQ(store_->GetJob("job-000001")->state(), quarry::v1::JOB_STATE_RUNNING);

  quarry::v1::Task done;
  done.set_index(1);
  done.set_status(quarry::v1::EXECUTION_STATUS_DONE);
  ASSERT_TRUE(store_->UpdateTasks("job-000001", {done}).ok());
  auto tasks = store_->GetTasks("job-000001");
  ASSERT_TRUE(tasks.ok());
  ASSERT_EQ(tasks->size(), 2u);
  EXPECT_EQ((*tasks)[1].status(), quarry::v1::EXECUTION_STATUS_DONE);
  done.set_index(7);
  EXPECT_FALSE(store_->UpdateTasks("job-000001", {done}).ok());
}

TEST_P(StoreContractTest, UnknownJobsAreNotFound) {
  EXPECT_EQ(store_->GetJob("job-000009").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetJob("bogus").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTasks("job-000009").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->UpdateJob(MakeJob(9, quarry::v1::JOB_STATE_DONE)).code(),
            absl::StatusCode::kNotFound);
}

TEST_P(StoreContractTest, ListsNewestFirstWithFilterAndPages) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(store_->CreateJob(MakeJob(i, i % 2 ? quarry::v1::JOB_STATE_DONE
                                                   : quarry::v1::JOB_STATE_PENDING),
                                  TwoTasks())
                    .ok());
  }
  auto all = store_->ListJobs(quarry::v1::JOB_STATE_UNSPECIFIED, 10, "");
  ASSERT_TRUE(all.ok());
  EXPECT_THAT(Ids(*all), ElementsAre("job-000005", "job-000004", "job-000003",
                                     "job-000002", "job-000001"));
  EXPECT_THAT(all->next_page_token, IsEmpty());

  auto first = store_->ListJobs(quarry::v1::JOB_STATE_DONE, 2, "");
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(Ids(*first), ElementsAre("job-000005", "job-000003"));
  auto second = store_->ListJobs(quarry::v1::JOB_STATE_DONE, 2, first->next_page_token);
  ASSERT_TRUE(second.ok());
  EXPECT_THAT(Ids(*second), ElementsAre("job-000001"));
  EXPECT_THAT(second->next_page_token, IsEmpty());
  EXPECT_FALSE(store_->ListJobs(quarry::v1::JOB_STATE_DONE, 2, "x").ok());
}

TEST_P(StoreContractTest, WorkersArePutListedSortedAndDeleted) {
  quarry::v1::Worker b;
  b.set_id("b");
  quarry::v1::Worker a;
  a.set_id("a");
  a.set_slots(2);
  ASSERT_TRUE(store_->PutWorker(b).ok());
  ASSERT_TRUE(store_->PutWorker(a).ok());
  a.set_slots(3);
  ASSERT_TRUE(store_->PutWorker(a).ok());
  auto workers = store_->ListWorkers();
  ASSERT_TRUE(workers.ok());
  ASSERT_EQ(workers->size(), 2u);
  EXPECT_EQ((*workers)[0].id(), "a");
  EXPECT_EQ((*workers)[0].slots(), 3);
  ASSERT_TRUE(store_->DeleteWorker("a").ok());
  EXPECT_EQ(store_->ListWorkers()->size(), 1u);
}

TEST_P(StoreContractTest, StateChangesMoveJobsBetweenFilters) {
  ASSERT_TRUE(store_->CreateJob(MakeJob(1, JOB_STATE_PENDING), TwoTasks()).ok());
  ASSERT_TRUE(store_->CreateJob(MakeJob(2, JOB_STATE_PENDING), TwoTasks()).ok());
  ASSERT_TRUE(store_->UpdateJob(MakeJob(1, JOB_STATE_RUNNING)).ok());
  EXPECT_THAT(Ids(*store_->ListJobs(JOB_STATE_PENDING, 10, "")),
              ElementsAre("job-000002"));
  EXPECT_THAT(Ids(*store_->ListJobs(JOB_STATE_RUNNING, 10, "")),
              ElementsAre("job-000001"));
  EXPECT_THAT(Ids(*store_->ListJobs(JOB_STATE_DONE, 10, "")), IsEmpty());
}

TEST_P(StoreContractTest, TasksKeepEveryField) {
  std::vector<quarry::v1::Task> tasks = TwoTasks();
  tasks[1].add_inputs("/data/in/b.txt");
  tasks[1].set_output_path("/data/out/part-00001");
  tasks[1].set_is_reduce(true);
  ASSERT_TRUE(store_->CreateJob(MakeJob(1, JOB_STATE_PENDING), tasks).ok());
  tasks[1].set_status(quarry::v1::EXECUTION_STATUS_RUNNING);
  tasks[1].set_attempt_id("job-000001.1.2");
  tasks[1].set_worker_id("w-1");
  tasks[1].set_attempts(2);
  tasks[1].set_failed_attempts(1);
  tasks[1].set_error("boom");
  ASSERT_TRUE(store_->UpdateTasks("job-000001", {tasks[1]}).ok());
  auto stored = store_->GetTasks("job-000001");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 2u);
  EXPECT_EQ((*stored)[1].SerializeAsString(), tasks[1].SerializeAsString());
}

TEST_P(StoreContractTest, ManyTasksComeBackInOrder) {
  std::vector<quarry::v1::Task> tasks(2500);
  for (int i = 0; i < 2500; ++i) tasks[i].set_index(i);
  quarry::v1::Job job = MakeJob(1, JOB_STATE_PENDING);
  job.set_task_count(2500);
  ASSERT_TRUE(store_->CreateJob(job, tasks).ok());
  auto stored = store_->GetTasks("job-000001");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 2500u);
  for (int i = 0; i < 2500; ++i) ASSERT_EQ((*stored)[i].index(), i);
}

TEST_P(StoreContractTest, DeletedJobsAreGone) {
  ASSERT_TRUE(store_->CreateJob(MakeJob(1, JOB_STATE_PENDING), TwoTasks()).ok());
  ASSERT_TRUE(store_->UpdateJob(Finished(1, absl::FromUnixSeconds(100))).ok());
  ASSERT_TRUE(store_->DeleteJob("job-000001").ok());
  EXPECT_EQ(store_->GetJob("job-000001").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->GetTasks("job-000001").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(Ids(*store_->ListJobs(quarry::v1::JOB_STATE_UNSPECIFIED, 10, "")),
              IsEmpty());
  EXPECT_THAT(Ids(*store_->ListJobs(JOB_STATE_DONE, 10, "")), IsEmpty());
  EXPECT_THAT(*store_->ListJobsEndedBefore(absl::FromUnixSeconds(1000), 10),
              IsEmpty());
  EXPECT_EQ(store_->DeleteJob("job-000001").code(), absl::StatusCode::kNotFound);
  // The sequence goes on: ids are never reused.
  EXPECT_EQ(*store_->NextJobSequence(), 1);
}

TEST_P(StoreContractTest, ListsFinishedJobsByEndTime) {
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(store_->CreateJob(MakeJob(i, JOB_STATE_PENDING), TwoTasks()).ok());
  }
  // Ended at t=300, 100, 200; job 4 still runs.
  ASSERT_TRUE(store_->UpdateJob(Finished(1, absl::FromUnixSeconds(300))).ok());
  ASSERT_TRUE(store_->UpdateJob(Finished(2, absl::FromUnixSeconds(100))).ok());
  ASSERT_TRUE(store_->UpdateJob(Finished(3, absl::FromUnixSeconds(200))).ok());
  ASSERT_TRUE(store_->UpdateJob(MakeJob(4, JOB_STATE_RUNNING)).ok());
  EXPECT_THAT(*store_->ListJobsEndedBefore(absl::FromUnixSeconds(250), 10),
              ElementsAre("job-000002", "job-000003"));
  EXPECT_THAT(*store_->ListJobsEndedBefore(absl::FromUnixSeconds(1000), 1),
              ElementsAre("job-000002"));
  EXPECT_THAT(*store_->ListJobsEndedBefore(absl::FromUnixSeconds(100), 10),
              IsEmpty());
}

std::unique_ptr<Store> MakeMemoryStore() { return std::make_unique<MemoryStore>(); }

// One real Redis for the whole binary, started by the first Redis test and
// stopped after the last; every store gets a cluster name of its own, so
// tests do not see each other's keys.
class RedisEnvironment : public ::testing::Environment {
 public:
  static testing::TestServer* Server() {
    if (server_ == nullptr) {
      auto started =
          testing::TestServer::Start(testing::TestServer::Kind::kRedis);
      if (!started.ok()) {
        ADD_FAILURE() << "cannot start Redis: " << started.status();
        return nullptr;
      }
      server_ = *std::move(started);
    }
    return server_.get();
  }
  void TearDown() override { server_.reset(); }

 private:
  static inline std::unique_ptr<testing::TestServer> server_;
};
::testing::Environment* const kRedisEnvironment =
    ::testing::AddGlobalTestEnvironment(new RedisEnvironment);

std::unique_ptr<Store> MakeRedisStore() {
  static int stores = 0;
  testing::TestServer* server = RedisEnvironment::Server();
  if (server == nullptr) return nullptr;
  RedisStoreOptions options;
  options.address = *ParseRedisUrl(server->url());
  options.cluster_name = absl::StrCat("contract-", ++stores);
  return *RedisStore::Create(options);
}

INSTANTIATE_TEST_SUITE_P(Memory, StoreContractTest,
                         ::testing::Values(&MakeMemoryStore));
INSTANTIATE_TEST_SUITE_P(Redis, StoreContractTest,
                         ::testing::Values(&MakeRedisStore));

}  // namespace
}  // namespace quarry

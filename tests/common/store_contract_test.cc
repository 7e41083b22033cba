// The Store contract: one suite that every backend must pass. A backend's
// test instantiates StoreContractTest with a factory (see the bottom).
#include <memory>

#include "common/memory_store.h"
#include "absl/strings/str_format.h"
#include "common/store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using StoreFactory = std::unique_ptr<Store> (*)();

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

class StoreContractTest : public ::testing::TestWithParam<StoreFactory> {
 protected:
  void SetUp() override { store_ = GetParam()(); }
  std::unique_ptr<Store> store_;
};

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

TEST_P(StoreContractTest, TaskUpdatesKeepTheFixedFields) {
  std::vector<quarry::v1::Task> tasks = TwoTasks();
  tasks[0].add_inputs("/in/a");
  tasks[0].set_output_path("/out/part-00000");
  tasks[1].add_inputs("/out/part-00000");
  tasks[1].set_output_path("/out/result.tsv");
  tasks[1].set_is_reduce(true);
  ASSERT_TRUE(store_->CreateJob(MakeJob(1, quarry::v1::JOB_STATE_PENDING), tasks).ok());

  quarry::v1::Task update;  // Only what changed, as the controller sends it.
  update.set_index(1);
  update.set_status(quarry::v1::EXECUTION_STATUS_FAILED);
  update.set_attempts(2);
  update.set_attempt_id("job-000001.1.2");
  update.set_worker_id("w1");
  update.set_error("boom");
  ASSERT_TRUE(store_->UpdateTasks("job-000001", {update}).ok());
  update.set_status(quarry::v1::EXECUTION_STATUS_DONE);
  update.clear_error();
  update.set_summary("3 words");
  update.set_output_bytes(12);
  ASSERT_TRUE(store_->UpdateTasks("job-000001", {update}).ok());

  auto stored = store_->GetTasks("job-000001");
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 2u);
  const quarry::v1::Task& reduce = (*stored)[1];
  EXPECT_EQ(reduce.index(), 1);
  EXPECT_THAT(reduce.inputs(), ElementsAre("/out/part-00000"));
  EXPECT_EQ(reduce.output_path(), "/out/result.tsv");
  EXPECT_TRUE(reduce.is_reduce());
  EXPECT_EQ(reduce.status(), quarry::v1::EXECUTION_STATUS_DONE);
  EXPECT_EQ(reduce.attempts(), 2);
  EXPECT_EQ(reduce.attempt_id(), "job-000001.1.2");
  EXPECT_EQ(reduce.worker_id(), "w1");
  EXPECT_EQ(reduce.error(), "");  // Replaced, not merged.
  EXPECT_EQ(reduce.summary(), "3 words");
  EXPECT_EQ(reduce.output_bytes(), 12);
  EXPECT_THAT((*stored)[0].inputs(), ElementsAre("/in/a"));
  EXPECT_EQ((*stored)[0].status(), quarry::v1::EXECUTION_STATUS_UNSPECIFIED);
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

std::unique_ptr<Store> MakeMemoryStore() { return std::make_unique<MemoryStore>(); }

INSTANTIATE_TEST_SUITE_P(Memory, StoreContractTest,
                         ::testing::Values(&MakeMemoryStore));

}  // namespace
}  // namespace quarry

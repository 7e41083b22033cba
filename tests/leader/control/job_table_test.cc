// Unit tests of JobTable's own invariants: lookup, output directories
// claimed by one job at a time, records collected for the store, jobs
// leaving once done with, and what ending an attempt does to its task.
#include "leader/control/job_table.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Outcome = JobTable::Outcome;

constexpr auto kDone = quarry::v1::EXECUTION_STATUS_DONE;
constexpr auto kFailed = quarry::v1::EXECUTION_STATUS_FAILED;
constexpr auto kLost = quarry::v1::EXECUTION_STATUS_LOST;

const absl::Time kNow = absl::FromUnixSeconds(1000);

std::unique_ptr<JobRuntime> MakeJob(int64_t sequence, int32_t maps,
                                    const std::string& output_dir = "",
                                    int32_t max_attempts = 2) {
  quarry::v1::Job job;
  job.set_id(FormatJobId(sequence));
  job.mutable_spec()->set_kind("noop");
  job.mutable_spec()->set_output_dir(output_dir);
  job.mutable_spec()->set_max_attempts(max_attempts);
  job.set_task_count(maps);
  job.mutable_task_counts()->set_pending(maps);
  TaskPlan plan;
  plan.map_count = maps;
  auto runtime = std::make_unique<JobRuntime>(std::move(job), std::move(plan));
  runtime->dirty = false;  // Stored as submitted.
  return runtime;
}

// Starts an attempt of task `index` on worker 0; returns its reference.
AttemptRef Start(JobRuntime& job, int32_t index) {
  const int32_t number = job.StartAttempt(index, /*worker=*/0);
  return AttemptRef{job.job.id(), index, number, "w0", 0, true, kNow};
}

TEST(JobTableTest, FindsOnlyKnownWellFormedIds) {
  JobTable table;
  table.Add(MakeJob(4, 1));
  ASSERT_NE(table.Find("job-000004"), nullptr);
  EXPECT_EQ(table.Find("job-000004")->sequence, 4);
  EXPECT_EQ(table.Find("job-000005"), nullptr);
  EXPECT_EQ(table.Find("job-"), nullptr);
  EXPECT_EQ(table.Find("not-a-job"), nullptr);
  EXPECT_EQ(table.Find(""), nullptr);
}

TEST(JobTableTest, IteratesOldestFirst) {
  JobTable table;
  table.Add(MakeJob(12, 1));
  table.Add(MakeJob(3, 1));
  table.Add(MakeJob(7, 1));
  std::vector<int64_t> order;
  for (const auto& [sequence, job] : table) order.push_back(job->sequence);
  EXPECT_THAT(order, ElementsAre(3, 7, 12));
}

TEST(JobTableTest, OutputDirIsClaimedByOneJobUntilReleased) {
  JobTable table;
  EXPECT_TRUE(table.ReserveOutputDir("/out", "job-000001").ok());
  const absl::Status second = table.ReserveOutputDir("/out", "job-000002");
  EXPECT_EQ(second.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(second.message(), HasSubstr("job-000001"));
  EXPECT_TRUE(table.ReserveOutputDir("/other", "job-000002").ok());
  table.ReleaseOutputDir("/out");
  EXPECT_TRUE(table.ReserveOutputDir("/out", "job-000003").ok());
}

TEST(JobTableTest, CollectWritesDirtyTasksAndJobOnce) {
  JobTable table;
  JobRuntime& job = table.Add(MakeJob(1, 4));
  Start(job, 2);
  job.SetTaskStatus(2, quarry::v1::EXECUTION_STATUS_RUNNING);
  Start(job, 0);
  StoreWrites writes;
  std::vector<quarry::v1::Job> done_with;
  table.CollectWrites({"w0"}, &writes, &done_with);

  ASSERT_EQ(writes.tasks.size(), 1u);
  EXPECT_EQ(writes.tasks[0].first, "job-000001");
  const std::vector<quarry::v1::Task>& tasks = writes.tasks[0].second;
  ASSERT_EQ(tasks.size(), 2u);  // Task 2 once, though changed twice.
  EXPECT_EQ(tasks[0].index(), 2);
  EXPECT_EQ(tasks[0].status(), quarry::v1::EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(tasks[0].worker_id(), "w0");
  EXPECT_EQ(tasks[0].attempt_id(), "job-000001.2.1");
  EXPECT_EQ(tasks[1].index(), 0);
  EXPECT_EQ(tasks[1].status(), quarry::v1::EXECUTION_STATUS_ASSIGNED);
  ASSERT_EQ(writes.jobs.size(), 1u);
  EXPECT_EQ(writes.jobs[0].task_counts().running(), 1);
  EXPECT_EQ(writes.jobs[0].task_counts().assigned(), 1);
  EXPECT_THAT(done_with, IsEmpty());
  EXPECT_FALSE(job.dirty);
  EXPECT_FALSE(job.tasks[2].dirty);
  EXPECT_THAT(job.dirty_tasks, IsEmpty());

  // Nothing changed since: nothing to write.
  StoreWrites again;
  table.CollectWrites({"w0"}, &again, &done_with);
  EXPECT_TRUE(again.empty());
  EXPECT_NE(table.Find("job-000001"), nullptr);
}

TEST(JobTableTest, FinishedJobLeavesOnlyOnceNoAttemptRuns) {
  JobTable table;
  ASSERT_TRUE(table.ReserveOutputDir("/out", "job-000001").ok());
  JobRuntime& job = table.Add(MakeJob(1, 2, "/out"));
  const AttemptRef ref = Start(job, 0);
  job.Finish(quarry::v1::JOB_STATE_CANCELLED, "cancelled", kNow);

  StoreWrites writes;
  std::vector<quarry::v1::Job> done_with;
  table.CollectWrites({"w0"}, &writes, &done_with);
  EXPECT_THAT(done_with, IsEmpty());
  ASSERT_EQ(writes.jobs.size(), 1u);
  EXPECT_EQ(writes.jobs[0].state(), quarry::v1::JOB_STATE_CANCELLED);
  EXPECT_NE(table.Find("job-000001"), nullptr);
  EXPECT_FALSE(table.ReserveOutputDir("/out", "job-000002").ok());

  EXPECT_EQ(table.EndAttempt(ref, kDone, "", false, nullptr, 20),
            Outcome::kIgnored);
  EXPECT_EQ(job.live_attempts, 0);
  StoreWrites last;
  table.CollectWrites({"w0"}, &last, &done_with);
  ASSERT_EQ(done_with.size(), 1u);
  EXPECT_EQ(done_with[0].id(), "job-000001");
  EXPECT_EQ(done_with[0].state(), quarry::v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(table.Find("job-000001"), nullptr);
  EXPECT_TRUE(table.ReserveOutputDir("/out", "job-000002").ok());
}

TEST(JobTableTest, EndAttemptDoneRetriedFailed) {
  JobTable table;
  JobRuntime& job = table.Add(MakeJob(1, 2, "", /*max_attempts=*/2));

  ASSERT_EQ(job.PopRunnable(), 0);
  const AttemptRef first = Start(job, 0);
  quarry::v1::AttemptStatus report;
  report.set_output_bytes(123);
  EXPECT_EQ(table.EndAttempt(first, kDone, "", false, &report, 20),
            Outcome::kDone);
  EXPECT_EQ(job.tasks[0].execution_status(), kDone);
  EXPECT_EQ(job.tasks[0].output_bytes, 123);
  EXPECT_EQ(job.live_attempts, 0);

  ASSERT_EQ(job.PopRunnable(), 1);
  const AttemptRef lost = Start(job, 1);
  EXPECT_EQ(table.EndAttempt(lost, kLost, "worker died", true, nullptr, 20),
            Outcome::kRetried);
  EXPECT_EQ(job.tasks[1].execution_status(),
            quarry::v1::EXECUTION_STATUS_PENDING);
  EXPECT_EQ(job.errors[1], "worker died");
  EXPECT_EQ(job.runnable(), 1);
  EXPECT_EQ(job.live_attempts, 0);

  ASSERT_EQ(job.PopRunnable(), 1);  // The retry.
  const AttemptRef failed = Start(job, 1);
  EXPECT_EQ(table.EndAttempt(failed, kFailed, "exit 1", true, nullptr, 20),
            Outcome::kFailed);
  EXPECT_EQ(job.tasks[1].execution_status(), kFailed);
  EXPECT_EQ(job.runnable(), 0);
  EXPECT_EQ(job.job.task_counts().failed(), 1);
  EXPECT_EQ(job.job.task_counts().done(), 1);
}

TEST(JobTableTest, EndAttemptIgnoresSupersededAndUnknown) {
  JobTable table;
  JobRuntime& job = table.Add(MakeJob(1, 1));
  const AttemptRef old_attempt = Start(job, 0);
  const AttemptRef new_attempt = Start(job, 0);
  ASSERT_EQ(job.live_attempts, 2);
  EXPECT_EQ(table.EndAttempt(old_attempt, kDone, "", false, nullptr, 20),
            Outcome::kIgnored);
  EXPECT_EQ(job.tasks[0].execution_status(),
            quarry::v1::EXECUTION_STATUS_ASSIGNED);
  EXPECT_EQ(job.live_attempts, 1);  // Still one attempt fewer.
  EXPECT_EQ(table.EndAttempt(new_attempt, kDone, "", false, nullptr, 20),
            Outcome::kDone);
  EXPECT_EQ(job.live_attempts, 0);

  AttemptRef unknown = new_attempt;
  unknown.job_id = "job-000009";
  EXPECT_EQ(table.EndAttempt(unknown, kDone, "", false, nullptr, 20),
            Outcome::kIgnored);
}

TEST(JobTableTest, CommitRefusalExplainsWhy) {
  JobTable table;
  JobRuntime& job = table.Add(MakeJob(1, 2));
  const AttemptRef first = Start(job, 0);
  EXPECT_EQ(table.CommitRefusal("job-000001.0.1", first), "");

  const AttemptRef second = Start(job, 0);
  EXPECT_EQ(table.CommitRefusal("job-000001.0.1", first),
            "attempt job-000001.0.1 was superseded by job-000001.0.2");

  table.EndAttempt(second, kDone, "", false, nullptr, 20);
  EXPECT_EQ(table.CommitRefusal("job-000001.0.2", second),
            "task 0 is already committed");

  AttemptRef unknown = first;
  unknown.job_id = "job-000009";
  EXPECT_EQ(table.CommitRefusal("job-000009.0.1", unknown),
            "job job-000009 has ended");

  const AttemptRef other = Start(job, 1);
  job.Finish(quarry::v1::JOB_STATE_CANCELLED, "", kNow);
  EXPECT_EQ(table.CommitRefusal("job-000001.1.1", other),
            "job job-000001 has ended");
}

TEST(JobTableTest, RunnableAndTimeouts) {
  JobTable table;
  JobRuntime& slow = table.Add(MakeJob(1, 3));
  JobRuntime& quick = table.Add(MakeJob(2, 2));
  quick.typical_run = absl::Milliseconds(10);
  EXPECT_EQ(table.Runnable(), 5);
  EXPECT_FALSE(table.AnyTaskTimeout());

  slow.task_timeout = absl::Seconds(30);
  EXPECT_TRUE(table.AnyTaskTimeout());
  slow.PopRunnable();
  EXPECT_EQ(table.Runnable(), 4);

  slow.Finish(quarry::v1::JOB_STATE_FAILED, "x", kNow);
  EXPECT_FALSE(table.AnyTaskTimeout());  // Only unfinished jobs count.
  EXPECT_EQ(table.Runnable(), 2);
}

TEST(JobTableTest, StatsCountUnfinishedJobsOnly) {
  JobTable table;
  JobRuntime& running = table.Add(MakeJob(1, 3));
  running.job.set_state(quarry::v1::JOB_STATE_RUNNING);
  running.PopRunnable();
  Start(running, 0);
  JobRuntime& ended = table.Add(MakeJob(2, 2));
  ended.Finish(quarry::v1::JOB_STATE_CANCELLED, "", kNow);
  ControllerStats stats = ControllerStats::Zero();
  table.AddStats(&stats);
  EXPECT_EQ(stats.jobs[quarry::v1::JOB_STATE_RUNNING], 1);
  EXPECT_EQ(stats.jobs[quarry::v1::JOB_STATE_CANCELLED], 0);
  EXPECT_EQ(stats.tasks[quarry::v1::EXECUTION_STATUS_PENDING], 2);
  EXPECT_EQ(stats.tasks[quarry::v1::EXECUTION_STATUS_ASSIGNED], 1);
  EXPECT_EQ(stats.tasks[quarry::v1::EXECUTION_STATUS_CANCELLED], 0);
  EXPECT_EQ(stats.queue_depth, 2);
}

}  // namespace
}  // namespace quarry

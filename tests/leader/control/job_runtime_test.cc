// Unit tests of JobRuntime's own invariants: task counts equal to the
// tasks' states, each changed task listed once for writing, the order in
// which tasks wait, retries and permanent failure, Finish and Restore.
#include "leader/control/job_runtime.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using ::quarry::v1::ExecutionStatus;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr auto kPending = quarry::v1::EXECUTION_STATUS_PENDING;
constexpr auto kAssigned = quarry::v1::EXECUTION_STATUS_ASSIGNED;
constexpr auto kRunning = quarry::v1::EXECUTION_STATUS_RUNNING;
constexpr auto kDone = quarry::v1::EXECUTION_STATUS_DONE;
constexpr auto kFailed = quarry::v1::EXECUTION_STATUS_FAILED;
constexpr auto kCancelled = quarry::v1::EXECUTION_STATUS_CANCELLED;

// A job record as the JobManager submits it: every task counted PENDING.
quarry::v1::Job JobRecord(int64_t sequence, int32_t task_count,
                          int32_t max_attempts = 3) {
  quarry::v1::Job job;
  job.set_id(FormatJobId(sequence));
  job.mutable_spec()->set_kind("noop");
  job.mutable_spec()->set_max_attempts(max_attempts);
  job.set_state(quarry::v1::JOB_STATE_PENDING);
  job.set_task_count(task_count);
  job.mutable_task_counts()->set_pending(task_count);
  return job;
}

TaskPlan MapPlan(int32_t maps, bool reduce = false) {
  TaskPlan plan;
  plan.map_count = maps;
  plan.has_reduce = reduce;
  return plan;
}

std::unique_ptr<JobRuntime> NewJob(TaskPlan plan, int32_t max_attempts = 3) {
  const int32_t count = plan.task_count();
  return std::make_unique<JobRuntime>(JobRecord(1, count, max_attempts),
                                      std::move(plan));
}

// The job's task counts must equal a count of its tasks' states.
void ExpectCountsMatchTasks(const JobRuntime& job) {
  quarry::v1::TaskCounts expected;
  for (const TaskRuntime& task : job.tasks) {
    AdjustTaskCounts(expected, task.execution_status(), +1);
  }
  const quarry::v1::TaskCounts& counts = job.job.task_counts();
  EXPECT_EQ(counts.pending(), expected.pending());
  EXPECT_EQ(counts.assigned(), expected.assigned());
  EXPECT_EQ(counts.running(), expected.running());
  EXPECT_EQ(counts.done(), expected.done());
  EXPECT_EQ(counts.failed(), expected.failed());
  EXPECT_EQ(counts.cancelled(), expected.cancelled());
}

std::vector<int32_t> PopAll(JobRuntime& job) {
  std::vector<int32_t> order;
  while (job.runnable() > 0) order.push_back(job.PopRunnable());
  return order;
}

TEST(JobRuntimeTest, NewJobHasEveryTaskPendingAndCounted) {
  auto job = NewJob(MapPlan(4, /*reduce=*/true));
  EXPECT_EQ(job->sequence, 1);
  ASSERT_EQ(job->tasks.size(), 5u);
  for (const TaskRuntime& task : job->tasks) {
    EXPECT_EQ(task.execution_status(), kPending);
    EXPECT_EQ(task.attempts, 0);
    EXPECT_EQ(task.worker, -1);
  }
  EXPECT_EQ(job->job.task_counts().pending(), 5);
  ExpectCountsMatchTasks(*job);
  EXPECT_EQ(job->maps_remaining, 4);
  EXPECT_EQ(job->runnable(), 4);  // The reduce waits for the maps.
  EXPECT_THAT(job->dirty_tasks, IsEmpty());
}

TEST(JobRuntimeTest, SetTaskStatusKeepsCountsAndListsTaskOnce) {
  auto job = NewJob(MapPlan(3));
  job->dirty = false;
  job->SetTaskStatus(1, kAssigned);
  job->SetTaskStatus(1, kRunning);
  job->SetTaskStatus(1, kDone);
  ExpectCountsMatchTasks(*job);
  EXPECT_EQ(job->job.task_counts().pending(), 2);
  EXPECT_EQ(job->job.task_counts().done(), 1);
  EXPECT_EQ(job->job.task_counts().assigned(), 0);
  EXPECT_THAT(job->dirty_tasks, ElementsAre(1));
  EXPECT_TRUE(job->tasks[1].dirty);
  EXPECT_TRUE(job->dirty);

  job->SetTaskStatus(2, kFailed);
  EXPECT_THAT(job->dirty_tasks, ElementsAre(1, 2));
  ExpectCountsMatchTasks(*job);

  // No change: nothing is marked.
  job->dirty = false;
  job->SetTaskStatus(0, kPending);
  EXPECT_FALSE(job->dirty);
  EXPECT_FALSE(job->tasks[0].dirty);
  EXPECT_THAT(job->dirty_tasks, ElementsAre(1, 2));
}

TEST(JobRuntimeTest, StartAttemptAssignsAndCounts) {
  auto job = NewJob(MapPlan(2));
  EXPECT_EQ(job->StartAttempt(0, /*worker=*/7), 1);
  EXPECT_EQ(job->StartAttempt(0, /*worker=*/8), 2);
  EXPECT_EQ(job->tasks[0].execution_status(), kAssigned);
  EXPECT_EQ(job->tasks[0].worker, 8);
  EXPECT_EQ(job->job.attempts_started(), 2);
  EXPECT_EQ(job->live_attempts, 2);
  ExpectCountsMatchTasks(*job);
}

TEST(JobRuntimeTest, RetriesComeFirstThenFreshMapsInIndexOrder) {
  auto job = NewJob(MapPlan(5));
  EXPECT_EQ(job->PopRunnable(), 0);
  EXPECT_EQ(job->PopRunnable(), 1);
  EXPECT_EQ(job->runnable(), 3);
  job->StartAttempt(0, 0);
  job->StartAttempt(1, 0);
  EXPECT_TRUE(job->RecordUnsuccessful(1, "lost", true, 20));
  EXPECT_TRUE(job->RecordUnsuccessful(0, "lost", true, 20));
  EXPECT_EQ(job->runnable(), 5);
  // The latest retry is pushed to the very front.
  EXPECT_THAT(PopAll(*job), ElementsAre(0, 1, 2, 3, 4));
}

TEST(JobRuntimeTest, ReduceRunnableOnlyAfterLastMapIsDone) {
  auto job = NewJob(MapPlan(2, /*reduce=*/true));
  EXPECT_THAT(PopAll(*job), ElementsAre(0, 1));
  job->StartAttempt(0, 0);
  job->StartAttempt(1, 0);
  job->RecordDone(0, nullptr);
  EXPECT_EQ(job->runnable(), 0);
  EXPECT_EQ(job->maps_remaining, 1);
  job->RecordDone(1, nullptr);
  EXPECT_EQ(job->maps_remaining, 0);
  EXPECT_THAT(PopAll(*job), ElementsAre(2));
  ExpectCountsMatchTasks(*job);
}

TEST(JobRuntimeTest, RecordDoneKeepsReportAndClearsError) {
  auto job = NewJob(MapPlan(1));
  job->StartAttempt(0, 0);
  job->RecordUnsuccessful(0, "first try failed", true, 20);
  job->PopRunnable();
  job->StartAttempt(0, 0);
  quarry::v1::AttemptStatus report;
  report.set_summary("42 lines");
  report.set_output_bytes(99);
  const absl::Time start = absl::FromUnixSeconds(100);
  *report.mutable_start_time() = ToProtoTime(start);
  *report.mutable_end_time() = ToProtoTime(start + absl::Seconds(4));
  job->RecordDone(0, &report);
  EXPECT_EQ(job->tasks[0].execution_status(), kDone);
  EXPECT_FALSE(job->errors.contains(0));
  EXPECT_EQ(job->summaries[0], "42 lines");
  EXPECT_EQ(job->tasks[0].output_bytes, 99);
  EXPECT_EQ(job->typical_run, absl::Seconds(4));
}

TEST(JobRuntimeTest, FailsForGoodAfterMaxAttemptsNamingTaskAndInput) {
  TaskPlan plan = MapPlan(2);
  plan.map_inputs = {"/in/a.txt", "/in/b.txt"};
  auto job = NewJob(std::move(plan), /*max_attempts=*/2);
  ASSERT_THAT(PopAll(*job), ElementsAre(0, 1));
  job->StartAttempt(1, 0);
  EXPECT_TRUE(job->RecordUnsuccessful(1, "boom", true, 20));
  EXPECT_EQ(job->tasks[1].execution_status(), kPending);
  EXPECT_EQ(job->tasks[1].failed_attempts, 1);
  EXPECT_EQ(job->errors[1], "boom");
  EXPECT_THAT(job->queued, ElementsAre(1));
  EXPECT_THAT(job->failure_reasons, IsEmpty());

  EXPECT_EQ(job->PopRunnable(), 1);
  job->StartAttempt(1, 0);
  EXPECT_FALSE(job->RecordUnsuccessful(1, "bang", true, 20));
  EXPECT_EQ(job->tasks[1].execution_status(), kFailed);
  EXPECT_EQ(job->errors[1], "bang");
  EXPECT_THAT(job->failure_reasons,
              ElementsAre("task 1 (/in/b.txt): failed 2 of 2 attempts, "
                          "last: bang"));
  EXPECT_THAT(job->queued, IsEmpty());
  EXPECT_EQ(job->runnable(), 0);
  ExpectCountsMatchTasks(*job);
}

TEST(JobRuntimeTest, FailsWhenItCannotBeStartedInManyTries) {
  auto job = NewJob(MapPlan(1), /*max_attempts=*/2);
  // Refusals do not count as failures, but tries are bounded by
  // max_attempts + max_dispatches = 3.
  for (int i = 1; i <= 2; ++i) {
    job->StartAttempt(0, 0);
    EXPECT_TRUE(job->RecordUnsuccessful(0, "refused", false, 1)) << i;
    EXPECT_EQ(job->PopRunnable(), 0);
  }
  job->StartAttempt(0, 0);
  EXPECT_FALSE(job->RecordUnsuccessful(0, "refused", false, 1));
  EXPECT_EQ(job->tasks[0].failed_attempts, 0);
  EXPECT_EQ(job->tasks[0].execution_status(), kFailed);
  // No inputs: no parenthesis.
  EXPECT_THAT(job->failure_reasons,
              ElementsAre("task 0: could not be started in 3 tries, "
                          "last: refused"));
}

TEST(JobRuntimeTest, FinishCancelsTasksNotEndedAndClearsRunnable) {
  auto job = NewJob(MapPlan(5));
  job->PopRunnable();
  job->PopRunnable();
  job->PopRunnable();
  job->StartAttempt(0, 0);
  job->RecordDone(0, nullptr);
  job->StartAttempt(1, 0);
  job->SetTaskStatus(1, kRunning);
  job->StartAttempt(2, 0);
  job->RecordUnsuccessful(2, "x", true, 20);  // Queued again.
  ASSERT_EQ(job->runnable(), 3);
  const absl::Time now = absl::FromUnixSeconds(500);
  job->dirty = false;
  const int32_t live = job->live_attempts;
  job->Finish(quarry::v1::JOB_STATE_CANCELLED, "by request", now);
  EXPECT_TRUE(job->finished);
  EXPECT_TRUE(job->dirty);
  EXPECT_EQ(job->runnable(), 0);
  EXPECT_EQ(job->job.state(), quarry::v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(job->job.error(), "by request");
  EXPECT_EQ(FromProtoTime(job->job.end_time()), now);
  EXPECT_EQ(FromProtoTime(job->job.start_time()), now);
  EXPECT_EQ(job->tasks[0].execution_status(), kDone);
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(job->tasks[i].execution_status(), kCancelled) << i;
  }
  // Live attempts end when reported (JobTable::EndAttempt), not here.
  EXPECT_EQ(job->live_attempts, live);
  ExpectCountsMatchTasks(*job);
}

quarry::v1::Task StoredTask(int32_t index, ExecutionStatus status,
                            int32_t attempts = 0,
                            const std::string& worker = "") {
  quarry::v1::Task task;
  task.set_index(index);
  task.set_status(status);
  task.set_attempts(attempts);
  if (attempts > 0) {
    task.set_attempt_id(FormatAttemptId(FormatJobId(3), index, attempts));
  }
  task.set_worker_id(worker);
  return task;
}

TEST(JobRuntimeTest, RestoreQueuesPendingAndListsLiveAttempts) {
  quarry::v1::Job job = JobRecord(3, 5);
  job.set_state(quarry::v1::JOB_STATE_RUNNING);
  job.mutable_task_counts()->set_pending(99);  // Stale: recomputed.
  std::vector<quarry::v1::Task> tasks = {
      StoredTask(0, kDone, 1, "w1"), StoredTask(1, kRunning, 2, "w2"),
      StoredTask(2, kPending, 1, "w1"), StoredTask(3, kAssigned, 1, "w1"),
      StoredTask(4, kPending)};
  tasks[2].set_error("lost once");
  tasks[4].set_is_reduce(true);
  std::vector<std::string> names = {"w0"};
  auto intern = [&names](const std::string& id) {
    for (size_t i = 0; i < names.size(); ++i) {
      if (names[i] == id) return static_cast<int32_t>(i);
    }
    names.push_back(id);
    return static_cast<int32_t>(names.size() - 1);
  };
  std::vector<RestoredAttempt> live;
  auto runtime = JobRuntime::Restore(job, tasks, intern, &live);

  EXPECT_EQ(runtime->sequence, 3);
  EXPECT_EQ(runtime->plan.map_count, 4);
  EXPECT_TRUE(runtime->plan.has_reduce);
  EXPECT_THAT(PopAll(*runtime), ElementsAre(2));  // Not the reduce yet.
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0].attempt_id, "job-000003.1.2");
  EXPECT_EQ(live[0].task_index, 1);
  EXPECT_EQ(live[0].attempt_number, 2);
  EXPECT_EQ(live[0].worker_id, "w2");
  EXPECT_EQ(live[1].attempt_id, "job-000003.3.1");
  EXPECT_EQ(live[1].worker_id, "w1");
  EXPECT_EQ(runtime->live_attempts, 2);
  EXPECT_EQ(runtime->maps_remaining, 3);
  EXPECT_EQ(names[runtime->tasks[1].worker], "w2");
  EXPECT_EQ(names[runtime->tasks[3].worker], "w1");
  EXPECT_EQ(runtime->tasks[1].attempts, 2);
  EXPECT_EQ(runtime->errors[2], "lost once");
  const quarry::v1::TaskCounts& counts = runtime->job.task_counts();
  EXPECT_EQ(counts.pending(), 2);
  EXPECT_EQ(counts.running(), 1);
  EXPECT_EQ(counts.assigned(), 1);
  EXPECT_EQ(counts.done(), 1);
  ExpectCountsMatchTasks(*runtime);
}

TEST(JobRuntimeTest, RestoreQueuesReduceWhenEveryMapIsDone) {
  std::vector<quarry::v1::Task> tasks = {StoredTask(0, kDone, 1, "w1"),
                                         StoredTask(1, kDone, 1, "w1"),
                                         StoredTask(2, kPending)};
  tasks[2].set_is_reduce(true);
  std::vector<RestoredAttempt> live;
  auto runtime = JobRuntime::Restore(
      JobRecord(3, 3), tasks, [](const std::string&) { return 0; }, &live);
  EXPECT_TRUE(live.empty());
  EXPECT_EQ(runtime->maps_remaining, 0);
  EXPECT_THAT(PopAll(*runtime), ElementsAre(2));
  EXPECT_EQ(runtime->job.task_counts().done(), 2);
  EXPECT_EQ(runtime->job.task_counts().pending(), 1);
}

}  // namespace
}  // namespace quarry

// Unit tests of the Dispatcher over real (plain) JobTable, WorkerPool and
// AttemptTable: where tasks go, the batches sent, queue places, and the
// per-step caps.
#include "leader/control/dispatcher.h"

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/ids.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixSeconds(1000);

// One assignment, as (job id, task index, place), to compare batches.
struct Placed {
  std::string job_id;
  int32_t task = 0;
  int32_t slot = 0;
  bool operator==(const Placed& other) const {
    return job_id == other.job_id && task == other.task && slot == other.slot;
  }
};

void PrintTo(const Placed& placed, std::ostream* os) {
  *os << placed.job_id << "/" << placed.task << "@" << placed.slot;
}

std::vector<Placed> Assignments(const StartBatch& batch) {
  std::vector<Placed> placed;
  for (const auto& assignment : batch.request.assignments()) {
    placed.push_back(
        {assignment.job_id(), assignment.task_index(), assignment.slot()});
  }
  return placed;
}

class DispatcherTest : public ::testing::Test {
 protected:
  JobRuntime& AddJob(int64_t sequence, int32_t maps,
                     const std::string& kind = "noop") {
    quarry::v1::Job job;
    job.set_id(FormatJobId(sequence));
    job.mutable_spec()->set_kind(kind);
    job.mutable_spec()->set_max_attempts(3);
    job.set_task_count(maps);
    job.mutable_task_counts()->set_pending(maps);
    TaskPlan plan;
    plan.map_count = maps;
    return jobs_.Add(std::make_unique<JobRuntime>(job, plan));
  }

  WorkerRuntime* AddWorker(const std::string& id, int slots, int queue = 0,
                           const std::vector<std::string>& kinds = {}) {
    quarry::v1::RegisterWorkerRequest request;
    request.set_worker_id(id);
    request.set_slots(slots);
    request.set_queue(queue);
    for (const std::string& kind : kinds) request.add_kinds(kind);
    return workers()
        .Register(WorkerRuntime::FromRegistration(request, nullptr, kT0), 0)
        .worker;
  }

  // Made at first use, so that a test may set options_ first.
  WorkerPool& workers() {
    if (workers_ == nullptr) workers_ = std::make_unique<WorkerPool>(options_);
    return *workers_;
  }

  bool Rebalance() {
    starts_.clear();
    return Dispatcher(options_).Rebalance(jobs_, workers(), attempts_, counts_,
                                          &starts_);
  }

  ControllerOptions options_;
  JobTable jobs_;
  std::unique_ptr<WorkerPool> workers_;
  AttemptTable attempts_;
  ControllerCounts counts_;
  std::vector<StartBatch> starts_;
};

TEST_F(DispatcherTest, SpreadsTasksOverIdleSlotsOneBatchPerWorker) {
  WorkerRuntime* a = AddWorker("a", 2);
  WorkerRuntime* b = AddWorker("b", 3);
  b->Occupy("other");  // Two idle slots left, in places 1 and 2.
  AddWorker("c", 1)->Occupy("busy");
  JobRuntime& job = AddJob(1, 5);

  EXPECT_FALSE(Rebalance());
  ASSERT_EQ(starts_.size(), 2u);
  EXPECT_EQ(starts_[0].request.worker_id(), "a");
  EXPECT_THAT(Assignments(starts_[0]), ElementsAre(Placed{"job-000001", 0, 0},
                                                   Placed{"job-000001", 2, 1}));
  EXPECT_EQ(starts_[1].request.worker_id(), "b");
  EXPECT_THAT(Assignments(starts_[1]), ElementsAre(Placed{"job-000001", 1, 1},
                                                   Placed{"job-000001", 3, 2}));
  const quarry::v1::Assignment& first = starts_[0].request.assignments(0);
  EXPECT_EQ(first.attempt_id(), "job-000001.0.1");
  EXPECT_EQ(first.attempt_number(), 1);
  EXPECT_EQ(first.kind(), "noop");

  // Each placement is recorded in the three owners of state.
  EXPECT_EQ(counts_.attempts_started, 4);
  EXPECT_EQ(attempts_.size(), 4u);
  const AttemptRef* ref = attempts_.Find("job-000001.3.1");
  ASSERT_NE(ref, nullptr);
  EXPECT_EQ(ref->worker_id, "b");
  EXPECT_EQ(ref->slot, 2);
  EXPECT_FALSE(ref->accepted);
  EXPECT_THAT(b->slot_attempts,
              ElementsAre("other", "job-000001.1.1", "job-000001.3.1"));
  EXPECT_EQ(a->free_slots, 0);
  EXPECT_EQ(job.tasks[3].execution_status(),
            quarry::v1::EXECUTION_STATUS_ASSIGNED);
  EXPECT_EQ(job.tasks[3].worker, b->name);
  EXPECT_EQ(job.job.task_counts().assigned(), 4);
  EXPECT_EQ(job.live_attempts, 4);
  EXPECT_EQ(job.runnable(), 1);

  // No room left: nothing more, and no work left that a step could place.
  EXPECT_FALSE(Rebalance());
  EXPECT_THAT(starts_, IsEmpty());
}

TEST_F(DispatcherTest, RetryAvoidsItsLastWorkerWhenAnotherHasRoom) {
  WorkerRuntime* a = AddWorker("a", 1);
  AddWorker("b", 1);
  JobRuntime& job = AddJob(1, 2);
  ASSERT_EQ(job.PopRunnable(), 0);
  job.StartAttempt(0, a->name);
  job.RecordUnsuccessful(0, "lost", true, 20);

  // The spread puts the first task (the retry) on a, its last worker.
  Rebalance();
  ASSERT_EQ(starts_.size(), 2u);
  EXPECT_EQ(starts_[0].request.worker_id(), "a");
  EXPECT_THAT(Assignments(starts_[0]), ElementsAre(Placed{"job-000001", 1, 0}));
  EXPECT_EQ(starts_[1].request.worker_id(), "b");
  EXPECT_THAT(Assignments(starts_[1]), ElementsAre(Placed{"job-000001", 0, 0}));
  EXPECT_EQ(starts_[1].request.assignments(0).attempt_id(), "job-000001.0.2");
}

TEST_F(DispatcherTest, RetryGoesToItsLastWorkerWhenNoOtherHasRoom) {
  WorkerRuntime* a = AddWorker("a", 1);
  AddWorker("b", 1)->Occupy("busy");
  JobRuntime& job = AddJob(1, 1);
  ASSERT_EQ(job.PopRunnable(), 0);
  job.StartAttempt(0, a->name);
  job.RecordUnsuccessful(0, "lost", true, 20);
  Rebalance();
  ASSERT_EQ(starts_.size(), 1u);
  EXPECT_EQ(starts_[0].request.worker_id(), "a");
}

TEST_F(DispatcherTest, QueuePlacesOnlyForJobsWithShortAttempts) {
  AddWorker("a", /*slots=*/1, /*queue=*/2);
  JobRuntime& slow = AddJob(1, 3);  // Never ran: typical_run infinite.
  JobRuntime& quick = AddJob(2, 3);
  quick.typical_run = absl::Milliseconds(10);

  Rebalance();
  ASSERT_EQ(starts_.size(), 1u);
  // The idle slot takes the oldest job's task; the queue places only the
  // short job's.
  EXPECT_THAT(Assignments(starts_[0]), ElementsAre(Placed{"job-000001", 0, 0},
                                                   Placed{"job-000002", 0, 1},
                                                   Placed{"job-000002", 1, 2}));
  EXPECT_EQ(slow.runnable(), 2);
  EXPECT_EQ(quick.runnable(), 1);
}

TEST_F(DispatcherTest, NoQueuePlacesForSlowJobs) {
  AddWorker("a", /*slots=*/1, /*queue=*/2);
  JobRuntime& job = AddJob(1, 3);
  job.typical_run = options_.queue_tasks_shorter_than;  // Not shorter.
  Rebalance();
  ASSERT_EQ(starts_.size(), 1u);
  EXPECT_THAT(Assignments(starts_[0]), ElementsAre(Placed{"job-000001", 0, 0}));
  EXPECT_EQ(job.runnable(), 2);
}

TEST_F(DispatcherTest, NoQueuePlacesWhenQueueingIsOff) {
  options_.queue_tasks_shorter_than = absl::ZeroDuration();
  AddWorker("a", /*slots=*/1, /*queue=*/2);
  AddJob(1, 3).typical_run = absl::Milliseconds(1);
  Rebalance();
  ASSERT_EQ(starts_.size(), 1u);
  EXPECT_EQ(starts_[0].request.assignments_size(), 1);
}

TEST_F(DispatcherTest, MaxStartsPerStepCapsAndLeavesWorkForNextStep) {
  options_.max_starts_per_step = 2;
  AddWorker("a", 4);
  JobRuntime& job = AddJob(1, 5);
  EXPECT_TRUE(Rebalance());
  ASSERT_EQ(starts_.size(), 1u);
  EXPECT_EQ(starts_[0].request.assignments_size(), 2);
  EXPECT_EQ(job.runnable(), 3);
  EXPECT_TRUE(Rebalance());
  EXPECT_EQ(starts_[0].request.assignments_size(), 2);
  // One task left, but no room: nothing for the next step to do.
  EXPECT_FALSE(Rebalance());
  EXPECT_THAT(starts_, IsEmpty());
  EXPECT_EQ(job.runnable(), 1);
  EXPECT_EQ(counts_.attempts_started, 4);
}

TEST_F(DispatcherTest, MaxWorkersPerStepLeavesWorkForNextStep) {
  options_.max_workers_per_step = 1;
  AddWorker("a", 1);
  AddWorker("b", 1);
  AddJob(1, 2);
  EXPECT_TRUE(Rebalance());
  ASSERT_EQ(starts_.size(), 1u);
  EXPECT_EQ(starts_[0].request.worker_id(), "a");
  EXPECT_FALSE(Rebalance());  // b alone is schedulable now.
  ASSERT_EQ(starts_.size(), 1u);
  EXPECT_EQ(starts_[0].request.worker_id(), "b");
}

TEST_F(DispatcherTest, TasksGoOnlyToWorkersThatRunTheirKind) {
  WorkerRuntime* plain = AddWorker("a-plain", 4);  // Built-in kinds only.
  WorkerRuntime* exec = AddWorker("b-exec", 2, 0, {"exec", "noop"});
  EXPECT_FALSE(plain->Offers("exec"));
  AddJob(1, 5, "exec");
  AddJob(2, 2, "noop");

  // The exec job fills the exec worker; the noop job takes the rest.
  EXPECT_FALSE(Rebalance());
  ASSERT_EQ(starts_.size(), 2u);
  EXPECT_EQ(starts_[0].request.worker_id(), "a-plain");
  EXPECT_THAT(Assignments(starts_[0]), ElementsAre(Placed{"job-000002", 0, 0},
                                                   Placed{"job-000002", 1, 1}));
  EXPECT_EQ(starts_[1].request.worker_id(), "b-exec");
  EXPECT_THAT(Assignments(starts_[1]), ElementsAre(Placed{"job-000001", 0, 0},
                                                   Placed{"job-000001", 1, 1}));
  EXPECT_EQ(exec->free_slots, 0);

  // Three exec tasks wait, but only workers that cannot run them have
  // room: nothing is placed and no step is asked for.
  EXPECT_FALSE(Rebalance());
  EXPECT_THAT(starts_, IsEmpty());
  EXPECT_EQ(plain->free_slots, 2);
}

TEST_F(DispatcherTest, AJobNoWorkerRunsDoesNotBusyLoopTheController) {
  options_.max_starts_per_step = 2;
  AddWorker("a", 4);
  AddJob(1, 10, "exec");  // No worker runs exec.
  EXPECT_FALSE(Rebalance());
  EXPECT_THAT(starts_, IsEmpty());
}

}  // namespace
}  // namespace quarry

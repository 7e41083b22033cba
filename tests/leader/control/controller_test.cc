// Unit tests of the controller loop, driven step by step with a FakeClock
// and fake workers (no threads, no sleeps, no network).
#include "leader/control/controller.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/leader/control/controller_fixture.h"

namespace quarry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::SizeIs;

TEST_F(ControllerTest, SubmittedJobWaitsPendingWithoutWorkers) {
  const std::string id = SubmitNoop(3);
  Step();
  EXPECT_EQ(StoredJob(id).state(), quarry::v1::JOB_STATE_PENDING);
  EXPECT_EQ(StoredJob(id).task_counts().pending(), 3);
}

TEST_F(ControllerTest, SpreadsTasksInOneBatchPerWorker) {
  Register("w1", 4);
  Register("w2", 4);
  const std::string id = SubmitNoop(6);
  Step();
  auto starts1 = clients_.worker("w1")->TakeStarts();
  auto starts2 = clients_.worker("w2")->TakeStarts();
  ASSERT_THAT(starts1, SizeIs(1));
  ASSERT_THAT(starts2, SizeIs(1));
  EXPECT_EQ(starts1[0].request.assignments_size(), 3);
  EXPECT_EQ(starts2[0].request.assignments_size(), 3);
  EXPECT_EQ(starts1[0].request.worker_id(), "w1");
  std::vector<int> slots;
  for (const auto& a : starts1[0].request.assignments())
    slots.push_back(a.slot());
  EXPECT_THAT(slots, ElementsAre(0, 1, 2));
  EXPECT_EQ(StoredJob(id).task_counts().assigned(), 6);
}

TEST_F(ControllerTest, CompletionFinishesJobAfterFinalizingOutput) {
  Register("w1", 4);
  const std::string id = SubmitNoop(2);
  Step();
  std::vector<std::string> attempts = AcceptStarts("w1");
  ASSERT_THAT(attempts, SizeIs(2));
  Step();
  EXPECT_EQ(StoredJob(id).state(), quarry::v1::JOB_STATE_RUNNING);
  EXPECT_EQ(StoredJob(id).task_counts().running(), 2);

  ASSERT_TRUE(Report("w1", attempts, quarry::v1::EXECUTION_STATUS_DONE).ok());
  Step();
  const quarry::v1::Job job = StoredJob(id);
  EXPECT_EQ(job.state(), quarry::v1::JOB_STATE_DONE);
  EXPECT_EQ(job.task_counts().done(), 2);
  EXPECT_TRUE(job.has_end_time());
  EXPECT_THAT(finalizer_.finalized, ElementsAre(id));
  // Output is tidied before anyone can see DONE.
  EXPECT_THAT(finalizer_.stored_state_then,
              ElementsAre(quarry::v1::JOB_STATE_RUNNING));
}

TEST_F(ControllerTest, WorkerWithNoFreeSlotGetsNothingUntilOneFrees) {
  Register("w1", 1);
  const std::string id = SubmitNoop(3);
  Step();
  std::vector<std::string> first = AcceptStarts("w1");
  ASSERT_THAT(first, SizeIs(1));
  Step();
  EXPECT_THAT(clients_.worker("w1")->TakeStarts(), SizeIs(0));
  EXPECT_EQ(StoredJob(id).task_counts().pending(), 2);

  ASSERT_TRUE(Report("w1", first, quarry::v1::EXECUTION_STATUS_DONE).ok());
  Step();
  auto next = clients_.worker("w1")->TakeStarts();
  ASSERT_THAT(next, SizeIs(1));
  EXPECT_EQ(next[0].request.assignments(0).task_index(), 1);
  EXPECT_EQ(next[0].request.assignments(0).slot(), 0);
}

TEST_F(ControllerTest, SilentWorkerDoesNotStallLoopAndItsTasksMove) {
  Register("slow", 2);
  Register("good", 2);
  const std::string id = SubmitNoop(4);
  Step();
  // "slow" never answers anything; "good" works.
  std::vector<std::string> good = AcceptStarts("good");
  ASSERT_THAT(good, SizeIs(2));
  ASSERT_TRUE(Report("good", good, quarry::v1::EXECUTION_STATUS_DONE).ok());
  Step();
  EXPECT_EQ(StoredJob(id).task_counts().done(), 2);

  clock_.Advance(absl::Seconds(3));
  KeepAlive("good");
  Step();
  auto cluster = store_.ListWorkers();
  ASSERT_TRUE(cluster.ok());
  EXPECT_EQ((*cluster)[1].id(), "slow");
  EXPECT_EQ((*cluster)[1].status(), quarry::v1::WORKER_STATUS_SUSPECT);

  clock_.Advance(absl::Seconds(3));
  KeepAlive("good");
  Step();  // "slow" is DEAD: its two attempts are LOST and re-queued.
  EXPECT_EQ((*store_.ListWorkers())[1].status(),
            quarry::v1::WORKER_STATUS_DEAD);
  std::vector<std::string> moved = AcceptStarts("good");
  ASSERT_THAT(moved, SizeIs(2));
  for (const std::string& attempt : moved)
    EXPECT_THAT(attempt, HasSubstr(".2"));
  ASSERT_TRUE(Report("good", moved, quarry::v1::EXECUTION_STATUS_DONE).ok());
  Step();
  EXPECT_EQ(StoredJob(id).state(), quarry::v1::JOB_STATE_DONE);
}

TEST_F(ControllerTest, TaskFailingEveryAttemptFailsJobWithReason) {
  Register("w1", 1);
  const std::string id = SubmitNoop(1, /*max_attempts=*/2);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    Step();
    std::vector<std::string> ids = AcceptStarts("w1");
    ASSERT_THAT(ids, SizeIs(1));
    EXPECT_EQ(ids[0], absl::StrCat(id, ".0.", attempt));
    ASSERT_TRUE(
        Report("w1", ids, quarry::v1::EXECUTION_STATUS_FAILED, "disk on fire")
            .ok());
  }
  Step();
  const quarry::v1::Job job = StoredJob(id);
  EXPECT_EQ(job.state(), quarry::v1::JOB_STATE_FAILED);
  EXPECT_THAT(job.error(), HasSubstr("task 0"));
  EXPECT_THAT(job.error(), HasSubstr("disk on fire"));
  EXPECT_EQ(StoredTasks(id)[0].status(), quarry::v1::EXECUTION_STATUS_FAILED);
}

TEST_F(ControllerTest, LateDoneFromSupersededAttemptIsIgnored) {
  Register("w1", 1);
  Register("w2", 1);
  const std::string id = SubmitNoop(1);
  Step();
  std::vector<std::string> first = AcceptStarts("w1");
  first = first.empty() ? AcceptStarts("w2") : first;
  ASSERT_THAT(first, SizeIs(1));
  // The first attempt fails on its worker; a retry starts.
  const std::string worker = StoredTasks(id)[0].worker_id();
  ASSERT_TRUE(
      Report(worker, first, quarry::v1::EXECUTION_STATUS_FAILED, "x").ok());
  Step();
  const std::string retry_worker = StoredTasks(id)[0].worker_id();
  std::vector<std::string> second = AcceptStarts(retry_worker);
  ASSERT_THAT(second, SizeIs(1));
  ASSERT_NE(first[0], second[0]);
  // A DONE for the superseded attempt changes nothing.
  ASSERT_TRUE(Report(worker, first, quarry::v1::EXECUTION_STATUS_DONE).ok());
  Step();
  EXPECT_EQ(StoredJob(id).state(), quarry::v1::JOB_STATE_RUNNING);
  EXPECT_EQ(StoredTasks(id)[0].attempt_id(), second[0]);
}

TEST_F(ControllerTest, MisroutedWorkerGetsNoWorkAndTaskIsNotCharged) {
  Register("wrong", 1);
  const std::string id = SubmitNoop(1, /*max_attempts=*/1);
  Step();
  for (FakeWorker::StartCall& call : clients_.worker("wrong")->TakeStarts()) {
    call.done(absl::FailedPreconditionError(
        "request meant for worker \"wrong\" reached worker \"other\""));
  }
  Register("right", 1);
  Step();
  EXPECT_THAT(clients_.worker("wrong")->TakeStarts(), SizeIs(0));
  std::vector<std::string> ids = AcceptStarts("right");
  ASSERT_THAT(ids, SizeIs(1));
  ASSERT_TRUE(Report("right", ids, quarry::v1::EXECUTION_STATUS_DONE).ok());
  Step();
  EXPECT_EQ(StoredJob(id).state(), quarry::v1::JOB_STATE_DONE);
}

TEST_F(ControllerTest, RejectedAssignmentIsRequeued) {
  Register("w1", 1);
  const std::string id = SubmitNoop(1);
  Step();
  auto calls = clients_.worker("w1")->TakeStarts();
  ASSERT_THAT(calls, SizeIs(1));
  quarry::v1::StartTasksResponse response;
  auto* rejected = response.add_rejected();
  rejected->set_attempt_id(calls[0].request.assignments(0).attempt_id());
  rejected->set_reason("slot 0 is busy");
  calls[0].done(response);
  Step();
  auto retry = clients_.worker("w1")->TakeStarts();
  ASSERT_THAT(retry, SizeIs(1));
  EXPECT_EQ(retry[0].request.assignments(0).attempt_number(), 2);
  EXPECT_EQ(StoredJob(id).state(), quarry::v1::JOB_STATE_PENDING);
}

TEST_F(ControllerTest, CancelStopsRunningAttempts) {
  Register("w1", 2);
  const std::string id = SubmitNoop(5);
  Step();
  std::vector<std::string> running = AcceptStarts("w1");
  ASSERT_THAT(running, SizeIs(2));
  ASSERT_TRUE(controller_->RequestCancel(id).ok());
  Step();
  EXPECT_EQ(StoredJob(id).state(), quarry::v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(StoredJob(id).task_counts().cancelled(), 5);
  auto cancels = clients_.worker("w1")->TakeCancels();
  ASSERT_THAT(cancels, SizeIs(1));
  EXPECT_THAT(cancels[0].request.attempt_ids(), SizeIs(2));
  EXPECT_THAT(finalizer_.finalized, SizeIs(0));  // Attempts still run.
  ASSERT_TRUE(
      Report("w1", running, quarry::v1::EXECUTION_STATUS_CANCELLED).ok());
  Step();
  EXPECT_THAT(finalizer_.finalized, ElementsAre(id));
  EXPECT_FALSE(controller_->RequestCancel(id).ok());
}

TEST_F(ControllerTest, WorkerRegisteringAgainLosesWhatItRan) {
  Register("w1", 1);
  const std::string id = SubmitNoop(1);
  Step();
  std::vector<std::string> before = AcceptStarts("w1");
  ASSERT_THAT(before, SizeIs(1));
  Register("w1", 1);  // Restarted with the same id.
  Step();
  std::vector<std::string> after = AcceptStarts("w1");
  ASSERT_THAT(after, SizeIs(1));
  EXPECT_NE(before[0], after[0]);
  // The old attempt's DONE is never taken.
  ASSERT_TRUE(Report("w1", before, quarry::v1::EXECUTION_STATUS_DONE).ok());
  Step();
  EXPECT_EQ(StoredJob(id).state(), quarry::v1::JOB_STATE_RUNNING);
  EXPECT_THAT(StoredTasks(id)[0].error(), HasSubstr("restarted"));
}

TEST_F(ControllerTest, ProbeReconcilesForgottenAttemptAsLost) {
  Register("w1", 1);
  const std::string id = SubmitNoop(1);
  Step();
  std::vector<std::string> ids = AcceptStarts("w1");
  Step();
  // A probe sent before the worker confirmed the attempt proves nothing.
  quarry::v1::GetWorkerStateResponse empty;  // Knows no attempt.
  clients_.worker("w1")->AnswerProbes(empty);
  Step();
  EXPECT_EQ(StoredTasks(id)[0].attempts(), 1);
  clock_.Advance(absl::Milliseconds(200));
  Step();  // Sends a new probe.
  clients_.worker("w1")->AnswerProbes(empty);
  Step();
  EXPECT_EQ(StoredTasks(id)[0].attempts(), 2);
  EXPECT_THAT(StoredTasks(id)[0].error(), HasSubstr("no longer knows"));
}

TEST_F(ControllerTest, OutputDirIsHeldUntilItsJobEnds) {
  ASSERT_TRUE(controller_->ReserveOutputDir("/data/out", "job-000001").ok());
  absl::Status taken = controller_->ReserveOutputDir("/data/out", "job-000002");
  EXPECT_EQ(taken.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(taken.message(), HasSubstr("job-000001"));
  controller_->ReleaseOutputDir("/data/out");
  EXPECT_TRUE(controller_->ReserveOutputDir("/data/out", "job-000002").ok());
}

// Records commands sent down a worker's ConnectWorker stream.
class FakeLink : public WorkerLink {
 public:
  void SendDrain() override { ++drains; }
  void Close() override { ++closes; }
  int drains = 0;
  int closes = 0;
};

TEST_F(ControllerTest, BrokenConnectionMakesWorkerDeadAtOnce) {
  Register("w1", 2);
  Register("w2", 2);
  auto link = std::make_shared<FakeLink>();
  absl::StatusOr<int64_t> connection =
      controller_->OnWorkerConnected("w1", link);
  ASSERT_TRUE(connection.ok());
  EXPECT_FALSE(controller_->OnWorkerConnected("ghost", link).ok());
  const std::string id = SubmitNoop(4);
  Step();
  std::vector<std::string> on_w1 = AcceptStarts("w1");
  AcceptStarts("w2");
  ASSERT_THAT(on_w1, SizeIs(2));
  Step();
  // A stale connection id (an older stream) changes nothing.
  controller_->OnWorkerDisconnected("w1", *connection + 100);
  Step();
  EXPECT_EQ((*store_.ListWorkers())[0].status(),
            quarry::v1::WORKER_STATUS_ALIVE);

  controller_->OnWorkerDisconnected("w1", *connection);
  Step();  // No clock advance: detection does not wait for a timeout.
  EXPECT_EQ((*store_.ListWorkers())[0].status(),
            quarry::v1::WORKER_STATUS_DEAD);
  EXPECT_THAT((*store_.ListWorkers())[0].slot_states(0).attempt_id(),
              ::testing::IsEmpty());
  int pending = 0;
  for (const auto& task : StoredTasks(id)) {
    pending += task.status() == quarry::v1::EXECUTION_STATUS_PENDING;
    if (task.status() == quarry::v1::EXECUTION_STATUS_RUNNING) {
      EXPECT_EQ(task.worker_id(), "w2");
    }
  }
  EXPECT_EQ(pending, 2);  // w2 is full: they wait for a slot.
  // The late DONE of a lost attempt is ignored; its commit is refused.
  EXPECT_FALSE(controller_->OnCommitRequest("w1", on_w1[0]).granted());
}

TEST_F(ControllerTest, CommitIsGrantedToTheCurrentAttemptOnly) {
  Register("w1", 1);
  Register("w2", 1);
  const std::string id = SubmitNoop(1);
  Step();
  std::vector<std::string> first = AcceptStarts("w1");
  if (first.empty()) first = AcceptStarts("w2");
  const std::string worker = StoredTasks(id)[0].worker_id();
  const std::string other = worker == "w1" ? "w2" : "w1";
  EXPECT_TRUE(controller_->OnCommitRequest(worker, first[0]).granted());
  EXPECT_TRUE(
      controller_->OnCommitRequest(worker, first[0]).granted());  // Retry.
  auto wrong = controller_->OnCommitRequest(other, first[0]);
  EXPECT_FALSE(wrong.granted());
  EXPECT_THAT(wrong.reason(), HasSubstr("runs on worker"));
  ASSERT_TRUE(Report(worker, first, quarry::v1::EXECUTION_STATUS_DONE).ok());
  Step();
  EXPECT_FALSE(controller_->OnCommitRequest(worker, first[0]).granted());
}

TEST_F(ControllerTest, RetryGoesToAnotherWorker) {
  Register("w1", 4);
  Register("w2", 4);
  const std::string id = SubmitNoop(1);
  Step();
  std::vector<std::string> first = AcceptStarts("w1");
  if (first.empty()) first = AcceptStarts("w2");
  const std::string worker = StoredTasks(id)[0].worker_id();
  ASSERT_TRUE(
      Report(worker, first, quarry::v1::EXECUTION_STATUS_FAILED, "x").ok());
  Step();
  EXPECT_NE(StoredTasks(id)[0].worker_id(), worker);
  EXPECT_EQ(StoredTasks(id)[0].attempts(), 2);
}

TEST_F(ControllerTest, TaskTimeoutCancelsAndRetries) {
  Register("w1", 1);
  quarry::v1::JobSpec spec;
  spec.set_kind("noop");
  (*spec.mutable_settings())["tasks"] = "1";
  spec.mutable_task_timeout()->set_seconds(3);
  const std::string id = manager_->Submit(spec)->job_id();
  Step();
  std::vector<std::string> first = AcceptStarts("w1");
  Step();
  clock_.Advance(absl::Seconds(2));
  KeepAlive("w1");
  Step();
  EXPECT_THAT(clients_.worker("w1")->TakeCancels(), SizeIs(0));
  clock_.Advance(absl::Seconds(2));
  KeepAlive("w1");
  Step();
  auto cancels = clients_.worker("w1")->TakeCancels();
  ASSERT_THAT(cancels, SizeIs(1));
  EXPECT_EQ(cancels[0].request.attempt_ids(0), first[0]);
  EXPECT_THAT(StoredTasks(id)[0].error(), HasSubstr("timed out after 3s"));
  // The slot stays held until the worker confirms the cancel.
  EXPECT_THAT(clients_.worker("w1")->TakeStarts(), SizeIs(0));
  ASSERT_TRUE(Report("w1", first, quarry::v1::EXECUTION_STATUS_CANCELLED).ok());
  Step();
  auto retry = clients_.worker("w1")->TakeStarts();
  ASSERT_THAT(retry, SizeIs(1));
  EXPECT_EQ(retry[0].request.assignments(0).attempt_number(), 2);
}

TEST_F(ControllerTest, DrainingWorkerGetsNoWorkThenLeaves) {
  Register("w1", 2);
  EXPECT_EQ(controller_->RequestDrain("w1").status().code(),
            absl::StatusCode::kFailedPrecondition);  // Not connected yet.
  auto link = std::make_shared<FakeLink>();
  ASSERT_TRUE(controller_->OnWorkerConnected("w1", link).ok());
  const std::string id = SubmitNoop(3);
  Step();
  std::vector<std::string> running = AcceptStarts("w1");
  ASSERT_THAT(running, SizeIs(2));
  auto drained = controller_->RequestDrain("w1");
  ASSERT_TRUE(drained.ok());
  EXPECT_EQ(drained->status(), quarry::v1::WORKER_STATUS_DRAINING);
  EXPECT_EQ(link->drains, 1);
  ASSERT_TRUE(Report("w1", running, quarry::v1::EXECUTION_STATUS_DONE).ok());
  Step();
  EXPECT_THAT(clients_.worker("w1")->TakeStarts(), SizeIs(0));
  EXPECT_EQ((*store_.ListWorkers())[0].status(),
            quarry::v1::WORKER_STATUS_DRAINING);
  ASSERT_TRUE(controller_->OnDeregisterWorker("w1").ok());
  Step();
  EXPECT_THAT(*store_.ListWorkers(), SizeIs(0));
  EXPECT_EQ(link->closes, 1);
  EXPECT_EQ(StoredJob(id).task_counts().pending(), 1);
}

TEST_F(ControllerTest, ReportFromUnknownWorkerIsNotFound) {
  EXPECT_EQ(Report("ghost", {}, quarry::v1::EXECUTION_STATUS_DONE).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(ControllerTest, StatsFollowJobsTasksSlotsAndAttempts) {
  Register("w1", 2);
  Register("w2", 1);
  const std::string id = SubmitNoop(4, /*max_attempts=*/2);
  Step();  // 3 tasks assigned, 1 waits.
  ControllerStats stats = controller_->Stats();
  EXPECT_EQ(stats.jobs[quarry::v1::JOB_STATE_PENDING], 1);
  EXPECT_EQ(stats.tasks[quarry::v1::EXECUTION_STATUS_ASSIGNED], 3);
  EXPECT_EQ(stats.tasks[quarry::v1::EXECUTION_STATUS_PENDING], 1);
  EXPECT_EQ(stats.queue_depth, 1);
  EXPECT_EQ(stats.slots, 3);
  EXPECT_EQ(stats.busy_slots, 3);
  EXPECT_EQ(stats.workers[quarry::v1::WORKER_STATUS_ALIVE], 2);
  EXPECT_EQ(stats.counts.jobs_submitted, 1);
  EXPECT_EQ(stats.counts.attempts_started, 3);

  std::vector<std::string> w1 = AcceptStarts("w1");
  AcceptStarts("w2");
  Step();
  ASSERT_TRUE(
      Report("w1", {w1[0]}, quarry::v1::EXECUTION_STATUS_FAILED, "x").ok());
  ASSERT_TRUE(Report("w1", {w1[1]}, quarry::v1::EXECUTION_STATUS_DONE).ok());
  clock_.Advance(absl::Milliseconds(300));
  KeepAlive("w1");
  Step();  // The failed task and the waiting one take w1's two slots.
  stats = controller_->Stats();
  EXPECT_EQ(stats.jobs[quarry::v1::JOB_STATE_RUNNING], 1);
  EXPECT_EQ(stats.tasks[quarry::v1::EXECUTION_STATUS_DONE], 1);
  EXPECT_EQ(stats.tasks[quarry::v1::EXECUTION_STATUS_RUNNING], 1);
  EXPECT_EQ(stats.tasks[quarry::v1::EXECUTION_STATUS_ASSIGNED], 2);
  EXPECT_EQ(stats.queue_depth, 0);
  EXPECT_EQ(stats.counts.attempts_started, 5);
  EXPECT_EQ(stats.counts.attempts_failed, 1);
  EXPECT_EQ(stats.counts.attempts_retried, 1);
  EXPECT_EQ(stats.heartbeat_age["w1"], absl::ZeroDuration());
  EXPECT_EQ(stats.heartbeat_age["w2"], absl::Milliseconds(300));

  ASSERT_TRUE(controller_->RequestCancel(id).ok());
  Step();
  stats = controller_->Stats();
  EXPECT_EQ(stats.jobs[quarry::v1::JOB_STATE_RUNNING], 0);
  EXPECT_EQ(stats.tasks[quarry::v1::EXECUTION_STATUS_CANCELLED], 0);  // Gone.
  EXPECT_EQ(stats.counts.jobs_finished[quarry::v1::JOB_STATE_CANCELLED], 1);
}

TEST_F(ControllerTest, AJobWaitsWithAReasonUntilAWorkerRunsItsKind) {
  Register("w-plain", 2);  // Reports no kinds: the built-in ones.
  quarry::v1::JobSpec spec;
  spec.set_kind("exec");
  spec.add_command("true");
  (*spec.mutable_settings())["tasks"] = "3";
  auto submitted = manager_->Submit(spec);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  const std::string id = submitted->job_id();
  Step();
  EXPECT_TRUE(clients_.worker("w-plain")->TakeStarts().empty());
  EXPECT_EQ(StoredJob(id).state(), quarry::v1::JOB_STATE_PENDING);
  EXPECT_EQ(StoredJob(id).waiting_reason(),
            "waiting: no ALIVE worker offers kind exec");

  quarry::v1::RegisterWorkerRequest request;
  request.set_worker_id("w-exec");
  request.set_address("127.0.0.1:2");
  request.set_slots(4);
  request.add_kinds("exec");
  ASSERT_TRUE(controller_->OnRegisterWorker(request).ok());
  Step();
  EXPECT_EQ(AcceptStarts("w-exec").size(), 3u);
  EXPECT_TRUE(clients_.worker("w-plain")->TakeStarts().empty());
  EXPECT_EQ(StoredJob(id).waiting_reason(), "");
}

}  // namespace
}  // namespace quarry

// A leader restart, step by step: the new controller restores its jobs from
// the store, adopts the attempts workers still run (never running them
// again), and re-queues what no worker reports. Also: a store outage pauses
// dispatch and loses no write.
#include <map>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/leader/control/controller_fixture.h"

namespace quarry {
namespace {

using ::testing::IsEmpty;
using ::testing::SizeIs;
using ::testing::UnorderedElementsAreArray;

class ControllerRestoreTest : public ControllerTest {
 protected:
  // Registers `id` reporting `attempts` (attempt id → slot) with `status`.
  void RegisterReporting(const std::string& id, int slots,
                         const std::map<std::string, int>& attempts,
                         quarry::v1::ExecutionStatus status =
                             quarry::v1::EXECUTION_STATUS_RUNNING) {
    quarry::v1::RegisterWorkerRequest request;
    request.set_worker_id(id);
    request.set_address("127.0.0.1:1");
    request.set_slots(slots);
    for (const auto& [attempt_id, slot] : attempts) {
      quarry::v1::AttemptStatus* attempt = request.add_attempts();
      attempt->set_attempt_id(attempt_id);
      attempt->set_slot(slot);
      attempt->set_status(status);
    }
    ASSERT_TRUE(controller_->OnRegisterWorker(request).ok());
  }

  // Every StartTasks sent to the worker since the last call, accepted;
  // attempt id → slot.
  std::map<std::string, int> AcceptWithSlots(const std::string& worker_id) {
    std::map<std::string, int> started;
    for (FakeWorker::StartCall& call : clients_.worker(worker_id)->TakeStarts()) {
      for (const auto& assignment : call.request.assignments()) {
        started[assignment.attempt_id()] = assignment.slot();
      }
      FakeWorker::AcceptAll(call);
    }
    return started;
  }

  // The crash: a new controller over the same store, restored.
  void RestartLeader() {
    StartLeader();
    ASSERT_TRUE(controller_->Restore(clock_.Now()).ok());
  }

  std::vector<std::string> AttemptIds(const std::string& job_id) {
    std::vector<std::string> ids;
    for (const auto& task : StoredTasks(job_id)) ids.push_back(task.attempt_id());
    return ids;
  }
};

TEST_F(ControllerRestoreTest, RunningAttemptsAreAdoptedNotRunAgain) {
  Register("w1", 2);
  Register("w2", 2);
  const std::string id = SubmitNoop(6);
  Step();
  std::map<std::string, int> on_w1 = AcceptWithSlots("w1");
  std::map<std::string, int> on_w2 = AcceptWithSlots("w2");
  ASSERT_THAT(on_w1, SizeIs(2));
  ASSERT_THAT(on_w2, SizeIs(2));
  Step();
  ASSERT_EQ(StoredJob(id).task_counts().running(), 4);

  RestartLeader();
  // Before the workers are back, the store still shows the job running,
  // and a finished attempt may already commit.
  EXPECT_TRUE(controller_->OnCommitRequest("w1", on_w1.begin()->first).granted());
  RegisterReporting("w1", 2, on_w1);
  RegisterReporting("w2", 2, on_w2);
  Step();
  // Nothing that runs is started again: only the 2 tasks never started
  // wait for a slot, and every slot is busy.
  EXPECT_THAT(clients_.worker("w1")->TakeStarts(), IsEmpty());
  EXPECT_THAT(clients_.worker("w2")->TakeStarts(), IsEmpty());
  EXPECT_EQ(StoredJob(id).task_counts().running(), 4);
  EXPECT_EQ(StoredJob(id).task_counts().pending(), 2);

  std::vector<std::string> all;
  for (const auto& [attempt, slot] : on_w1) all.push_back(attempt);
  for (const auto& [attempt, slot] : on_w2) all.push_back(attempt);
  ASSERT_TRUE(Report("w1", {all[0], all[1]}, quarry::v1::EXECUTION_STATUS_DONE).ok());
  ASSERT_TRUE(Report("w2", {all[2], all[3]}, quarry::v1::EXECUTION_STATUS_DONE).ok());
  Step();
  std::vector<std::string> rest;
  for (const std::string& worker : {"w1", "w2"}) {
    for (const auto& [attempt, slot] : AcceptWithSlots(worker)) {
      rest.push_back(attempt);
      ASSERT_TRUE(Report(worker, {attempt}, quarry::v1::EXECUTION_STATUS_DONE).ok());
    }
  }
  ASSERT_THAT(rest, SizeIs(2));
  Step();
  Step();
  const quarry::v1::Job job = StoredJob(id);
  EXPECT_EQ(job.state(), quarry::v1::JOB_STATE_DONE);
  EXPECT_EQ(job.attempts_started(), 6);  // Each task ran exactly once.
  for (const auto& task : StoredTasks(id)) EXPECT_EQ(task.attempts(), 1);
}

TEST_F(ControllerRestoreTest, AttemptsAWorkerDoesNotReportAreRunAgain) {
  Register("w1", 2);
  const std::string id = SubmitNoop(2);
  Step();
  std::map<std::string, int> started = AcceptWithSlots("w1");
  Step();
  RestartLeader();
  // The worker knows only one of the two (the other StartTasks was lost
  // with the old leader, say).
  const std::string kept = started.begin()->first;
  const std::string lost = std::next(started.begin())->first;
  RegisterReporting("w1", 2, {{kept, started[kept]}});
  Step();
  std::map<std::string, int> again = AcceptWithSlots("w1");
  ASSERT_THAT(again, SizeIs(1));
  EXPECT_NE(again.begin()->first, lost);
  EXPECT_NE(again.begin()->first, kept);
  EXPECT_EQ(again.begin()->second, 1 - started[kept]);  // The free slot.
  // The commit of the lost attempt is refused: it is no longer current.
  EXPECT_FALSE(controller_->OnCommitRequest("w1", lost).granted());
}

TEST_F(ControllerRestoreTest, FinishedButUnstoredAttemptIsNotRunAgain) {
  Register("w1", 1);
  const std::string id = SubmitNoop(1);
  Step();
  std::map<std::string, int> started = AcceptWithSlots("w1");
  Step();
  // The old leader got DONE but died before storing it.
  ASSERT_TRUE(Report("w1", {started.begin()->first},
                     quarry::v1::EXECUTION_STATUS_DONE)
                  .ok());
  RestartLeader();
  ASSERT_EQ(StoredTasks(id)[0].status(), quarry::v1::EXECUTION_STATUS_RUNNING);
  RegisterReporting("w1", 1, started, quarry::v1::EXECUTION_STATUS_DONE);
  Step();
  Step();
  EXPECT_THAT(clients_.worker("w1")->TakeStarts(), IsEmpty());
  EXPECT_EQ(StoredJob(id).state(), quarry::v1::JOB_STATE_DONE);
  EXPECT_EQ(StoredJob(id).attempts_started(), 1);
}

TEST_F(ControllerRestoreTest, AttemptsOfAWorkerThatNeverReturnsAreRequeued) {
  ControllerOptions options = TestOptions();
  options.adopt_within = absl::Seconds(3);
  Register("w1", 1);
  Register("w2", 1);
  const std::string id = SubmitNoop(2);
  Step();
  std::map<std::string, int> on_w1 = AcceptWithSlots("w1");
  AcceptWithSlots("w2");
  Step();
  StartLeader(options);
  ASSERT_TRUE(controller_->Restore(clock_.Now()).ok());
  RegisterReporting("w1", 1, on_w1);
  Step();
  clock_.Advance(absl::Seconds(2));
  KeepAlive("w1");
  Step();
  EXPECT_EQ(StoredJob(id).task_counts().running(), 2);  // Still waiting.
  clock_.Advance(absl::Seconds(2));
  KeepAlive("w1");
  Step();
  // w2's attempt is LOST, without counting as a failure of the task, and
  // waits for a slot (w1's only slot is busy).
  std::vector<quarry::v1::Task> tasks = StoredTasks(id);
  int pending = 0;
  for (const auto& task : tasks) {
    if (task.status() != quarry::v1::EXECUTION_STATUS_PENDING) continue;
    ++pending;
    EXPECT_EQ(task.failed_attempts(), 0);
    EXPECT_THAT(task.error(), ::testing::HasSubstr("did not come back"));
  }
  EXPECT_EQ(pending, 1);
}

TEST_F(ControllerRestoreTest, RestoreSkipsFinishedJobsAndKeepsOutputDirs) {
  Register("w1", 1);
  const std::string done = SubmitNoop(1);
  Step();
  for (const auto& [attempt, slot] : AcceptWithSlots("w1")) {
    ASSERT_TRUE(Report("w1", {attempt}, quarry::v1::EXECUTION_STATUS_DONE).ok());
  }
  Step();
  Step();
  ASSERT_EQ(StoredJob(done).state(), quarry::v1::JOB_STATE_DONE);
  quarry::v1::JobSpec spec;
  spec.set_kind("noop");
  (*spec.mutable_settings())["tasks"] = "1";
  spec.set_output_dir(::testing::TempDir() + "quarry-restore-test-out");
  auto pending = manager_->Submit(spec);
  ASSERT_TRUE(pending.ok()) << pending.status();
  RestartLeader();
  // The unfinished job still holds its output directory.
  EXPECT_EQ(controller_->ReserveOutputDir(spec.output_dir(), "x")
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(controller_->RequestCancel(done).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(controller_->RequestCancel(pending->job_id()).ok());
}

TEST_F(ControllerRestoreTest, StoreOutagePausesDispatchAndLosesNoWrite) {
  Register("w1", 1);
  const std::string id = SubmitNoop(2);
  Step();
  std::map<std::string, int> first = AcceptWithSlots("w1");
  Step();
  faulty_store_.SetDown(true);
  ASSERT_TRUE(Report("w1", {first.begin()->first},
                     quarry::v1::EXECUTION_STATUS_DONE)
                  .ok());
  Step();
  Step();
  // The DONE could not be stored: nothing new starts meanwhile.
  EXPECT_THAT(clients_.worker("w1")->TakeStarts(), IsEmpty());
  EXPECT_EQ(store_.GetJob(id)->task_counts().done(), 0);
  EXPECT_EQ(manager_->Submit(quarry::v1::JobSpec()).status().code(),
            absl::StatusCode::kInvalidArgument);  // Validation comes first.

  faulty_store_.SetDown(false);
  Step();
  EXPECT_EQ(StoredJob(id).task_counts().done(), 1);
  Step();
  EXPECT_THAT(AcceptWithSlots("w1"), SizeIs(1));  // Dispatch resumed.
}

TEST_F(ControllerRestoreTest, RestoreFailsCleanlyWhileTheStoreIsDown) {
  const std::string id = SubmitNoop(1);
  faulty_store_.SetDown(true);
  StartLeader();
  EXPECT_EQ(controller_->Restore(clock_.Now()).code(),
            absl::StatusCode::kUnavailable);
  faulty_store_.SetDown(false);
  ASSERT_TRUE(controller_->Restore(clock_.Now()).ok());
  Register("w1", 1);
  Step();
  EXPECT_THAT(AcceptWithSlots("w1"), SizeIs(1));
}

}  // namespace
}  // namespace quarry

#include "worker/slot_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "tests/testing/fake_clock.h"
#include "tests/worker/test_util.h"
#include "worker/kinds/kind_registry.h"

namespace quarry::worker {
namespace {

using quarry::v1::AttemptStatus;
using quarry::v1::EXECUTION_STATUS_ASSIGNED;
using quarry::v1::EXECUTION_STATUS_CANCELLED;
using quarry::v1::EXECUTION_STATUS_DONE;
using quarry::v1::EXECUTION_STATUS_FAILED;
using quarry::v1::EXECUTION_STATUS_PENDING;
using quarry::v1::EXECUTION_STATUS_RUNNING;
using testing::CompletionCollector;
using ::testing::ElementsAre;
using testing::FileExists;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ListDir;
using testing::MakeAssignment;
using testing::TempDir;

constexpr absl::string_view kHour = "3600000";

class SlotExecutorTest : public ::testing::Test {
 protected:
  void MakeExecutor(int slots, SlotExecutor::Options options = {},
                    SlotExecutor::CommitRequester ask_commit = nullptr) {
    options.slots = slots;
    executor_ = std::make_unique<SlotExecutor>(
        options, kinds_.get(), &clock_,
        [this](const AttemptStatus& status) {
          if (hook_) hook_(status);
          completions_.Add(status);
        },
        std::move(ask_commit));
  }

  std::optional<AttemptStatus> Find(const SlotExecutor::State& state,
                                    absl::string_view id) {
    for (const AttemptStatus& status : state.attempts) {
      if (status.attempt_id() == id) return status;
    }
    return std::nullopt;
  }

  quarry::v1::Assignment Sleep(absl::string_view id, int slot,
                               absl::string_view ms = kHour,
                               absl::string_view output = "") {
    return MakeAssignment(id, "sleep", {}, output, {{"ms", std::string(ms)}},
                          slot);
  }

  std::unique_ptr<KindRegistry> kinds_ = NewBuiltInKindRegistry();
  quarry::testing::FakeClock clock_;
  CompletionCollector completions_;
  // Runs on the slot thread before the completion is collected.
  std::function<void(const AttemptStatus&)> hook_;
  std::unique_ptr<SlotExecutor> executor_;  // Last: destroyed first.
};

TEST_F(SlotExecutorTest, RunsAnAttemptAndRemembersIt) {
  MakeExecutor(2);
  quarry::v1::Assignment noop = MakeAssignment("job-000001.4.1", "noop");
  noop.set_task_index(4);
  noop.set_slot(1);
  ASSERT_TRUE(executor_->Start(noop).ok());
  const AttemptStatus done = completions_.WaitFor("job-000001.4.1");
  EXPECT_EQ(done.status(), EXECUTION_STATUS_DONE) << done.error();
  EXPECT_EQ(done.job_id(), "job-000001");
  EXPECT_EQ(done.task_index(), 4);
  EXPECT_EQ(done.slot(), 1);
  EXPECT_TRUE(done.has_start_time());
  EXPECT_TRUE(done.has_end_time());

  const SlotExecutor::State state = executor_->Snapshot();
  ASSERT_EQ(state.slots.size(), 2u);
  EXPECT_EQ(state.slots[1].status(), EXECUTION_STATUS_PENDING);
  EXPECT_EQ(state.slots[1].attempt_id(), "");
  std::optional<AttemptStatus> known = Find(state, "job-000001.4.1");
  ASSERT_TRUE(known.has_value());
  EXPECT_EQ(known->status(), EXECUTION_STATUS_DONE);
}

TEST_F(SlotExecutorTest, EachAttemptKeepsItsLog) {
  TempDir dir;
  AttemptLogStore::Options log_options;
  log_options.dir = dir.Join("logs");
  absl::StatusOr<std::unique_ptr<AttemptLogStore>> logs =
      AttemptLogStore::Open(log_options, &clock_);
  ASSERT_TRUE(logs.ok()) << logs.status();
  SlotExecutor::Options options;
  options.attempt_logs = logs->get();
  MakeExecutor(2, options);
  ASSERT_TRUE(executor_->Start(MakeAssignment("job-000001.0.1", "noop")).ok());
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.1.1", 1)).ok());
  EXPECT_EQ(completions_.WaitFor("job-000001.0.1").status(),
            EXECUTION_STATUS_DONE);
  absl::StatusOr<AttemptLogStore::Contents> noop =
      (*logs)->Read("job-000001.0.1");
  ASSERT_TRUE(noop.ok()) << noop.status();
  EXPECT_TRUE(noop->finished);
  EXPECT_THAT(noop->text, HasSubstr(" attempt job-000001.0.1 started: "));
  EXPECT_THAT(noop->text, HasSubstr(" attempt ended DONE\n"));

  EXPECT_EQ(executor_->RunningLog("job-000001.0.1"), nullptr);  // Persisted.

  // The sleeping attempt's log, served by the executor while it runs,
  // shows its start once its slot thread runs it (nothing signals that:
  // poll, bounded).
  std::shared_ptr<AttemptLog> running = executor_->RunningLog("job-000001.1.1");
  ASSERT_NE(running, nullptr);
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!absl::StrContains(running->text(), " started: ") &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  ASSERT_THAT(running->text(), HasSubstr(" started: "));
  EXPECT_FALSE(running->finished());
  EXPECT_EQ((*logs)->Read("job-000001.1.1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_THAT(executor_->Cancel({"job-000001.1.1"}),
              ElementsAre("job-000001.1.1"));
  EXPECT_EQ(completions_.WaitFor("job-000001.1.1").status(),
            EXECUTION_STATUS_CANCELLED);
  absl::StatusOr<AttemptLogStore::Contents> sleeping =
      (*logs)->Read("job-000001.1.1");
  ASSERT_TRUE(sleeping.ok()) << sleeping.status();
  EXPECT_TRUE(sleeping->finished);
  EXPECT_THAT(sleeping->text, HasSubstr(" cancel requested by the leader\n"));
  EXPECT_THAT(sleeping->text, HasSubstr(" attempt ended CANCELLED\n"));
  executor_->Shutdown();  // Before the log store goes.
}

TEST_F(SlotExecutorTest, RefusesWhatItCannotRun) {
  MakeExecutor(2);
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.0.1", 0)).ok());

  absl::Status busy = executor_->Start(Sleep("job-000001.1.1", 0));
  EXPECT_EQ(busy.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(busy.message(), HasSubstr("slot 0 is busy with attempt "
                                        "job-000001.0.1"));
  absl::Status duplicate = executor_->Start(Sleep("job-000001.0.1", 1));
  EXPECT_EQ(duplicate.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(executor_->Start(Sleep("job-000001.2.1", 2)).code(),
            absl::StatusCode::kOutOfRange);
  EXPECT_EQ(executor_->Start(Sleep("job-000001.3.1", -1)).code(),
            absl::StatusCode::kOutOfRange);
  absl::Status unknown =
      executor_->Start(MakeAssignment("job-000001.5.1", "frob", {}, "", {}, 1));
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(unknown.message(), HasSubstr("unknown kind \"frob\""));
  quarry::v1::Assignment reduce = Sleep("job-000001.6.1", 1);
  reduce.set_is_reduce(true);
  EXPECT_EQ(executor_->Start(reduce).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(executor_->Start(Sleep("", 1)).code(),
            absl::StatusCode::kInvalidArgument);

  // None of the refused attempts is known; the running one is.
  const SlotExecutor::State state = executor_->Snapshot();
  ASSERT_EQ(state.attempts.size(), 1u);
  EXPECT_EQ(state.attempts[0].attempt_id(), "job-000001.0.1");
  EXPECT_EQ(state.attempts[0].status(), EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(state.slots[0].status(), EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(state.slots[0].attempt_id(), "job-000001.0.1");
  EXPECT_EQ(state.slots[0].job_id(), "job-000001");
  EXPECT_EQ(state.slots[1].status(), EXECUTION_STATUS_PENDING);
  EXPECT_THAT(executor_->Cancel({"job-000001.0.1"}),
              ElementsAre("job-000001.0.1"));
}

TEST_F(SlotExecutorTest, CancelStopsASleepFastAndCommitsNothing) {
  MakeExecutor(1);
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.0.1", 0, kHour, out)).ok());
  const absl::Time start = absl::Now();
  EXPECT_THAT(executor_->Cancel({"job-000001.0.1", "job-000009.0.1"}),
              ElementsAre("job-000001.0.1"));
  const AttemptStatus status = completions_.WaitFor("job-000001.0.1");
  EXPECT_EQ(status.status(), EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(status.error(), "");
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_FALSE(FileExists(out));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
  // Finished attempts cannot be cancelled again.
  EXPECT_THAT(executor_->Cancel({"job-000001.0.1"}), IsEmpty());
  EXPECT_EQ(executor_->GetAttempt("job-000001.0.1")->status(),
            EXECUTION_STATUS_CANCELLED);
}

TEST_F(SlotExecutorTest, SlotIsFreeBeforeTheCompletionIsHandedOn) {
  MakeExecutor(1);
  absl::Status restart_status = absl::UnknownError("hook not called");
  hook_ = [this, &restart_status](const AttemptStatus& status) {
    if (status.attempt_id() != "job-000001.0.1") return;
    // The leader may reuse the slot the moment it hears of the completion.
    restart_status = executor_->Start(
        MakeAssignment("job-000001.1.1", "noop", {}, "", {}, 0));
  };
  ASSERT_TRUE(
      executor_->Start(MakeAssignment("job-000001.0.1", "noop", {}, "", {}, 0))
          .ok());
  EXPECT_EQ(completions_.WaitFor("job-000001.1.1").status(),
            EXECUTION_STATUS_DONE);
  EXPECT_TRUE(restart_status.ok()) << restart_status;
}

TEST_F(SlotExecutorTest, QueuedAttemptsWaitThenRunInOrder) {
  SlotExecutor::Options options;
  options.queue = 2;
  MakeExecutor(1, options);
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.0.1", 0)).ok());
  // Places 1 and 2 are the queue; the one slot is busy, so they wait.
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.1.1", 2, "0")).ok());
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.2.1", 1, "0")).ok());
  SlotExecutor::State state = executor_->Snapshot();
  ASSERT_EQ(state.slots.size(), 3u);
  EXPECT_EQ(state.slots[0].status(), EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(state.slots[2].status(), EXECUTION_STATUS_ASSIGNED);
  EXPECT_EQ(state.slots[2].attempt_id(), "job-000001.1.1");
  EXPECT_EQ(state.slots[1].status(), EXECUTION_STATUS_ASSIGNED);
  EXPECT_EQ(executor_->stats().busy_slots, 1);
  EXPECT_EQ(executor_->stats().queued, 2);
  EXPECT_EQ(Find(state, "job-000001.1.1")->status(), EXECUTION_STATUS_ASSIGNED);
  // Every place is taken.
  absl::Status full = executor_->Start(Sleep("job-000001.3.1", 1, "0"));
  EXPECT_EQ(full.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(executor_->Start(Sleep("job-000001.3.1", 3, "0")).code(),
            absl::StatusCode::kOutOfRange);

  clock_.Advance(absl::Seconds(5));
  EXPECT_THAT(executor_->Cancel({"job-000001.0.1"}),
              ElementsAre("job-000001.0.1"));
  const AttemptStatus first = completions_.WaitFor("job-000001.1.1");
  const AttemptStatus second = completions_.WaitFor("job-000001.2.1");
  EXPECT_EQ(first.status(), EXECUTION_STATUS_DONE) << first.error();
  EXPECT_EQ(second.status(), EXECUTION_STATUS_DONE) << second.error();
  // Each keeps the place it was given, and its run starts when it leaves
  // the queue, not when it came.
  EXPECT_EQ(first.slot(), 2);
  EXPECT_EQ(second.slot(), 1);
  EXPECT_EQ(first.start_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  // One slot thread: they ran in the order they came.
  ASSERT_EQ(completions_.count(), 3u);
  EXPECT_THAT(
      completions_.Ids(),
      ElementsAre("job-000001.0.1", "job-000001.1.1", "job-000001.2.1"));
  EXPECT_TRUE(executor_->WaitUntilIdle(absl::Seconds(10)));
  EXPECT_EQ(executor_->stats().queued, 0);
}

TEST_F(SlotExecutorTest,
       QueuedAttemptsCanBeCancelledAndAreCancelledAtShutdown) {
  SlotExecutor::Options options;
  options.queue = 2;
  MakeExecutor(1, options);
  TempDir dir;
  const std::string out = dir.Join("part-00001");
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.0.1", 0)).ok());
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.1.1", 1, "0", out)).ok());
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.2.1", 2)).ok());
  // A queued attempt is stopped without running: nothing is written.
  EXPECT_THAT(executor_->Cancel({"job-000001.1.1"}),
              ElementsAre("job-000001.1.1"));
  executor_->Shutdown();
  for (const char* id :
       {"job-000001.0.1", "job-000001.1.1", "job-000001.2.1"}) {
    EXPECT_EQ(completions_.WaitFor(id).status(), EXECUTION_STATUS_CANCELLED)
        << id;
  }
  EXPECT_FALSE(FileExists(out));
}

TEST_F(SlotExecutorTest, BadInputsFailCleanlyAndFreeTheSlot) {
  MakeExecutor(1);
  TempDir dir;
  ASSERT_TRUE(executor_
                  ->Start(MakeAssignment("job-000001.0.1", "wordcount",
                                         {dir.Join("missing")}))
                  .ok());
  AttemptStatus status = completions_.WaitFor("job-000001.0.1");
  EXPECT_EQ(status.status(), EXECUTION_STATUS_FAILED);
  EXPECT_THAT(status.error(), HasSubstr("missing"));

  ASSERT_TRUE(
      executor_
          ->Start(MakeAssignment("job-000001.1.1", "linecount", {dir.path()}))
          .ok());
  status = completions_.WaitFor("job-000001.1.1");
  EXPECT_EQ(status.status(), EXECUTION_STATUS_FAILED);
  EXPECT_THAT(status.error(), HasSubstr("is a directory"));
}

TEST_F(SlotExecutorTest, ForgetsFinishedAttemptsAfterTheRetention) {
  MakeExecutor(1);
  ASSERT_TRUE(executor_->Start(MakeAssignment("job-000001.0.1", "noop")).ok());
  completions_.WaitFor("job-000001.0.1");
  clock_.Advance(absl::Minutes(9));
  EXPECT_TRUE(Find(executor_->Snapshot(), "job-000001.0.1").has_value());
  clock_.Advance(absl::Minutes(2));
  EXPECT_FALSE(Find(executor_->Snapshot(), "job-000001.0.1").has_value());
}

TEST_F(SlotExecutorTest, KeepsOnlyTheNewestFinishedAttempts) {
  SlotExecutor::Options options;
  options.max_finished = 2;
  MakeExecutor(1, options);
  for (const char* id :
       {"job-000001.0.1", "job-000001.1.1", "job-000001.2.1"}) {
    ASSERT_TRUE(executor_->Start(MakeAssignment(id, "noop")).ok());
    completions_.WaitFor(id);
  }
  const SlotExecutor::State state = executor_->Snapshot();
  EXPECT_FALSE(Find(state, "job-000001.0.1").has_value());
  EXPECT_TRUE(Find(state, "job-000001.1.1").has_value());
  EXPECT_TRUE(Find(state, "job-000001.2.1").has_value());
}

TEST_F(SlotExecutorTest, ShutdownCancelsRunningAttempts) {
  MakeExecutor(2);
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.0.1", 0, kHour, out)).ok());
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.1.1", 1)).ok());
  const absl::Time start = absl::Now();
  executor_->Shutdown();
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  for (const char* id : {"job-000001.0.1", "job-000001.1.1"}) {
    const AttemptStatus stopped = completions_.WaitFor(id);
    EXPECT_EQ(stopped.status(), EXECUTION_STATUS_CANCELLED) << id;
    EXPECT_EQ(stopped.error(), "") << id;
  }
  EXPECT_FALSE(FileExists(out));
  absl::Status refused = executor_->Start(Sleep("job-000001.2.1", 0));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.message(), HasSubstr("shutting down"));
  executor_->Shutdown();  // Idempotent.
}

TEST_F(SlotExecutorTest, DrainingRefusesNewWorkAndLetsRunningWorkGoOn) {
  MakeExecutor(2);
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.0.1", 0)).ok());
  executor_->StartDraining();
  const absl::Status refused = executor_->Start(Sleep("job-000001.1.1", 1));
  EXPECT_EQ(refused.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(refused.message(), "worker is draining");
  EXPECT_FALSE(executor_->WaitUntilIdle(absl::Milliseconds(10)));
  EXPECT_EQ(executor_->GetAttempt("job-000001.0.1")->status(),
            EXECUTION_STATUS_RUNNING);

  EXPECT_THAT(executor_->CancelRunning(), ElementsAre("job-000001.0.1"));
  EXPECT_TRUE(executor_->WaitUntilIdle(absl::Seconds(10)));
  EXPECT_EQ(completions_.WaitFor("job-000001.0.1").status(),
            EXECUTION_STATUS_CANCELLED);
  EXPECT_THAT(executor_->CancelRunning(), IsEmpty());
}

TEST_F(SlotExecutorTest, AsksTheLeaderBeforeCommitting) {
  std::vector<std::string> asked;
  absl::Mutex mu;
  MakeExecutor(1, {},
               [&](const std::string& attempt_id, const CancelFlag& cancel)
                   -> absl::StatusOr<quarry::v1::RequestCommitResponse> {
                 absl::MutexLock lock(&mu);
                 asked.push_back(attempt_id);
                 quarry::v1::RequestCommitResponse response;
                 response.set_granted(attempt_id == "job-000001.0.2");
                 response.set_reason("superseded");
                 return response;
               });
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  ASSERT_TRUE(
      executor_->Start(MakeAssignment("job-000001.0.1", "noop", {}, out)).ok());
  const AttemptStatus refused = completions_.WaitFor("job-000001.0.1");
  EXPECT_EQ(refused.status(), EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(refused.error(), "commit refused by the leader: superseded");
  EXPECT_FALSE(FileExists(out));

  ASSERT_TRUE(
      executor_->Start(MakeAssignment("job-000001.0.2", "noop", {}, out)).ok());
  EXPECT_EQ(completions_.WaitFor("job-000001.0.2").status(),
            EXECUTION_STATUS_DONE);
  EXPECT_TRUE(FileExists(out));
  ASSERT_TRUE(executor_->Start(MakeAssignment("job-000001.1.1", "noop")).ok());
  completions_.WaitFor("job-000001.1.1");
  absl::MutexLock lock(&mu);
  EXPECT_THAT(asked, ElementsAre("job-000001.0.1", "job-000001.0.2"));
}

TEST_F(SlotExecutorTest, CancelWhileWaitingForPermissionCommitsNothing) {
  absl::Notification asking;
  MakeExecutor(1, {},
               [&](const std::string& attempt_id, const CancelFlag& cancel)
                   -> absl::StatusOr<quarry::v1::RequestCommitResponse> {
                 asking.Notify();
                 cancel.WaitFor(absl::InfiniteDuration());
                 return absl::CancelledError("attempt cancelled");
               });
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  ASSERT_TRUE(
      executor_->Start(MakeAssignment("job-000001.0.1", "noop", {}, out)).ok());
  ASSERT_TRUE(asking.WaitForNotificationWithTimeout(absl::Seconds(10)));
  // Still in its slot while it waits.
  EXPECT_EQ(executor_->Snapshot().slots[0].attempt_id(), "job-000001.0.1");
  EXPECT_THAT(executor_->Cancel({"job-000001.0.1"}),
              ElementsAre("job-000001.0.1"));
  const AttemptStatus status = completions_.WaitFor("job-000001.0.1");
  EXPECT_EQ(status.status(), EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(status.error(), "");
  EXPECT_FALSE(FileExists(out));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

}  // namespace
}  // namespace quarry::worker

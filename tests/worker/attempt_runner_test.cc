#include "worker/attempt_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/worker/fake_leader_client.h"
#include "tests/worker/test_util.h"
#include "worker/kinds/builtin_kinds.h"

namespace quarry::worker {
namespace {

using quarry::v1::EXECUTION_STATUS_CANCELLED;
using quarry::v1::EXECUTION_STATUS_DONE;
using quarry::v1::EXECUTION_STATUS_FAILED;
using testing::FakeLeaderClient;
using testing::FileExists;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ListDir;
using testing::MakeAssignment;
using testing::ReadFileOrMissing;
using testing::TempDir;

// Attempts without data roots: inputs and outputs anywhere.
const BeneathOpener kNoRoots;

AttemptOutcome RunWithCommit(const JobKind& kind,
                             const quarry::v1::Assignment& assignment,
                             bool allow_commit = true) {
  CancelFlag cancel;
  return RunAttempt(
      kind, assignment, kNoRoots, cancel,
      []() -> CommitPermission { return FakeLeaderClient::Granted(); },
      [&] { return allow_commit; });
}

// Runs `assignment` with the leader answering `permission`; counts the
// questions and the commits begun.
struct AskedRun {
  AttemptOutcome outcome;
  int asked = 0;
  int began_commit = 0;
};
AskedRun RunAsking(const JobKind& kind,
                   const quarry::v1::Assignment& assignment,
                   const CommitPermission& permission) {
  CancelFlag cancel;
  AskedRun run;
  run.outcome = RunAttempt(
      kind, assignment, kNoRoots, cancel,
      [&]() -> CommitPermission {
        ++run.asked;
        return permission;
      },
      [&] {
        ++run.began_commit;
        return true;
      });
  return run;
}

TEST(RunAttemptTest, DoneCommitsTheOutput) {
  TempDir dir;
  const std::string in = dir.WriteFile("in.txt", "b a b");
  const std::string out = dir.Join("part-00000");
  AttemptOutcome outcome =
      RunWithCommit(*NewWordCountMapKind(),
                    MakeAssignment("job-000001.0.1", "wordcount", {in}, out));
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_DONE) << outcome.error;
  EXPECT_EQ(outcome.error, "");
  EXPECT_EQ(outcome.summary, "3 words, 2 distinct");
  EXPECT_EQ(ReadFileOrMissing(out), "a\t1\nb\t2\n");
  EXPECT_EQ(outcome.output_bytes, 8);
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

TEST(RunAttemptTest, LogsEachStepUpToTheCommit) {
  TempDir dir;
  const std::string in = dir.WriteFile("in.txt", "b a b");
  const std::string out = dir.Join("part-00000");
  RealClock clock;
  AttemptLog log(1 << 20, &clock);
  CancelFlag cancel;
  const AttemptOutcome outcome = RunAttempt(
      *NewWordCountMapKind(),
      MakeAssignment("job-000001.0.1", "wordcount", {in, dir.Join("gone")}, out,
                     {{"delay_ms", "1"}}),
      kNoRoots, cancel,
      []() -> CommitPermission { return FakeLeaderClient::Granted(); },
      [] { return true; }, &log);
  log.Finish(DescribeOutcome(outcome));
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_FAILED);
  const std::string text = log.text();
  EXPECT_THAT(text, HasSubstr(" attempt job-000001.0.1 started: job "
                              "job-000001 task 0 (kind wordcount), attempt "
                              "number 1, slot 0, 2 input(s)\n"));
  EXPECT_THAT(text,
              HasSubstr(absl::StrCat(" input 1/2: ", in, " (5 bytes)\n")));
  EXPECT_THAT(text, HasSubstr(" input 2/2: " + dir.Join("gone") +
                              " (cannot stat: No such file or directory)\n"));
  EXPECT_THAT(text, HasSubstr(" waiting delay_ms=1 before working\n"));
  EXPECT_THAT(text, HasSubstr(" attempt ended FAILED: "));
  EXPECT_THAT(text, HasSubstr("gone"));

  // A run that commits.
  AttemptLog done_log(1 << 20, &clock);
  const AttemptOutcome done = RunAttempt(
      *NewWordCountMapKind(),
      MakeAssignment("job-000001.0.2", "wordcount", {in}, out), kNoRoots,
      cancel, []() -> CommitPermission { return FakeLeaderClient::Granted(); },
      [] { return true; }, &done_log);
  done_log.Finish(DescribeOutcome(done));
  const std::string done_text = done_log.text();
  EXPECT_THAT(done_text, HasSubstr(", output 8 bytes; summary: 3 words, 2 "
                                   "distinct\n"));
  EXPECT_THAT(done_text, HasSubstr(" asking the leader for permission to "
                                   "commit\n"));
  EXPECT_THAT(done_text, HasSubstr(" commit granted by the leader\n"));
  EXPECT_THAT(done_text, HasSubstr(" committed 8 bytes to " + out + "\n"));
  EXPECT_THAT(done_text, HasSubstr(" attempt ended DONE\n"));
}

TEST(RunAttemptTest, LogsARefusedCommit) {
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  RealClock clock;
  AttemptLog log(1 << 20, &clock);
  quarry::v1::RequestCommitResponse refused;
  refused.set_reason("attempt job-000001.0.1 was superseded");
  CancelFlag cancel;
  const AttemptOutcome outcome = RunAttempt(
      *NewNoopKind(), MakeAssignment("job-000001.0.1", "noop", {}, out),
      kNoRoots, cancel, [&]() -> CommitPermission { return refused; },
      [] { return true; }, &log);
  log.Finish(DescribeOutcome(outcome));
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_CANCELLED);
  EXPECT_THAT(log.text(),
              HasSubstr(" attempt ended CANCELLED: commit refused by the "
                        "leader: attempt job-000001.0.1 was superseded\n"));
}

TEST(RunAttemptTest, FailedAttemptLeavesNoFile) {
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  AttemptOutcome outcome = RunWithCommit(
      *NewSha256Kind(),
      MakeAssignment("job-000001.0.1", "sha256", {dir.Join("gone")}, out));
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_FAILED);
  EXPECT_THAT(outcome.error, HasSubstr("gone"));
  EXPECT_FALSE(FileExists(out));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

TEST(RunAttemptTest, CancelledAtCommitLeavesNoFile) {
  TempDir dir;
  const std::string in = dir.WriteFile("in.txt", "x\n");
  const std::string out = dir.Join("part-00000");
  AttemptOutcome outcome =
      RunWithCommit(*NewLineCountKind(),
                    MakeAssignment("job-000001.0.1", "linecount", {in}, out),
                    /*allow_commit=*/false);
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(outcome.error, "");
  EXPECT_FALSE(FileExists(out));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

TEST(RunAttemptTest, CancelledBeforeStartDoesNothing) {
  TempDir dir;
  CancelFlag cancel;
  cancel.Cancel();
  bool asked = false;
  AttemptOutcome outcome = RunAttempt(
      *NewNoopKind(),
      MakeAssignment("job-000001.0.1", "noop", {}, dir.Join("part-00000")),
      kNoRoots, cancel,
      [&]() -> CommitPermission {
        asked = true;
        return FakeLeaderClient::Granted();
      },
      [&] { return asked = true; });
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_CANCELLED);
  EXPECT_FALSE(asked);
  EXPECT_THAT(ListDir(dir.path()), IsEmpty());
}

TEST(RunAttemptTest, BadSettingsFailWithTheFieldName) {
  AttemptOutcome outcome = RunWithCommit(
      *NewSleepKind(),
      MakeAssignment("job-000001.0.1", "sleep", {}, "", {{"ms", "-5"}}));
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_FAILED);
  EXPECT_THAT(outcome.error, HasSubstr("settings.ms"));

  outcome = RunWithCommit(
      *NewGrepKind(), MakeAssignment("job-000001.0.1", "grep", {"/dev/null"},
                                     "", {{"colour", "red"}}));
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_FAILED);
  EXPECT_THAT(outcome.error, HasSubstr("settings.colour"));
}

TEST(RunAttemptTest, SleepAndNoopCommitAnEmptyFileOnlyWithOutputPath) {
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  AttemptOutcome outcome = RunWithCommit(
      *NewSleepKind(),
      MakeAssignment("job-000001.0.1", "sleep", {}, out, {{"ms", "0"}}));
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_DONE) << outcome.error;
  EXPECT_EQ(ReadFileOrMissing(out), "");
  EXPECT_EQ(outcome.output_bytes, 0);

  TempDir empty_dir;
  outcome = RunWithCommit(*NewNoopKind(),
                          MakeAssignment("job-000001.1.1", "noop", {}, ""));
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_DONE) << outcome.error;
  EXPECT_THAT(ListDir(empty_dir.path()), IsEmpty());
}

TEST(RunAttemptTest, MissingOutputDirectoryFails) {
  TempDir dir;
  AttemptOutcome outcome = RunWithCommit(
      *NewNoopKind(),
      MakeAssignment("job-000001.0.1", "noop", {}, dir.Join("no/part-00000")));
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_FAILED);
  EXPECT_THAT(outcome.error, HasSubstr("does not exist"));
}

TEST(RunAttemptTest, GrantedCommitIsAskedOnceAndCommits) {
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  const AskedRun run = RunAsking(
      *NewNoopKind(), MakeAssignment("job-000001.0.1", "noop", {}, out),
      FakeLeaderClient::Granted());
  EXPECT_EQ(run.outcome.status, EXECUTION_STATUS_DONE) << run.outcome.error;
  EXPECT_EQ(run.asked, 1);
  EXPECT_EQ(run.began_commit, 1);
  EXPECT_EQ(ReadFileOrMissing(out), "");
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

TEST(RunAttemptTest, RefusedCommitLeavesNoFileAndIsCancelled) {
  TempDir dir;
  const std::string in = dir.WriteFile("in.txt", "a b\n");
  const std::string out = dir.Join("part-00000");
  const AskedRun run = RunAsking(
      *NewWordCountMapKind(),
      MakeAssignment("job-000001.0.1", "wordcount", {in}, out),
      FakeLeaderClient::Refused("attempt job-000001.0.1 was superseded"));
  EXPECT_EQ(run.outcome.status, EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(run.outcome.error,
            "commit refused by the leader: attempt job-000001.0.1 was "
            "superseded");
  EXPECT_EQ(run.began_commit, 0);
  EXPECT_FALSE(FileExists(out));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

TEST(RunAttemptTest, NoCommitPermissionFails) {
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  const AskedRun run = RunAsking(
      *NewNoopKind(), MakeAssignment("job-000001.0.1", "noop", {}, out),
      absl::DeadlineExceededError("gave up after 15s: leader down"));
  EXPECT_EQ(run.outcome.status, EXECUTION_STATUS_FAILED);
  EXPECT_EQ(run.outcome.error,
            "no commit permission from the leader: gave up after 15s: leader "
            "down");
  EXPECT_EQ(run.began_commit, 0);
  EXPECT_FALSE(FileExists(out));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

TEST(RunAttemptTest, CancelledWhileAskingIsCancelled) {
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  const AskedRun run = RunAsking(
      *NewNoopKind(), MakeAssignment("job-000001.0.1", "noop", {}, out),
      absl::CancelledError("attempt cancelled"));
  EXPECT_EQ(run.outcome.status, EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(run.outcome.error, "");
  EXPECT_FALSE(FileExists(out));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

TEST(RunAttemptTest, AttemptsWithoutOutputDoNotAsk) {
  const AskedRun run =
      RunAsking(*NewNoopKind(), MakeAssignment("job-000001.0.1", "noop"),
                absl::UnavailableError("must not be asked"));
  EXPECT_EQ(run.outcome.status, EXECUTION_STATUS_DONE) << run.outcome.error;
  EXPECT_EQ(run.asked, 0);
}

TEST(RunAttemptTest, FlakyFailsExactlyKAttemptsThenCommitsLikeNoop) {
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  auto kind = NewFlakyKind();
  for (int attempt = 1; attempt <= 4; ++attempt) {
    quarry::v1::Assignment assignment =
        MakeAssignment(absl::StrCat("job-000001.0.", attempt), "flaky", {}, out,
                       {{"fail_attempts", "2"}});
    assignment.set_attempt_number(attempt);
    const AskedRun run =
        RunAsking(*kind, assignment, FakeLeaderClient::Granted());
    if (attempt <= 2) {
      EXPECT_EQ(run.outcome.status, EXECUTION_STATUS_FAILED) << attempt;
      EXPECT_EQ(run.outcome.error,
                absl::StrCat("flaky: attempt ", attempt,
                             " of the first 2 fails on purpose"));
      EXPECT_EQ(run.asked, 0);
      EXPECT_FALSE(FileExists(out));
    } else {
      EXPECT_EQ(run.outcome.status, EXECUTION_STATUS_DONE)
          << attempt << ": " << run.outcome.error;
      EXPECT_EQ(run.outcome.summary, "");
      EXPECT_EQ(ReadFileOrMissing(out), "");  // The same for every attempt.
    }
  }
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

TEST(RunAttemptTest, DelayMsWaitsBeforeTheKindRuns) {
  const absl::Time start = absl::Now();
  const AttemptOutcome outcome = RunWithCommit(
      *NewNoopKind(),
      MakeAssignment("job-000001.0.1", "noop", {}, "", {{"delay_ms", "50"}}));
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_DONE) << outcome.error;
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(50));
}

TEST(RunAttemptTest, CancelDuringDelayWritesNothing) {
  TempDir dir;
  CancelFlag cancel;
  bool asked = false;
  AttemptOutcome outcome;
  const absl::Time start = absl::Now();
  std::thread runner([&] {
    outcome = RunAttempt(
        *NewLineCountKind(),
        MakeAssignment("job-000001.0.1", "linecount", {"/dev/null"},
                       dir.Join("part-00000"), {{"delay_ms", "3600000"}}),
        kNoRoots, cancel,
        [&]() -> CommitPermission {
          asked = true;
          return FakeLeaderClient::Granted();
        },
        [] { return true; });
  });
  cancel.Cancel();
  runner.join();
  EXPECT_EQ(outcome.status, EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(outcome.error, "");
  EXPECT_FALSE(asked);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_THAT(ListDir(dir.path()), IsEmpty());  // Not even a staging dir.
}

}  // namespace
}  // namespace quarry::worker

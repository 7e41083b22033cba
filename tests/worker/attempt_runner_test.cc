#include "worker/attempt_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "tests/worker/test_util.h"
#include "worker/kinds/builtin_kinds.h"

namespace quarry::worker {
namespace {

using quarry::v1::EXECUTION_STATUS_CANCELLED;
using quarry::v1::EXECUTION_STATUS_DONE;
using quarry::v1::EXECUTION_STATUS_FAILED;
using testing::FileExists;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ListDir;
using testing::MakeAssignment;
using testing::ReadFileOrMissing;
using testing::TempDir;

AttemptOutcome RunWithCommit(const JobKind& kind,
                             const quarry::v1::Assignment& assignment,
                             bool allow_commit = true) {
  CancelFlag cancel;
  return RunAttempt(kind, assignment, cancel, [&] { return allow_commit; });
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
      cancel, [&] { return asked = true; });
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

}  // namespace
}  // namespace quarry::worker

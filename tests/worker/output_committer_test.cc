#include "worker/output_committer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>

#include "tests/worker/test_util.h"

namespace quarry::worker {
namespace {

using ::testing::ElementsAre;
using testing::FileExists;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ListDir;
using testing::ReadFileOrMissing;
using testing::TempDir;

// Outputs without data roots: anywhere.
const BeneathOpener kNoRoots;

TEST(StagedOutputTest, CommitRenamesTempFileIntoPlace) {
  TempDir dir;
  const std::string out = dir.Join("part-00003");
  auto staged = StagedOutput::Create(kNoRoots, out, "job-000001.3.1");
  ASSERT_TRUE(staged.ok()) << staged.status();
  EXPECT_EQ((*staged)->temp_path(),
            dir.Join(".quarry-staging/job-000001.3.1.tmp"));
  ASSERT_TRUE((*staged)->Write("hello ").ok());
  ASSERT_TRUE((*staged)->Write("world\n").ok());

  // While the attempt writes, the output directory shows only the staging
  // directory: readers never see a partial part file.
  EXPECT_FALSE(FileExists(out));
  EXPECT_THAT(ListDir(dir.path()), ElementsAre(".quarry-staging"));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")),
              ElementsAre("job-000001.3.1.tmp"));

  absl::StatusOr<int64_t> bytes = (*staged)->Commit();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, 12);
  EXPECT_EQ(ReadFileOrMissing(out), "hello world\n");
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
  staged->reset();  // Destroying a committed output removes nothing.
  EXPECT_EQ(ReadFileOrMissing(out), "hello world\n");
}

TEST(StagedOutputTest, LargeOutputIsWrittenWhole) {
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  auto staged = StagedOutput::Create(kNoRoots, out, "job-000001.0.1");
  ASSERT_TRUE(staged.ok()) << staged.status();
  const std::string line(1000, 'x');
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE((*staged)->Write(line).ok());
  absl::StatusOr<int64_t> bytes = (*staged)->Commit();
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, 3'000'000);
  EXPECT_EQ(ReadFileOrMissing(out).size(), 3'000'000u);
}

TEST(StagedOutputTest, CommitReplacesAnExistingFile) {
  TempDir dir;
  const std::string out = dir.WriteFile("part-00000", "old contents");
  auto staged = StagedOutput::Create(kNoRoots, out, "job-000001.0.2");
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_TRUE((*staged)->Write("new").ok());
  ASSERT_TRUE((*staged)->Commit().ok());
  EXPECT_EQ(ReadFileOrMissing(out), "new");
}

TEST(StagedOutputTest, AbortAndDestructionLeaveNothing) {
  TempDir dir;
  const std::string out = dir.Join("part-00000");
  {
    auto staged = StagedOutput::Create(kNoRoots, out, "job-000001.0.1");
    ASSERT_TRUE(staged.ok()) << staged.status();
    ASSERT_TRUE((*staged)->Write("partial").ok());
    (*staged)->Abort();
    (*staged)->Abort();  // Idempotent.
    EXPECT_FALSE((*staged)->Write("more").ok());
    EXPECT_FALSE((*staged)->Commit().ok());
  }
  {
    auto staged = StagedOutput::Create(kNoRoots, out, "job-000001.0.2");
    ASSERT_TRUE(staged.ok()) << staged.status();
    ASSERT_TRUE((*staged)->Write("partial").ok());
  }  // Destroyed without Commit().
  EXPECT_FALSE(FileExists(out));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

TEST(StagedOutputTest, MissingOutputDirectoryFails) {
  TempDir dir;
  auto staged = StagedOutput::Create(kNoRoots, dir.Join("absent/part-00000"),
                                     "job-000001.0.1");
  EXPECT_EQ(staged.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(staged.status().message(), HasSubstr("does not exist"));
  EXPECT_THAT(staged.status().message(), HasSubstr("absent"));
}

TEST(StagedOutputTest, RefusesBadNames) {
  TempDir dir;
  EXPECT_EQ(StagedOutput::Create(kNoRoots, dir.Join("part-0"), "../escape")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      StagedOutput::Create(kNoRoots, dir.Join("part-0"), "").status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      StagedOutput::Create(kNoRoots, dir.path() + "/", "a.1.1").status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StagedOutput::Create(kNoRoots, "", "a.1.1").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(StagedOutputTest, OutputPathThatIsADirectoryFailsAtCommit) {
  TempDir dir;
  const std::string out = dir.Join("taken");
  ASSERT_EQ(mkdir(out.c_str(), 0755), 0);
  ASSERT_EQ(mkdir(dir.Join("taken/child").c_str(), 0755), 0);
  auto staged = StagedOutput::Create(kNoRoots, out, "job-000001.0.1");
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_TRUE((*staged)->Write("x").ok());
  absl::StatusOr<int64_t> bytes = (*staged)->Commit();
  EXPECT_FALSE(bytes.ok());
  EXPECT_THAT(bytes.status().message(), HasSubstr("cannot rename"));
  EXPECT_THAT(ListDir(dir.Join(".quarry-staging")), IsEmpty());
}

}  // namespace
}  // namespace quarry::worker

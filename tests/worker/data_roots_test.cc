// The worker's enforcement of --data_root at use time: inputs read and
// outputs staged and committed beneath the roots, never through a symlink
// planted in the input tree or the output directory. Each test checks that
// the file outside the roots keeps its contents and modification time.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "common/beneath_opener.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/worker/fake_leader_client.h"
#include "tests/worker/test_util.h"
#include "worker/attempt_runner.h"
#include "worker/exec/exec_kind.h"
#include "worker/file_util.h"
#include "worker/kinds/builtin_kinds.h"
#include "worker/output_committer.h"

namespace quarry::worker {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ListDir;
using testing::MakeAssignment;
using testing::ReadFileOrMissing;
using testing::TempDir;

// A file's contents and modification time, to show it was not touched.
struct Snapshot {
  std::string contents;
  struct timespec mtime = {};
  bool operator==(const Snapshot& other) const {
    return contents == other.contents && mtime.tv_sec == other.mtime.tv_sec &&
           mtime.tv_nsec == other.mtime.tv_nsec;
  }
};
Snapshot Take(const std::string& path) {
  Snapshot snapshot;
  snapshot.contents = ReadFileOrMissing(path);
  struct stat info;
  if (lstat(path.c_str(), &info) == 0) snapshot.mtime = info.st_mtim;
  return snapshot;
}

void Symlink(const std::string& target, const std::string& link) {
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0) << link;
}

// A writable root with an input tree and an output directory, a read-only
// root, and a secret outside both (set an hour in the past, so that any
// write would show in its mtime).
class WorkerDataRootsTest : public ::testing::TestWithParam<Resolver> {
 protected:
  void SetUp() override {
    root_ = dir_.Join("root");
    dir_.WriteFile("root/in/a.txt", "apple banana apple\n");
    dir_.WriteFile("ro/b.txt", "cherry\n");
    mkdir(dir_.Join("root/out").c_str(), 0755);
    secret_ = dir_.WriteFile("outside/secret", "do not touch\n");
    const struct timespec past[2] = {{time(nullptr) - 3600, 0},
                                     {time(nullptr) - 3600, 0}};
    utimensat(AT_FDCWD, secret_.c_str(), past, 0);
    utimensat(AT_FDCWD, dir_.Join("outside").c_str(), past, 0);
    before_ = Take(secret_);
    absl::StatusOr<DataRoots> roots =
        DataRoots::Parse({root_, dir_.Join("ro") + ":ro"});
    ASSERT_TRUE(roots.ok()) << roots.status();
    files_ = std::make_unique<BeneathOpener>(*std::move(roots), GetParam());
  }

  // Nothing outside the roots changed: the secret, and no new file.
  void ExpectOutsideUntouched() {
    EXPECT_TRUE(Take(secret_) == before_) << Take(secret_).contents;
    EXPECT_THAT(ListDir(dir_.Join("outside")),
                ::testing::ElementsAre("secret"));
  }

  absl::Status ReadAll(const std::string& path, std::string* out = nullptr) {
    CancelFlag never;
    std::string contents;
    absl::Status status =
        ReadFileChunks(*files_, path, 4, never, [&](absl::string_view chunk) {
          contents.append(chunk.data(), chunk.size());
          return absl::OkStatus();
        });
    if (out != nullptr) *out = contents;
    return status;
  }

  absl::StatusOr<std::unique_ptr<StagedOutput>> Stage(
      const std::string& output_path) {
    return StagedOutput::Create(*files_, output_path, "job-000001.0.1");
  }

  TempDir dir_;
  std::string root_;
  std::string secret_;
  Snapshot before_;
  std::unique_ptr<BeneathOpener> files_;
};

INSTANTIATE_TEST_SUITE_P(Resolvers, WorkerDataRootsTest,
                         ::testing::Values(Resolver::kAuto,
                                           Resolver::kPerComponent),
                         [](const auto& info) {
                           return info.param == Resolver::kAuto
                                      ? std::string("Openat2")
                                      : std::string("PerComponent");
                         });

TEST_P(WorkerDataRootsTest, ReadsInputsBeneathTheRootsOnly) {
  std::string contents;
  ASSERT_TRUE(ReadAll(root_ + "/in/a.txt", &contents).ok());
  EXPECT_EQ(contents, "apple banana apple\n");
  EXPECT_TRUE(ReadAll(dir_.Join("ro/b.txt")).ok());
  absl::Status outside = ReadAll(secret_);
  EXPECT_EQ(outside.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(outside.message(), HasSubstr("is outside the data roots"));
  EXPECT_FALSE(ReadAll(root_ + "/../outside/secret").ok());
}

TEST_P(WorkerDataRootsTest, ASymlinkOutOfTheRootInTheInputTreeIsRefused) {
  Symlink(secret_, root_ + "/in/link");
  Symlink("../../outside/secret", root_ + "/in/relative-link");
  Symlink(dir_.Join("outside"), root_ + "/in/dir-link");
  for (const std::string& path :
       {root_ + "/in/link", root_ + "/in/relative-link",
        root_ + "/in/dir-link/secret"}) {
    std::string contents;
    absl::Status status = ReadAll(path, &contents);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_THAT(status.message(), HasSubstr(path));
    EXPECT_THAT(contents, IsEmpty());
  }
  ExpectOutsideUntouched();
}

TEST_P(WorkerDataRootsTest,
       AnAttemptWithAnInputOutOfTheRootFailsBeforeRunning) {
  Symlink(secret_, root_ + "/in/link");
  CancelFlag cancel;
  const AttemptOutcome outcome = RunAttempt(
      *NewWordCountMapKind(),
      MakeAssignment("job-000001.0.1", "wordcount",
                     {root_ + "/in/a.txt", root_ + "/in/link"},
                     root_ + "/out/part-00000"),
      *files_, cancel,
      []() -> CommitPermission { return testing::FakeLeaderClient::Granted(); },
      [] { return true; });
  EXPECT_EQ(outcome.status, quarry::v1::EXECUTION_STATUS_FAILED);
  EXPECT_THAT(outcome.error, HasSubstr(root_ + "/in/link"));
  EXPECT_THAT(ListDir(root_ + "/out"), IsEmpty());
  ExpectOutsideUntouched();
}

TEST_P(WorkerDataRootsTest, ExecChecksItsInputsBeforeStartingTheCommand) {
  Symlink(secret_, root_ + "/in/link");
  const std::string marker = root_ + "/ran";
  quarry::v1::Assignment assignment = MakeAssignment(
      "job-000001.0.1", "exec", {root_ + "/in/a.txt", root_ + "/in/link"});
  for (const char* word : {"/bin/sh", "-c", "echo ran >> \"$0\"; cat \"$1\"",
                           marker.c_str(), "{input}"}) {
    assignment.add_command(word);
  }
  CancelFlag never;
  StringOutput output;
  const std::string no_file;
  AttemptLog log;
  const KindContext context{assignment, never, output, no_file, &log, *files_};
  absl::StatusOr<std::string> ran = NewExecKind(ExecOptions())->Run(context);
  EXPECT_EQ(ran.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ran.status().message(), HasSubstr(root_ + "/in/link"));
  // The first input's command ran, the second's never started.
  EXPECT_EQ(ReadFileOrMissing(marker), "ran\n");
  EXPECT_EQ(output.contents(), "apple banana apple\n");
  ExpectOutsideUntouched();
}

TEST_P(WorkerDataRootsTest, OutputsAreCommittedBeneathAWritableRoot) {
  auto staged = Stage(root_ + "/out/part-00000");
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_TRUE((*staged)->Write("counted\n").ok());
  ASSERT_TRUE((*staged)->Commit().ok());
  EXPECT_EQ(ReadFileOrMissing(root_ + "/out/part-00000"), "counted\n");

  EXPECT_THAT(Stage(dir_.Join("ro/part-00000")).status().message(),
              HasSubstr("read-only data root"));
  EXPECT_THAT(Stage(dir_.Join("outside/part-00000")).status().message(),
              HasSubstr("is outside the data roots"));
  ExpectOutsideUntouched();
}

TEST_P(WorkerDataRootsTest, ASymlinkedOutputDirectoryIsNotFollowed) {
  Symlink(dir_.Join("outside"), root_ + "/out-link");
  auto staged = Stage(root_ + "/out-link/part-00000");
  EXPECT_EQ(staged.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      staged.status().message(),
      HasSubstr("passes through the symbolic link \"" + root_ + "/out-link\""));
  ExpectOutsideUntouched();
}

TEST_P(WorkerDataRootsTest, ASymlinkedStagingDirectoryIsNotFollowed) {
  Symlink(dir_.Join("outside"), root_ + "/out/.quarry-staging");
  auto staged = Stage(root_ + "/out/part-00000");
  EXPECT_EQ(staged.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(staged.status().message(), HasSubstr("is a symbolic link"));
  ExpectOutsideUntouched();
}

TEST_P(WorkerDataRootsTest, ASymlinkPlantedAtTheTempPathIsReplacedNotFollowed) {
  mkdir((root_ + "/out/.quarry-staging").c_str(), 0755);
  Symlink(secret_, root_ + "/out/.quarry-staging/job-000001.0.1.tmp");
  auto staged = Stage(root_ + "/out/part-00000");
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_TRUE((*staged)->Write("mine\n").ok());
  ASSERT_TRUE((*staged)->Commit().ok());
  EXPECT_EQ(ReadFileOrMissing(root_ + "/out/part-00000"), "mine\n");
  ExpectOutsideUntouched();
}

TEST_P(WorkerDataRootsTest,
       ASymlinkPlantedAtTheOutputPathIsReplacedNotFollowed) {
  auto staged = Stage(root_ + "/out/part-00000");
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_TRUE((*staged)->Write("mine\n").ok());
  // Planted while the attempt runs, before its commit.
  Symlink(secret_, root_ + "/out/part-00000");
  ASSERT_TRUE((*staged)->Commit().ok());
  struct stat info;
  ASSERT_EQ(lstat((root_ + "/out/part-00000").c_str(), &info), 0);
  EXPECT_TRUE(S_ISREG(info.st_mode));
  EXPECT_EQ(ReadFileOrMissing(root_ + "/out/part-00000"), "mine\n");
  ExpectOutsideUntouched();
}

TEST_P(WorkerDataRootsTest, AnOutputDirectorySwappedForASymlinkAfterCreate) {
  auto staged = Stage(root_ + "/out/part-00000");
  ASSERT_TRUE(staged.ok()) << staged.status();
  ASSERT_TRUE((*staged)->Write("mine\n").ok());
  // The directory moves away and a link to the outside takes its place:
  // the commit goes by the directories opened at Create.
  ASSERT_EQ(rename((root_ + "/out").c_str(), (root_ + "/moved").c_str()), 0);
  Symlink(dir_.Join("outside"), root_ + "/out");
  ASSERT_TRUE((*staged)->Commit().ok());
  EXPECT_EQ(ReadFileOrMissing(root_ + "/moved/part-00000"), "mine\n");
  ExpectOutsideUntouched();
}

}  // namespace
}  // namespace quarry::worker

#include "worker/kinds/builtin_kinds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/worker/kinds/kind_test_util.h"
#include "tests/worker/test_util.h"
#include "worker/file_util.h"
#include "worker/kinds/kind_registry.h"

namespace quarry::worker {
namespace {

using ::testing::HasSubstr;
using testing::KindRun;
using testing::MakeAssignment;
using testing::RunKind;
using testing::TempDir;

constexpr absl::string_view kAbcSha256 =
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr absl::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

KindRun RunNamed(
    std::unique_ptr<JobKind> kind, absl::string_view name,
    std::vector<std::string> inputs,
    std::vector<std::pair<std::string, std::string>> settings = {}) {
  return RunKind(*kind,
                 MakeAssignment("job-000001.0.1", name, std::move(inputs), "",
                                std::move(settings)));
}

TEST(LineCountTest, CountsNewlinesPlusUnterminatedLastLine) {
  TempDir dir;
  const std::string two = dir.WriteFile("two", "a\nb\n");
  const std::string unterminated = dir.WriteFile("unterminated", "a\nb");
  const std::string empty = dir.WriteFile("empty", "");
  const std::string blank = dir.WriteFile("blank", "\n");
  for (size_t chunk : {size_t{1}, size_t{2}, kDefaultChunkSize}) {
    KindRun run = RunNamed(NewLineCountKind(chunk), "linecount",
                           {two, unterminated, empty, blank});
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.output, absl::StrCat(two, "\t2\n", unterminated, "\t2\n",
                                       empty, "\t0\n", blank, "\t1\n"));
    EXPECT_EQ(run.summary, "5 lines");
  }
}

TEST(LineCountTest, DirectoryFails) {
  TempDir dir;
  KindRun run = RunNamed(NewLineCountKind(), "linecount", {dir.path()});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(run.status.message(), HasSubstr(dir.path()));
}

TEST(GrepTest, PrintsMatchingLinesWithPathAndLineNumber) {
  TempDir dir;
  const std::string file =
      dir.WriteFile("in.txt", "foo\nbar\nxfooo\n\nfo\nlast foo");
  for (size_t chunk : {size_t{1}, size_t{3}, kDefaultChunkSize}) {
    KindRun run =
        RunNamed(NewGrepKind(chunk), "grep", {file}, {{"pattern", "fo{2,}"}});
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.output, absl::StrCat(file, ":1:foo\n", file, ":3:xfooo\n",
                                       file, ":6:last foo\n"));
    EXPECT_EQ(run.summary, "3 matching lines");
  }
}

TEST(GrepTest, AnchorsApplyPerLine) {
  TempDir dir;
  const std::string file = dir.WriteFile("in.txt", "ab\nba\nb\n");
  KindRun run = RunNamed(NewGrepKind(), "grep", {file}, {{"pattern", "^b"}});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, absl::StrCat(file, ":2:ba\n", file, ":3:b\n"));
}

TEST(GrepTest, BadPatternFails) {
  TempDir dir;
  const std::string file = dir.WriteFile("in.txt", "x\n");
  KindRun run =
      RunNamed(NewGrepKind(), "grep", {file}, {{"pattern", "(unclosed"}});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(run.status.message(), HasSubstr("settings.pattern"));

  run = RunNamed(NewGrepKind(), "grep", {file});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(run.status.message(), HasSubstr("settings.pattern"));
}

TEST(Sha256Test, MatchesSha256sumOutput) {
  TempDir dir;
  const std::string abc = dir.WriteFile("abc", "abc");
  for (size_t chunk : {size_t{1}, kDefaultChunkSize}) {
    KindRun run = RunNamed(NewSha256Kind(chunk), "sha256", {abc});
    ASSERT_TRUE(run.status.ok()) << run.status;
    EXPECT_EQ(run.output, absl::StrCat(kAbcSha256, "  ", abc, "\n"));
    EXPECT_EQ(run.summary, kAbcSha256);
  }
  const std::string empty = dir.WriteFile("empty", "");
  KindRun run = RunNamed(NewSha256Kind(), "sha256", {abc, empty});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, absl::StrCat(kAbcSha256, "  ", abc, "\n", kEmptySha256,
                                     "  ", empty, "\n"));
  EXPECT_EQ(run.summary, "2 files");
}

TEST(Sha256Test, EscapesNamesLikeCoreutils) {
  TempDir dir;
  const std::string odd = dir.WriteFile("a\\b\nc", "abc");
  KindRun run = RunNamed(NewSha256Kind(), "sha256", {odd});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output,
            absl::StrCat("\\", kAbcSha256, "  ", dir.path(), "/a\\\\b\\nc\n"));
}

TEST(Sha256Test, MissingFileFails) {
  TempDir dir;
  KindRun run = RunNamed(NewSha256Kind(), "sha256", {dir.Join("nope")});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(run.status.message(), HasSubstr("nope"));
}

TEST(SleepTest, SleepsAndReports) {
  KindRun run = RunNamed(NewSleepKind(), "sleep", {}, {{"ms", "5"}});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, "");
  EXPECT_EQ(run.summary, "slept 5 ms");
}

TEST(SleepTest, CancelStopsItAtOnce) {
  auto kind = NewSleepKind();
  const auto assignment =
      MakeAssignment("job-000001.0.1", "sleep", {}, "", {{"ms", "3600000"}});
  CancelFlag cancel;
  KindRun run;
  const absl::Time start = absl::Now();
  std::thread sleeper([&] { run = RunKind(*kind, assignment, &cancel); });
  cancel.Cancel();
  sleeper.join();
  EXPECT_EQ(run.status.code(), absl::StatusCode::kCancelled);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(SleepTest, BadMsFails) {
  KindRun run = RunNamed(NewSleepKind(), "sleep", {}, {{"ms", "soon"}});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(run.status.message(), HasSubstr("settings.ms"));
  run = RunNamed(NewSleepKind(), "sleep", {});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(NoopTest, DoesNothing) {
  KindRun run = RunNamed(NewNoopKind(), "noop", {});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, "");
  EXPECT_EQ(run.summary, "");
}

TEST(FlakyTest, FailsTheFirstAttemptsThenSucceedsLikeNoop) {
  auto kind = NewFlakyKind();
  for (int attempt = 1; attempt <= 5; ++attempt) {
    quarry::v1::Assignment assignment =
        MakeAssignment(absl::StrCat("job-000001.0.", attempt), "flaky", {}, "",
                       {{"fail_attempts", "3"}});
    assignment.set_attempt_number(attempt);
    const KindRun run = RunKind(*kind, assignment);
    if (attempt <= 3) {
      EXPECT_FALSE(run.status.ok()) << attempt;
      EXPECT_NE(run.status.code(), absl::StatusCode::kCancelled);
      EXPECT_EQ(run.status.message(),
                absl::StrCat("flaky: attempt ", attempt,
                             " of the first 3 fails on purpose"));
    } else {
      EXPECT_TRUE(run.status.ok()) << attempt << ": " << run.status;
      EXPECT_EQ(run.output, "");
      EXPECT_EQ(run.summary, "");
    }
  }
}

TEST(FlakyTest, ZeroNeverFailsAndBadSettingsFail) {
  KindRun run = RunNamed(NewFlakyKind(), "flaky", {}, {{"fail_attempts", "0"}});
  EXPECT_TRUE(run.status.ok()) << run.status;
  run = RunNamed(NewFlakyKind(), "flaky", {}, {{"fail_attempts", "many"}});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(run.status.message(), HasSubstr("settings.fail_attempts"));
  run = RunNamed(NewFlakyKind(), "flaky", {});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(KindRegistryTest, FindsEveryBuiltInKind) {
  auto registry = NewBuiltInKindRegistry();
  for (const char* name :
       {"wordcount", "linecount", "grep", "sha256", "sleep", "noop", "flaky"}) {
    EXPECT_TRUE(registry->Find(name, false).ok()) << name;
  }
  EXPECT_TRUE(registry->Find("wordcount", true).ok());
}

TEST(KindRegistryTest, ExplainsWhatIsMissing) {
  auto registry = NewBuiltInKindRegistry();
  absl::StatusOr<const JobKind*> found = registry->Find("frobnicate", false);
  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(found.status().message(),
              HasSubstr("unknown kind \"frobnicate\""));
  EXPECT_THAT(found.status().message(), HasSubstr("wordcount"));
  found = registry->Find("grep", true);
  EXPECT_THAT(found.status().message(), HasSubstr("has no reduce step"));
}

TEST(FileUtilTest, ForEachLineSplitsLinesAcrossChunks) {
  TempDir dir;
  const std::string file = dir.WriteFile("in.txt", "one\n\nthree\nfour");
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{5}, kDefaultChunkSize}) {
    std::vector<std::string> lines;
    CancelFlag never;
    absl::Status status =
        ForEachLine(BeneathOpener(), file, chunk, never,
                    [&](absl::string_view line, int64_t number) {
                      lines.push_back(absl::StrCat(number, ":", line));
                      return absl::OkStatus();
                    });
    ASSERT_TRUE(status.ok()) << status;
    EXPECT_THAT(lines,
                ::testing::ElementsAre("1:one", "2:", "3:three", "4:four"));
  }
}

TEST(FileUtilTest, RefusesNonRegularFiles) {
  TempDir dir;
  const std::string fifo = dir.Join("fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  CancelFlag never;
  absl::Status status =
      ReadFileChunks(BeneathOpener(), fifo, 16, never,
                     [](absl::string_view) { return absl::OkStatus(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(status.message(), HasSubstr("not a regular file"));
}

TEST(FileUtilTest, UnreadableFileFails) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their mode";
  TempDir dir;
  const std::string file = dir.WriteFile("secret", "x");
  ASSERT_EQ(chmod(file.c_str(), 0), 0);
  CancelFlag never;
  absl::Status status =
      ReadFileChunks(BeneathOpener(), file, 16, never,
                     [](absl::string_view) { return absl::OkStatus(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace quarry::worker

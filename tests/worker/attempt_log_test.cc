#include "worker/attempt_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testing/fake_clock.h"
#include "tests/worker/test_util.h"

namespace quarry::worker {
namespace {

using testing::FileExists;
using testing::ListDir;
using testing::ReadFileOrMissing;
using testing::TempDir;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

class AttemptLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<AttemptLogStore> OpenStore(
      AttemptLogStore::Options options = {}) {
    if (options.dir.empty()) options.dir = dir_.Join("logs");
    absl::StatusOr<std::unique_ptr<AttemptLogStore>> store =
        AttemptLogStore::Open(options, &clock_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Creates the log of `id` with one line and finishes it.
  void WriteFinished(AttemptLogStore& store, const std::string& id) {
    store.Create(id)->Finish(absl::StrCat(id, " ended"));
  }

  TempDir dir_;
  quarry::testing::FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
};

TEST_F(AttemptLogTest, WritesTimestampedPrintableLines) {
  const std::string path = dir_.Join("a.log");
  AttemptLog log(path, 4096, &clock_);
  log.Append("started");
  clock_.Advance(absl::Milliseconds(1500));
  log.Append("bad \x01 bytes\n\xff here\tand a tab");
  EXPECT_FALSE(log.finished());
  log.Finish("attempt ended DONE");
  EXPECT_TRUE(log.finished());
  log.Append("after the end");  // Ignored.
  EXPECT_EQ(ReadFileOrMissing(path),
            "2023-11-14T22:13:20.000000Z started\n"
            "2023-11-14T22:13:21.500000Z bad \\x01 bytes\\x0a\\xff here\tand a "
            "tab\n"
            "2023-11-14T22:13:21.500000Z attempt ended DONE\n");
}

TEST_F(AttemptLogTest, StopsAtItsBoundWithAMarker) {
  const std::string path = dir_.Join("big.log");
  AttemptLog log(path, 1024, &clock_);
  const std::string line(100, 'x');  // 129 bytes with time and newline.
  for (int i = 0; i < 100; ++i) log.Append(line);
  log.Finish("attempt ended DONE");
  const std::string content = ReadFileOrMissing(path);
  EXPECT_THAT(content, EndsWith(absl::StrCat(
                           "\n", kAttemptLogTruncatedMarker, "\n")));
  EXPECT_LE(content.size(), 1024 + kAttemptLogTruncatedMarker.size() + 1);
  EXPECT_EQ(content.find("attempt ended"), std::string::npos);
  // Seven whole lines fit in 1024 bytes, then the marker.
  EXPECT_EQ(std::count(content.begin(), content.end(), '\n'), 8);
}

TEST_F(AttemptLogTest, DefaultLogDiscards) {
  AttemptLog log;
  log.Append("nowhere");
  log.Finish("done");
  EXPECT_TRUE(log.finished());
}

TEST_F(AttemptLogTest, StoreReadsWhatAnAttemptWroteWhileItRuns) {
  std::unique_ptr<AttemptLogStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::shared_ptr<AttemptLog> log = store->Create("job-000001.3.1");
  log->Append("started");
  absl::StatusOr<AttemptLogStore::Contents> read =
      store->Read("job-000001.3.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->text, HasSubstr(" started\n"));
  EXPECT_FALSE(read->finished);
  EXPECT_FALSE(read->truncated);

  log->Finish("attempt ended DONE");
  log.reset();
  read = store->Read("job-000001.3.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->text, HasSubstr(" attempt ended DONE\n"));
  EXPECT_TRUE(read->finished);
  EXPECT_EQ(ListDir(store->dir()), std::vector<std::string>{"job-000001.3.1.log"});
}

TEST_F(AttemptLogTest, StoreReportsTruncation) {
  AttemptLogStore::Options options;
  options.max_bytes = 1024;
  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  std::shared_ptr<AttemptLog> log = store->Create("job-000001.0.1");
  for (int i = 0; i < 50; ++i) log->Append(std::string(100, 'y'));
  log->Finish("end");
  absl::StatusOr<AttemptLogStore::Contents> read =
      store->Read("job-000001.0.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->truncated);
}

TEST_F(AttemptLogTest, UnknownAndBadIds) {
  std::unique_ptr<AttemptLogStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<AttemptLogStore::Contents> read = store->Read("job-9.0.1");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(read.status().message(),
              HasSubstr("no log of attempt job-9.0.1 here"));
  EXPECT_EQ(store->Read("../etc/passwd").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Read("").status().code(),
            absl::StatusCode::kInvalidArgument);
  // An id that cannot name a file gets a log that writes nothing.
  store->Create("a/b")->Finish("x");
  EXPECT_THAT(ListDir(store->dir()), IsEmpty());
}

TEST_F(AttemptLogTest, KeepsTheNewestLogs) {
  AttemptLogStore::Options options;
  options.keep = 3;
  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 5; ++i) {
    clock_.Advance(absl::Seconds(1));
    WriteFinished(*store, absl::StrCat("job-000001.", i, ".1"));
  }
  EXPECT_THAT(store->AttemptIds(),
              ElementsAre("job-000001.3.1", "job-000001.4.1", "job-000001.5.1"));
  EXPECT_THAT(ListDir(store->dir()),
              ElementsAre("job-000001.3.1.log", "job-000001.4.1.log",
                          "job-000001.5.1.log"));
  EXPECT_EQ(store->Read("job-000001.1.1").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(AttemptLogTest, NeverRemovesALogStillWritten) {
  AttemptLogStore::Options options;
  options.keep = 2;
  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  std::shared_ptr<AttemptLog> running = store->Create("job-000001.0.1");
  for (int i = 1; i <= 4; ++i) {
    WriteFinished(*store, absl::StrCat("job-000001.", i, ".1"));
  }
  EXPECT_THAT(store->AttemptIds(),
              ElementsAre("job-000001.0.1", "job-000001.4.1"));
  running->Append("still here");
  running->Finish("done");
  WriteFinished(*store, "job-000001.5.1");  // Now the long one may go.
  EXPECT_THAT(store->AttemptIds(),
              ElementsAre("job-000001.4.1", "job-000001.5.1"));
}

TEST_F(AttemptLogTest, RemovesLogsOlderThanMaxAge) {
  AttemptLogStore::Options options;
  options.max_age = absl::Hours(1);
  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  WriteFinished(*store, "job-000001.0.1");
  clock_.Advance(absl::Minutes(50));
  WriteFinished(*store, "job-000001.1.1");
  clock_.Advance(absl::Minutes(11));
  EXPECT_EQ(store->Read("job-000001.0.1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store->Read("job-000001.1.1").ok());
  EXPECT_THAT(ListDir(store->dir()), ElementsAre("job-000001.1.1.log"));
}

TEST_F(AttemptLogTest, ARestartedWorkerServesTheLogsOfItsDirectory) {
  AttemptLogStore::Options options;
  options.keep = 2;
  {
    std::unique_ptr<AttemptLogStore> store = OpenStore(options);
    ASSERT_NE(store, nullptr);
    WriteFinished(*store, "job-000001.0.1");
  }
  // Not logs: ignored, never deleted.
  quarry::testing::WriteFile(dir_.Join("logs/notes.txt"), "keep me");
  quarry::testing::WriteFile(dir_.Join("logs/job-000002.0.1.log"), "older\n");
  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->AttemptIds().size(), 2u);
  absl::StatusOr<AttemptLogStore::Contents> read =
      store->Read("job-000001.0.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->finished);
  EXPECT_THAT(read->text, HasSubstr("job-000001.0.1 ended"));
  WriteFinished(*store, "job-000003.0.1");
  EXPECT_EQ(store->AttemptIds().size(), 2u);
  EXPECT_TRUE(FileExists(dir_.Join("logs/notes.txt")));
}

TEST_F(AttemptLogTest, ATemporaryDirectoryGoesWithTheStore) {
  std::string dir;
  {
    absl::StatusOr<std::unique_ptr<AttemptLogStore>> store =
        AttemptLogStore::Open({}, &clock_);
    ASSERT_TRUE(store.ok()) << store.status();
    dir = (*store)->dir();
    WriteFinished(**store, "job-000001.0.1");
    EXPECT_TRUE(FileExists(dir + "/job-000001.0.1.log"));
  }
  EXPECT_FALSE(FileExists(dir));
}

TEST_F(AttemptLogTest, BadOptionsNameTheFlag) {
  AttemptLogStore::Options options;
  options.max_bytes = 10;
  EXPECT_THAT(AttemptLogStore::Open(options, &clock_).status().message(),
              HasSubstr("--attempt_log_max_bytes must be between 1024"));
  options = {};
  options.keep = 0;
  EXPECT_THAT(AttemptLogStore::Open(options, &clock_).status().message(),
              HasSubstr("--attempt_log_keep"));
  options = {};
  options.max_age = absl::ZeroDuration();
  EXPECT_THAT(AttemptLogStore::Open(options, &clock_).status().message(),
              HasSubstr("--attempt_log_max_age"));
  options = {};
  options.dir = dir_.WriteFile("plain-file", "x");
  EXPECT_THAT(AttemptLogStore::Open(options, &clock_).status().message(),
              HasSubstr("--attempt_log_dir"));
}

}  // namespace
}  // namespace quarry::worker

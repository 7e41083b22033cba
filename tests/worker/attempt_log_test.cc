// The per-attempt log sink (AttemptLog) and the worker's store of them
// (AttemptLogStore): bound per attempt, retention, segments, restarts.
#include "worker/attempt_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/testing/fake_clock.h"
#include "tests/worker/test_util.h"
#include "worker/attempt_log_store.h"

namespace quarry::worker {
namespace {

using ::testing::ElementsAre;
using ::testing::EndsWith;
using testing::FileExists;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::ListDir;
using testing::ReadFileOrMissing;
using testing::TempDir;

class AttemptLogTest : public ::testing::Test {
 protected:
  // A store that flushes only when told (Sync) or when a batch is full,
  // unless the test sets flush_interval.
  std::unique_ptr<AttemptLogStore> OpenStore(
      AttemptLogStore::Options options = {}) {
    if (options.dir.empty()) options.dir = dir_.Join("logs");
    if (options.flush_interval == AttemptLogStore::Options().flush_interval) {
      options.flush_interval = absl::Hours(1);
    }
    absl::StatusOr<std::unique_ptr<AttemptLogStore>> store =
        AttemptLogStore::Open(options, &clock_);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // Runs the log of `id` to its end: one line, then the last.
  void WriteFinished(AttemptLogStore& store, const std::string& id,
                     const std::string& line = "working") {
    std::shared_ptr<AttemptLog> log = store.NewLog(id);
    log->Append(line);
    log->Finish(absl::StrCat(id, " ended"));
    log->Persist();
  }

  TempDir dir_;
  quarry::testing::FakeClock clock_{absl::FromUnixSeconds(1'700'000'000)};
};

TEST_F(AttemptLogTest, WritesTimestampedPrintableLines) {
  std::string persisted;
  AttemptLog log(4096, &clock_,
                 [&](const std::string& text, bool) { persisted = text; });
  log.Append("started");
  clock_.Advance(absl::Milliseconds(1500));
  log.Append("bad \x01 bytes\n\xff here\tand a tab");
  EXPECT_FALSE(log.finished());
  EXPECT_EQ(persisted, "");
  log.Finish("attempt ended DONE");
  EXPECT_TRUE(log.finished());
  log.Append("after the end");  // Ignored.
  log.Finish("twice");          // Ignored.
  EXPECT_EQ(persisted, "");
  log.Persist();
  log.Persist();  // Once only.
  const std::string expected =
      "2023-11-14T22:13:20.000000Z started\n"
      "2023-11-14T22:13:21.500000Z bad \\x01 bytes\\x0a\\xff here\tand a tab\n"
      "2023-11-14T22:13:21.500000Z attempt ended DONE\n";
  EXPECT_EQ(log.text(), expected);
  EXPECT_EQ(persisted, expected);
}

TEST_F(AttemptLogTest, StopsAtItsBoundWithAMarker) {
  bool persisted_truncated = false;
  AttemptLog log(1024, &clock_, [&](const std::string&, bool truncated) {
    persisted_truncated = truncated;
  });
  const std::string line(100, 'x');  // 129 bytes with time and newline.
  for (int i = 0; i < 100; ++i) log.Append(line);
  log.Finish("attempt ended DONE");
  log.Persist();
  const std::string text = log.text();
  EXPECT_THAT(text,
              EndsWith(absl::StrCat("\n", kAttemptLogTruncatedMarker, "\n")));
  EXPECT_LE(text.size(), 1024 + kAttemptLogTruncatedMarker.size() + 1);
  EXPECT_EQ(text.find("attempt ended"), std::string::npos);
  // Seven whole lines fit in 1024 bytes, then the marker.
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 8);
  EXPECT_TRUE(log.truncated());
  EXPECT_TRUE(persisted_truncated);
}

TEST_F(AttemptLogTest, DefaultLogDiscards) {
  AttemptLog log;
  log.Append("nowhere");
  log.Finish("done");
  EXPECT_TRUE(log.finished());
  EXPECT_EQ(log.text(), "");
}

TEST_F(AttemptLogTest, StoreServesALogOnceItIsPersisted) {
  std::unique_ptr<AttemptLogStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  std::shared_ptr<AttemptLog> log = store->NewLog("job-000001.3.1");
  log->Append("started");
  // While it runs, its owner (the slot executor) serves it.
  EXPECT_EQ(store->Read("job-000001.3.1").status().code(),
            absl::StatusCode::kNotFound);
  log->Finish("attempt ended DONE");
  log->Persist();
  log.reset();
  absl::StatusOr<AttemptLogStore::Contents> read =
      store->Read("job-000001.3.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->text,
            "2023-11-14T22:13:20.000000Z started\n"
            "2023-11-14T22:13:20.000000Z attempt ended DONE\n");
  EXPECT_TRUE(read->finished);
  EXPECT_FALSE(read->truncated);
  // In memory until a batch is full (or Sync).
  EXPECT_THAT(store->SegmentFiles(), IsEmpty());
  store->Sync();
  read = store->Read("job-000001.3.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->text, EndsWith(" attempt ended DONE\n"));
  // One record in one segment file.
  EXPECT_THAT(store->SegmentFiles(), ElementsAre("segment-000001.log"));
  EXPECT_THAT(ReadFileOrMissing(store->dir() + "/segment-000001.log"),
              ::testing::StartsWith("QUARRY-ATTEMPT-LOG job-000001.3.1 "
                                    "1700000000000000 83 0\n"));
}

TEST_F(AttemptLogTest, StoreReportsTruncation) {
  AttemptLogStore::Options options;
  options.max_bytes = 1024;
  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  WriteFinished(*store, "job-000001.0.1", std::string(2000, 'y'));
  absl::StatusOr<AttemptLogStore::Contents> read =
      store->Read("job-000001.0.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->truncated);
  EXPECT_THAT(read->text, HasSubstr(kAttemptLogTruncatedMarker));
}

TEST_F(AttemptLogTest, UnknownAndBadIds) {
  std::unique_ptr<AttemptLogStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  absl::StatusOr<AttemptLogStore::Contents> read = store->Read("job-9.0.1");
  EXPECT_EQ(read.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(read.status().message(),
            "no log of attempt job-9.0.1 here: this worker did not run it, "
            "or retention removed it");
  EXPECT_EQ(store->Read("../etc/passwd").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store->Read("").status().code(),
            absl::StatusCode::kInvalidArgument);
  // An id that cannot name a file gets a log that keeps nothing.
  std::shared_ptr<AttemptLog> bad = store->NewLog("a/b");
  bad->Finish("x");
  bad->Persist();
  EXPECT_THAT(store->SegmentFiles(), IsEmpty());
}

TEST_F(AttemptLogTest, KeepsTheNewestLogs) {
  AttemptLogStore::Options options;
  options.keep = 3;
  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 5; ++i) {
    WriteFinished(*store, absl::StrCat("job-000001.", i, ".1"));
  }
  EXPECT_THAT(
      store->FinishedAttemptIds(),
      ElementsAre("job-000001.3.1", "job-000001.4.1", "job-000001.5.1"));
  EXPECT_EQ(store->Read("job-000001.1.1").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(store->Read("job-000001.5.1").ok());
}

TEST_F(AttemptLogTest, RetentionFollowsTheOrderLogsEnded) {
  AttemptLogStore::Options options;
  options.keep = 1;
  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  std::shared_ptr<AttemptLog> long_one = store->NewLog("job-000001.0.1");
  long_one->Append("long work");
  for (int i = 1; i <= 4; ++i) {
    WriteFinished(*store, absl::StrCat("job-000001.", i, ".1"));
  }
  EXPECT_THAT(store->FinishedAttemptIds(), ElementsAre("job-000001.4.1"));
  long_one->Finish("done");
  long_one->Persist();
  EXPECT_THAT(store->FinishedAttemptIds(), ElementsAre("job-000001.0.1"));
  absl::StatusOr<AttemptLogStore::Contents> read =
      store->Read("job-000001.0.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->text, HasSubstr("long work"));
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
  EXPECT_THAT(store->FinishedAttemptIds(), ElementsAre("job-000001.1.1"));
}

TEST_F(AttemptLogTest, DiskUseIsBoundedBySegments) {
  // 1 KiB logs, 2 KiB segments, keep 3: a new segment every ~2 logs and
  // the old ones deleted once none of their logs is kept.
  AttemptLogStore::Options options;
  options.max_bytes = 1024;
  options.segment_bytes = 2048;
  options.keep = 3;
  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  for (int i = 0; i < 200; ++i) {
    WriteFinished(*store, absl::StrCat("job-000001.", i, ".1"),
                  std::string(800, 'z'));
  }
  EXPECT_EQ(store->FinishedAttemptIds().size(), 3u);
  EXPECT_LE(store->SegmentFiles().size(), 3u);
  std::uintmax_t bytes = 0;
  for (const std::string& name : store->SegmentFiles()) {
    bytes += std::filesystem::file_size(store->dir() + "/" + name);
  }
  EXPECT_LE(bytes, 3u * 2048);
  absl::StatusOr<AttemptLogStore::Contents> read =
      store->Read("job-000001.199.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->text, HasSubstr(std::string(800, 'z')));
}

TEST_F(AttemptLogTest, WritesToDiskInBatches) {
  std::unique_ptr<AttemptLogStore> store = OpenStore();
  ASSERT_NE(store, nullptr);
  const std::string line(1000, 'b');
  int written = 0;
  while (store->SegmentFiles().empty() && written < 1000) {
    WriteFinished(*store, absl::StrCat("job-000001.", written++, ".1"), line);
  }
  // About kFlushBytes / 1.1 KiB logs made the first batch.
  EXPECT_GE(written, 50);
  EXPECT_LE(written, 70);
  EXPECT_TRUE(store->Read("job-000001.0.1").ok());
  WriteFinished(*store, "job-000002.0.1");  // In memory only.
  absl::StatusOr<AttemptLogStore::Contents> read =
      store->Read("job-000002.0.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_THAT(read->text, HasSubstr("job-000002.0.1 ended"));
}

TEST_F(AttemptLogTest, ABackgroundFlushWritesWithinTheInterval) {
  AttemptLogStore::Options options;
  options.flush_interval = absl::Milliseconds(10);
  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  WriteFinished(*store, "job-000001.0.1");
  // The flusher runs on real time: wait for its file, bounded.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (store->SegmentFiles().empty() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_THAT(store->SegmentFiles(), ElementsAre("segment-000001.log"));
  EXPECT_THAT(ReadFileOrMissing(store->dir() + "/segment-000001.log"),
              HasSubstr("job-000001.0.1 ended"));
}

TEST_F(AttemptLogTest, ARestartedWorkerServesTheLogsOfItsDirectory) {
  AttemptLogStore::Options options;
  options.keep = 2;
  {
    std::unique_ptr<AttemptLogStore> store = OpenStore(options);
    ASSERT_NE(store, nullptr);
    WriteFinished(*store, "job-000001.0.1", "first run");
    WriteFinished(*store, "job-000001.1.1", "first run");
  }
  // A torn record at the end (a crash mid-write) and a file that is not a
  // segment.
  {
    std::ofstream out(dir_.Join("logs/segment-000001.log"), std::ios::app);
    out << "QUARRY-ATTEMPT-LOG job-000001.2.1 1700000000000000 500 0\nab";
  }
  quarry::testing::WriteFile(dir_.Join("logs/notes.txt"), "keep me");

  std::unique_ptr<AttemptLogStore> store = OpenStore(options);
  ASSERT_NE(store, nullptr);
  EXPECT_THAT(store->FinishedAttemptIds(),
              ElementsAre("job-000001.0.1", "job-000001.1.1"));
  absl::StatusOr<AttemptLogStore::Contents> read =
      store->Read("job-000001.1.1");
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(read->finished);
  EXPECT_THAT(read->text, HasSubstr(" first run\n"));
  EXPECT_EQ(store->Read("job-000001.2.1").status().code(),
            absl::StatusCode::kNotFound);

  // New logs go to a new segment; the old one goes once nothing in it is
  // kept.
  WriteFinished(*store, "job-000002.0.1");
  WriteFinished(*store, "job-000002.1.1");
  store->Sync();
  EXPECT_THAT(store->SegmentFiles(), ElementsAre("segment-000002.log"));
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
    (*store)->Sync();
    EXPECT_THAT(ListDir(dir), ElementsAre("segment-000001.log"));
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

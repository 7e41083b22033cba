#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/worker/kinds/kind_test_util.h"
#include "tests/worker/test_util.h"
#include "worker/kinds/builtin_kinds.h"

namespace quarry::worker {
namespace {

using ::testing::HasSubstr;
using testing::KindRun;
using testing::MakeAssignment;
using testing::RunKind;
using testing::TempDir;

KindRun CountWords(const std::vector<std::string>& inputs,
                   size_t chunk_size = kDefaultChunkSize) {
  return RunKind(*NewWordCountMapKind(chunk_size),
                 MakeAssignment("job-000001.0.1", "wordcount", inputs));
}

TEST(WordCountMapTest, CountsLowercasedWordsSortedByWord) {
  TempDir dir;
  const std::string file =
      dir.WriteFile("in.txt", "Hello, world! HELLO hello-World\nzebra apple\n");
  KindRun run = CountWords({file});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, "apple\t1\nhello\t3\nworld\t2\nzebra\t1\n");
  EXPECT_EQ(run.summary, "7 words, 4 distinct");
}

TEST(WordCountMapTest, WordsSpanningChunkBoundariesCountOnce) {
  TempDir dir;
  const std::string text =
      "The quick brown fox jumps over the lazy dog. THE END, the end!\n"
      "supercalifragilistic x y zz";
  const std::string file = dir.WriteFile("in.txt", text);
  const KindRun whole = CountWords({file});
  ASSERT_TRUE(whole.status.ok()) << whole.status;
  EXPECT_EQ(whole.summary, "17 words, 13 distinct");
  for (size_t chunk = 1; chunk <= 9; ++chunk) {
    const KindRun chunked = CountWords({file}, chunk);
    ASSERT_TRUE(chunked.status.ok()) << chunked.status;
    EXPECT_EQ(chunked.output, whole.output) << "chunk size " << chunk;
    EXPECT_EQ(chunked.summary, whole.summary) << "chunk size " << chunk;
  }
}

TEST(WordCountMapTest, ShortAndLongWordsAreCountedAlike) {
  // Words of up to 8 letters and longer ones are kept apart inside the
  // counter; prefixes of one another must stay distinct words.
  TempDir dir;
  std::string text, want;
  const std::string letters = "abcdefghijkl";
  for (size_t size = 1; size <= letters.size(); ++size) {
    const std::string word = letters.substr(0, size);
    for (size_t i = 0; i < size; ++i) absl::StrAppend(&text, word, " ");
    absl::StrAppend(&want, word, "\t", size, "\n");
  }
  const std::string file = dir.WriteFile("in.txt", text + "ABCDEFGH");
  for (size_t chunk : {size_t{3}, size_t{7}, kDefaultChunkSize}) {
    const KindRun run = CountWords({file}, chunk);
    ASSERT_TRUE(run.status.ok()) << run.status;
    // "abcdefgh" once more at the very end of the file (no separator).
    std::string expected = want;
    const size_t at = expected.find("abcdefgh\t8");
    expected.replace(at, 10, "abcdefgh\t9");
    EXPECT_EQ(run.output, expected) << "chunk size " << chunk;
    EXPECT_EQ(run.summary, "79 words, 12 distinct");
  }
}

TEST(WordCountMapTest, EveryNonLetterByteSeparatesWords) {
  TempDir dir;
  const std::string text("abc\0def\x80ghi\xffJKL1mno_pqr\xc3\xa9stu", 28);
  const std::string file = dir.WriteFile("in.bin", text);
  KindRun run = CountWords({file}, 3);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output,
            "abc\t1\ndef\t1\nghi\t1\njkl\t1\nmno\t1\npqr\t1\nstu\t1\n");
  EXPECT_EQ(run.summary, "7 words, 7 distinct");
}

TEST(WordCountMapTest, EmptyFileAndNoTrailingNewline) {
  TempDir dir;
  const std::string empty = dir.WriteFile("empty.txt", "");
  KindRun run = CountWords({empty});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, "");
  EXPECT_EQ(run.summary, "0 words, 0 distinct");

  const std::string unterminated = dir.WriteFile("last.txt", "one two");
  run = CountWords({unterminated}, 2);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, "one\t1\ntwo\t1\n");
}

TEST(WordCountMapTest, WordsDoNotSpanFiles) {
  TempDir dir;
  const std::string a = dir.WriteFile("a.txt", "foo ab");
  const std::string b = dir.WriteFile("b.txt", "cd foo");
  KindRun run = CountWords({a, b});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, "ab\t1\ncd\t1\nfoo\t2\n");
}

TEST(WordCountMapTest, BadInputsFailWithClearErrors) {
  TempDir dir;
  KindRun run = CountWords({dir.Join("missing.txt")});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(run.status.message(), HasSubstr("missing.txt"));

  run = CountWords({dir.path()});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(run.status.message(), HasSubstr("is a directory"));

  const std::string file = dir.WriteFile("file.txt", "x");
  run = CountWords({file + "/below"});
  EXPECT_FALSE(run.status.ok());
  EXPECT_THAT(run.status.message(), HasSubstr("file.txt/below"));

  run = CountWords({});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);
}

TEST(WordCountMapTest, StopsWhenCancelled) {
  TempDir dir;
  const std::string file = dir.WriteFile("in.txt", "a b c");
  CancelFlag cancel;
  cancel.Cancel();
  KindRun run =
      RunKind(*NewWordCountMapKind(),
              MakeAssignment("job-000001.0.1", "wordcount", {file}), &cancel);
  EXPECT_EQ(run.status.code(), absl::StatusCode::kCancelled);
}

KindRun Reduce(const std::vector<std::string>& parts, size_t chunk_size = 4) {
  quarry::v1::Assignment assignment =
      MakeAssignment("job-000001.2.1", "wordcount", parts);
  assignment.set_is_reduce(true);
  return RunKind(*NewWordCountReduceKind(chunk_size), assignment);
}

TEST(WordCountReduceTest, SumsAndSortsByCountThenWord) {
  TempDir dir;
  const std::string part0 = dir.WriteFile("part-00000", "a\t2\nb\t5\ne\t3\n");
  const std::string part1 =
      dir.WriteFile("part-00001", "a\t3\nc\t5\nd\t1\ne\t4\n");
  const std::string empty = dir.WriteFile("part-00002", "");
  KindRun run = Reduce({part0, part1, empty});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, "e\t7\na\t5\nb\t5\nc\t5\nd\t1\n");
  EXPECT_EQ(run.summary, "e=7 a=5 b=5 c=5 d=1");
}

TEST(WordCountReduceTest, SummaryHasTopTenOnly) {
  TempDir dir;
  std::string part;
  for (char c = 'a'; c <= 'l'; ++c) {
    absl::StrAppend(&part, std::string(1, c), "\t", 100 - (c - 'a'), "\n");
  }
  KindRun run = Reduce({dir.WriteFile("part-00000", part)});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.summary, "a=100 b=99 c=98 d=97 e=96 f=95 g=94 h=93 i=92 j=91");
}

TEST(WordCountReduceTest, SummaryStaysUnderOneKiB) {
  TempDir dir;
  const std::string long_word(600, 'w');
  const std::string part =
      absl::StrCat(long_word, "a\t3\n", long_word, "b\t2\n", "c\t1\n");
  KindRun run = Reduce({dir.WriteFile("part-00000", part)});
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_LE(run.summary.size(), 1024u);
  EXPECT_EQ(run.summary, absl::StrCat(long_word, "a=3"));
}

TEST(WordCountReduceTest, MapThenReduceRoundTrip) {
  TempDir dir;
  const std::string in0 = dir.WriteFile("in0", "the cat and the hat");
  const std::string in1 = dir.WriteFile("in1", "The end. AND");
  const KindRun map0 = CountWords({in0});
  const KindRun map1 = CountWords({in1});
  KindRun run = Reduce({dir.WriteFile("part-00000", map0.output),
                        dir.WriteFile("part-00001", map1.output)},
                       kDefaultChunkSize);
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, "the\t3\nand\t2\ncat\t1\nend\t1\nhat\t1\n");
}

TEST(WordCountReduceTest, MalformedPartFails) {
  TempDir dir;
  const std::string part = dir.WriteFile("part-00000", "a\t1\nbroken line\n");
  KindRun run = Reduce({part});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(run.status.message(), HasSubstr("part-00000\" line 2"));

  run = Reduce({dir.WriteFile("part-00001", "a\t-4\n")});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument);

  run = Reduce({dir.Join("part-missing")});
  EXPECT_EQ(run.status.code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace quarry::worker

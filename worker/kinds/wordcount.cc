// The wordcount kind: a map step that counts the words of its inputs and a
// reduce step that merges the part files into result.tsv.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "worker/file_util.h"
#include "worker/kinds/builtin_kinds.h"
#include "worker/kinds/word_counter.h"

namespace quarry::worker {
namespace {

// Counts keyed by word; find() takes a string_view without building a key.
using WordCounts = WordCountMap;
using WordCount = WordCounts::value_type;

// Maximum summary size (AttemptStatus.summary is at most 1 KiB).
constexpr size_t kMaxSummaryBytes = 1024;
constexpr int kSummaryWords = 10;
// Check for cancellation this often while writing output lines.
constexpr size_t kLinesPerCancelCheck = 1 << 16;

// Writes "word\tcount\n" for each entry, in the given order.
absl::Status WriteCounts(const std::vector<const WordCount*>& entries,
                         const KindContext& context) {
  std::string line;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i % kLinesPerCancelCheck == 0 && context.cancel.cancelled()) {
      return absl::CancelledError("attempt cancelled");
    }
    line.clear();
    absl::StrAppend(&line, entries[i]->first, "\t", entries[i]->second, "\n");
    if (absl::Status status = context.output.Write(line); !status.ok()) {
      return status;
    }
  }
  return absl::OkStatus();
}

std::vector<const WordCount*> Entries(const WordCounts& counts) {
  std::vector<const WordCount*> entries;
  entries.reserve(counts.size());
  for (const WordCount& entry : counts) entries.push_back(&entry);
  return entries;
}

// Sorts (word, count) entries by word in byte order. Words are compared
// by their first 8 bytes as one integer first (most differ there), so the
// sort rarely calls memcmp: several times faster than comparing views.
void SortByWord(std::vector<std::pair<absl::string_view, int64_t>>& entries) {
  struct Keyed {
    uint64_t prefix;  // The first 8 bytes, big-endian, zero-padded.
    uint32_t index;
  };
  std::vector<Keyed> keys(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    const absl::string_view word = entries[i].first;
    uint64_t prefix = 0;
    for (size_t b = 0; b < 8; ++b) {
      prefix = (prefix << 8) |
               (b < word.size() ? static_cast<unsigned char>(word[b]) : 0);
    }
    keys[i] = {prefix, static_cast<uint32_t>(i)};
  }
  std::sort(keys.begin(), keys.end(), [&entries](const Keyed& a, const Keyed& b) {
    if (a.prefix != b.prefix) return a.prefix < b.prefix;
    return entries[a.index].first < entries[b.index].first;
  });
  std::vector<std::pair<absl::string_view, int64_t>> sorted;
  sorted.reserve(entries.size());
  for (const Keyed& key : keys) sorted.push_back(entries[key.index]);
  entries = std::move(sorted);
}

class WordCountMapKind : public JobKind {
 public:
  explicit WordCountMapKind(size_t chunk_size) : chunk_size_(chunk_size) {}

  absl::StatusOr<std::string> Run(const KindContext& context) const override {
    const auto& inputs = context.assignment.inputs();
    if (inputs.empty()) {
      return absl::InvalidArgumentError("wordcount needs at least one input");
    }
    WordCounter counter;
    for (const std::string& input : inputs) {
      absl::Status status =
          ReadFileChunks(context.files, input, chunk_size_, context.cancel,
                         [&](absl::string_view chunk) {
                           counter.Add(chunk);
                           return absl::OkStatus();
                         });
      if (!status.ok()) return status;
      counter.Finish();  // Words never span files.
    }
    std::vector<std::pair<absl::string_view, int64_t>> entries =
        counter.Entries();
    SortByWord(entries);
    // One buffer, one write: a part file is small (a line per distinct
    // word).
    std::string out;
    out.reserve(entries.size() * 16);
    for (const auto& [word, count] : entries) {
      absl::StrAppend(&out, word, "\t", count, "\n");
    }
    if (context.cancel.cancelled()) {
      return absl::CancelledError("attempt cancelled");
    }
    if (absl::Status status = context.output.Write(out); !status.ok()) {
      return status;
    }
    return absl::StrCat(counter.total(), " words, ", counter.distinct(),
                        " distinct");
  }

 private:
  const size_t chunk_size_;
};

class WordCountReduceKind : public JobKind {
 public:
  explicit WordCountReduceKind(size_t chunk_size) : chunk_size_(chunk_size) {}

  absl::StatusOr<std::string> Run(const KindContext& context) const override {
    const auto& inputs = context.assignment.inputs();
    if (inputs.empty()) {
      return absl::InvalidArgumentError(
          "wordcount reduce needs at least one part file as input");
    }
    WordCounts counts;
    for (const std::string& input : inputs) {
      absl::Status status = ForEachLine(
          context.files, input, chunk_size_, context.cancel,
          [&](absl::string_view line, int64_t number) -> absl::Status {
            return AddPartLine(input, line, number, counts);
          });
      if (!status.ok()) return status;
    }
    std::vector<const WordCount*> entries = Entries(counts);
    std::sort(entries.begin(), entries.end(),
              [](const WordCount* a, const WordCount* b) {
                if (a->second != b->second) return a->second > b->second;
                return a->first < b->first;
              });
    if (absl::Status status = WriteCounts(entries, context); !status.ok()) {
      return status;
    }
    std::string summary;
    for (size_t i = 0; i < entries.size() && i < kSummaryWords; ++i) {
      std::string item =
          absl::StrCat(summary.empty() ? "" : " ", entries[i]->first, "=",
                       entries[i]->second);
      if (summary.size() + item.size() > kMaxSummaryBytes) break;
      summary += item;
    }
    return summary;
  }

 private:
  // Parses one "word\tcount" line of a part file into `counts`.
  static absl::Status AddPartLine(absl::string_view path,
                                  absl::string_view line, int64_t number,
                                  WordCounts& counts) {
    const size_t tab = line.find('\t');
    int64_t n = 0;
    if (tab == absl::string_view::npos || tab == 0 ||
        !absl::SimpleAtoi(line.substr(tab + 1), &n) || n < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("input \"", path, "\" line ", number,
                       " is not \"word<TAB>count\": \"",
                       absl::CHexEscape(line.substr(0, 80)), "\""));
    }
    const absl::string_view word = line.substr(0, tab);
    auto it = counts.find(word);
    if (it == counts.end()) {
      counts.emplace(word, n);
    } else if (it->second > std::numeric_limits<int64_t>::max() - n) {
      return absl::OutOfRangeError(absl::StrCat("input \"", path, "\" line ",
                                                number, ": the count of \"",
                                                word, "\" overflows 64 bits"));
    } else {
      it->second += n;
    }
    return absl::OkStatus();
  }

  const size_t chunk_size_;
};

}  // namespace

std::unique_ptr<JobKind> NewWordCountMapKind(size_t chunk_size) {
  return std::make_unique<WordCountMapKind>(chunk_size);
}

std::unique_ptr<JobKind> NewWordCountReduceKind(size_t chunk_size) {
  return std::make_unique<WordCountReduceKind>(chunk_size);
}

}  // namespace quarry::worker

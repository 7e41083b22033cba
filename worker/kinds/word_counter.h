#ifndef QUARRY_WORKER_KINDS_WORD_COUNTER_H_
#define QUARRY_WORKER_KINDS_WORD_COUNTER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace quarry::worker {

// A hash for words (short strings): two overlapping 8-byte (or 4-byte)
// loads and one 128-bit multiply for most words, a third of the
// instructions of absl's general string hash. Transparent: a map keyed by
// std::string is searched with a string_view, without a copy.
struct WordHash {
  using is_transparent = void;
  size_t operator()(absl::string_view word) const;
};
struct WordEq {
  using is_transparent = void;
  bool operator()(absl::string_view a, absl::string_view b) const {
    return a == b;
  }
};
// Word -> count.
using WordCountMap =
    absl::flat_hash_map<std::string, int64_t, WordHash, WordEq>;

// Counts words as the `wordcount` kind defines them (maximal runs of ASCII
// letters, lowercased; every other byte separates words) in text fed in
// pieces of any size: a word may span pieces, never Finish() calls. Built
// for speed: one pass over the text, a table lookup per byte lowercasing
// the letters into one reused buffer, and each word looked up as a view
// into that buffer, so a word costs one hash and no allocation or copy
// unless it is new. Words of up to 8 letters (most of them) are counted in
// a table keyed by the word's bytes as one 64-bit integer: a compact table
// (16 bytes a word) compared with one instruction. Not thread-safe: one
// per attempt.
class WordCounter {
 public:
  // Counts the words of `piece`; the last one may continue in the next.
  void Add(absl::string_view piece);
  // Ends the current word (the end of a file: words never span files).
  void Finish();

  int64_t total() const { return total_; }
  size_t distinct() const { return counts_.size() + short_counts_.size(); }
  // (word, count) for every word, in no particular order. The views stay
  // valid until the counter changes or goes.
  std::vector<std::pair<absl::string_view, int64_t>> Entries();

 private:
  // Counts `word`; at least 8 bytes from word.data() must be readable.
  void Count(absl::string_view word);

  // Words of 1..8 letters, their bytes zero-padded into one integer
  // (letters are never 0, so the padding is unambiguous).
  absl::flat_hash_map<uint64_t, int64_t> short_counts_;
  // Longer words.
  WordCountMap counts_;
  // The short words spelled out, for Entries().
  std::string short_words_;
  int64_t total_ = 0;
  // The word being read, lowercased (it may go on in the next piece), and
  // 8 bytes of room past it. Its capacity grows to the largest piece and
  // is reused.
  std::string text_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_KINDS_WORD_COUNTER_H_

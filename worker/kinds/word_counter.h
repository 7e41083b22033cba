#ifndef QUARRY_WORKER_KINDS_WORD_COUNTER_H_
#define QUARRY_WORKER_KINDS_WORD_COUNTER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace quarry::worker {

// Counts words as the `wordcount` kind defines them (maximal runs of ASCII
// letters, lowercased; every other byte separates words) in text fed in
// pieces of any size: a word may span pieces, never Finish() calls. Built
// for speed: the text is lowercased a piece at a time into one reused
// buffer (a table lookup per byte) and each word is looked up as a view
// into that buffer, so a word costs one hash and no allocation or copy
// unless it is new. About 10% faster than appending letters to a string
// and looking that up. Not thread-safe: one per attempt.
class WordCounter {
 public:
  // Counts the words of `piece`; the last one may continue in the next.
  void Add(absl::string_view piece);
  // Ends the current word (the end of a file: words never span files).
  void Finish();

  int64_t total() const { return total_; }
  size_t distinct() const { return counts_.size(); }
  // (word, count) for every word, in no particular order.
  std::vector<std::pair<absl::string_view, int64_t>> Entries() const;

 private:
  void Count(absl::string_view word);

  // absl's string hash is transparent: find() takes the view into text_
  // and copies it into a key only for a new word.
  absl::flat_hash_map<std::string, int64_t> counts_;
  int64_t total_ = 0;
  // Lowercased text not yet counted: at most the start of a word that may
  // continue in the next piece, then the current piece. Separators are 0.
  std::string text_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_KINDS_WORD_COUNTER_H_

#include "worker/kinds/word_counter.h"

#include <array>

namespace quarry::worker {
namespace {

// kLower[b] is the lowercase form of ASCII letter b, and 0 for every other
// byte (digits, punctuation, NUL, 0x80-0xFF...), which separates words.
constexpr std::array<char, 256> MakeLowerTable() {
  std::array<char, 256> table{};
  for (int c = 'a'; c <= 'z'; ++c) table[c] = static_cast<char>(c);
  for (int c = 'A'; c <= 'Z'; ++c) table[c] = static_cast<char>(c - 'A' + 'a');
  return table;
}
constexpr std::array<char, 256> kLower = MakeLowerTable();

}  // namespace

void WordCounter::Count(absl::string_view word) {
  ++total_;
  auto it = counts_.find(word);
  if (it != counts_.end()) {
    ++it->second;
  } else {
    counts_.emplace(std::string(word), 1);
  }
}

void WordCounter::Add(absl::string_view piece) {
  // Lowercase the piece after the carried start of a word, if any.
  const size_t carried = text_.size();
  text_.resize(carried + piece.size());
  char* const base = text_.data();
  const unsigned char* in =
      reinterpret_cast<const unsigned char*>(piece.data());
  char* out = base + carried;
  for (size_t i = 0; i < piece.size(); ++i) out[i] = kLower[in[i]];

  const char* p = base;
  const char* const end = base + text_.size();
  while (true) {
    while (p < end && *p == 0) ++p;
    const char* const start = p;
    while (p < end && *p != 0) ++p;
    if (p == end) {
      // The word (possibly empty) may go on in the next piece: keep it.
      text_.erase(0, static_cast<size_t>(start - base));
      return;
    }
    Count(absl::string_view(start, static_cast<size_t>(p - start)));
  }
}

void WordCounter::Finish() {
  if (!text_.empty()) Count(text_);
  text_.clear();
}

std::vector<std::pair<absl::string_view, int64_t>> WordCounter::Entries()
    const {
  std::vector<std::pair<absl::string_view, int64_t>> entries;
  entries.reserve(counts_.size());
  for (const auto& [word, count] : counts_) entries.emplace_back(word, count);
  return entries;
}

}  // namespace quarry::worker

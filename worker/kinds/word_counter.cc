#include "worker/kinds/word_counter.h"

#include <array>
#include <cstring>

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

// Short words are keyed by their bytes as one integer: the first byte in
// memory is the lowest, so masking the high bytes drops what follows.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "WordCounter's short-word keys assume a little-endian machine");

uint64_t Load8(const char* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

uint32_t Load4(const char* p) {
  uint32_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

// Both halves of the 128-bit product: every output bit depends on every
// input bit of either factor.
uint64_t Mix(uint64_t a, uint64_t b) {
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  return static_cast<uint64_t>(product) ^ static_cast<uint64_t>(product >> 64);
}

constexpr uint64_t kSeed0 = 0x243f6a8885a308d3ULL;  // Digits of pi.
constexpr uint64_t kSeed1 = 0x13198a2e03707344ULL;
constexpr uint64_t kSeed2 = 0xa4093822299f31d0ULL;

}  // namespace

size_t WordHash::operator()(absl::string_view word) const {
  const char* p = word.data();
  size_t n = word.size();
  uint64_t state = kSeed2 ^ n;
  while (n > 16) {  // Long words: 16 bytes at a time.
    state = Mix(Load8(p) ^ kSeed0, Load8(p + 8) ^ state);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0, b = 0;
  if (n >= 8) {  // 8..16 bytes: two overlapping loads.
    a = Load8(p);
    b = Load8(p + n - 8);
  } else if (n >= 4) {
    a = Load4(p);
    b = Load4(p + n - 4);
  } else if (n > 0) {
    a = (static_cast<uint64_t>(static_cast<unsigned char>(p[0])) << 16) |
        (static_cast<uint64_t>(static_cast<unsigned char>(p[n / 2])) << 8) |
        static_cast<unsigned char>(p[n - 1]);
  }
  return Mix(a ^ kSeed0, b ^ kSeed1 ^ state);
}

void WordCounter::Count(absl::string_view word) {
  ++total_;
  if (word.size() <= sizeof(uint64_t)) {
    // The word's bytes in memory order; the bytes past it masked to 0.
    const uint64_t key =
        Load8(word.data()) &
        (~uint64_t{0} >> (8 * (sizeof(uint64_t) - word.size())));
    ++short_counts_[key];
    return;
  }
  auto it = counts_.find(word);
  if (it != counts_.end()) {
    ++it->second;
  } else {
    counts_.emplace(std::string(word), 1);
  }
}

void WordCounter::Add(absl::string_view piece) {
  // text_ holds only the word being read (lowercased), which may have begun
  // in an earlier piece; it has room for the whole piece, so the loop needs
  // no bounds checks. One pass, one table lookup per byte.
  const size_t carried = text_.size();
  text_.resize(carried + piece.size() + sizeof(uint64_t));  // Room for Load8.
  char* const word = text_.data();
  char* end = word + carried;
  const unsigned char* in =
      reinterpret_cast<const unsigned char*>(piece.data());
  const unsigned char* const stop = in + piece.size();
  for (; in < stop; ++in) {
    const char lower = kLower[*in];
    if (lower != 0) {
      *end++ = lower;
    } else if (end != word) {
      Count(absl::string_view(word, static_cast<size_t>(end - word)));
      end = word;
    }
  }
  text_.resize(static_cast<size_t>(end - word));  // The word goes on.
}

void WordCounter::Finish() {
  if (!text_.empty()) {
    const size_t size = text_.size();
    text_.resize(size + sizeof(uint64_t));  // Room for Load8.
    Count(absl::string_view(text_.data(), size));
  }
  text_.clear();
}

std::vector<std::pair<absl::string_view, int64_t>> WordCounter::Entries() {
  std::vector<std::pair<absl::string_view, int64_t>> entries;
  entries.reserve(distinct());
  // Spell the short words out into one buffer, sized first so that the
  // views into it stay valid.
  short_words_.clear();
  short_words_.reserve(short_counts_.size() * sizeof(uint64_t));
  for (const auto& [key, count] : short_counts_) {
    char bytes[sizeof(uint64_t)];
    std::memcpy(bytes, &key, sizeof(bytes));
    const size_t size = strnlen(bytes, sizeof(bytes));
    const size_t at = short_words_.size();
    short_words_.append(bytes, size);
    entries.emplace_back(absl::string_view(short_words_.data() + at, size),
                         count);
  }
  for (const auto& [word, count] : counts_) entries.emplace_back(word, count);
  return entries;
}

}  // namespace quarry::worker

#include "worker/attempt_log.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"

namespace quarry::worker {
namespace {

// Most attempts log a few hundred bytes.
constexpr size_t kInitialCapacity = 512;

bool IsPrintable(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return c == '\t' || (byte >= 0x20 && byte < 0x7f);
}

// Appends `text` to `out` with every byte outside printable ASCII and tab
// as \xNN.
void AppendPrintable(absl::string_view text, std::string& out) {
  if (std::all_of(text.begin(), text.end(), IsPrintable)) {
    out.append(text.data(), text.size());
    return;
  }
  for (const char c : text) {
    if (IsPrintable(c)) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(c));
    }
  }
}

// Appends "2024-05-01T12:00:03.123456Z" (UTC). The part up to the seconds
// changes once a second: each thread keeps its last one.
void AppendTimestamp(absl::Time now, std::string& out) {
  thread_local int64_t cached_second = -1;
  thread_local std::string cached_prefix;
  const int64_t micros = absl::ToUnixMicros(now);
  const int64_t second =
      micros >= 0 ? micros / 1'000'000 : (micros - 999'999) / 1'000'000;
  if (second != cached_second) {
    cached_prefix =
        absl::FormatTime("%Y-%m-%dT%H:%M:%S", absl::FromUnixSeconds(second),
                         absl::UTCTimeZone());
    cached_second = second;
  }
  absl::StrAppend(&out, cached_prefix, ".",
                  absl::Dec(micros - second * 1'000'000, absl::kZeroPad6),
                  "Z ");
}

}  // namespace

AttemptLog::AttemptLog(size_t max_bytes, const Clock* clock,
                       PersistFunction persist)
    : discard_(false),
      max_bytes_(max_bytes),
      clock_(clock),
      persist_(std::move(persist)) {}

void AttemptLog::Append(absl::string_view line) {
  absl::MutexLock lock(&mu_);
  AppendLocked(line);
}

void AttemptLog::Finish(absl::string_view line) {
  absl::MutexLock lock(&mu_);
  if (finished_) return;
  AppendLocked(line);
  finished_ = true;
}

void AttemptLog::Persist() {
  std::string text;
  bool truncated = false;
  {
    absl::MutexLock lock(&mu_);
    if (!finished_ || persisted_ || !persist_) return;
    persisted_ = true;
    text = text_;
    truncated = truncated_;
  }
  persist_(text, truncated);
}

AttemptLog::Snapshot AttemptLog::snapshot() const {
  absl::MutexLock lock(&mu_);
  return Snapshot{text_, truncated_, finished_};
}

std::string AttemptLog::text() const {
  absl::MutexLock lock(&mu_);
  return text_;
}

bool AttemptLog::truncated() const {
  absl::MutexLock lock(&mu_);
  return truncated_;
}

bool AttemptLog::finished() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

void AttemptLog::AppendLocked(absl::string_view line) {
  if (discard_ || finished_ || truncated_) return;
  const size_t old_size = text_.size();
  if (text_.capacity() == 0) text_.reserve(kInitialCapacity);
  AppendTimestamp(clock_->Now(), text_);
  AppendPrintable(line, text_);
  text_.push_back('\n');
  if (text_.size() > max_bytes_) {
    text_.resize(old_size);
    truncated_ = true;
    absl::StrAppend(&text_, kAttemptLogTruncatedMarker, "\n");
  }
}

}  // namespace quarry::worker

#ifndef QUARRY_WORKER_ATTEMPT_LOG_H_
#define QUARRY_WORKER_ATTEMPT_LOG_H_

#include <cstddef>
#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"

namespace quarry::worker {

// The line that ends a log cut at its size bound.
inline constexpr absl::string_view kAttemptLogTruncatedMarker =
    "[log truncated: the attempt wrote more than its log may hold]";

// One attempt's own log sink: what the attempt did (start, inputs, bytes,
// errors, the commit decision), one timestamped line per event, kept in
// memory while the attempt runs (a reader sees every line written so far).
// At most `max_bytes` of lines are kept; the first line that does not fit
// is replaced by kAttemptLogTruncatedMarker and later lines are dropped.
// Bytes outside printable ASCII (and tab) are written as \xNN, so the log
// is always valid text. Persist() hands the finished log to `persist`
// (AttemptLogStore writes it to disk). A default-constructed log discards
// everything.
//
// Owns its text. Thread-safe: the slot thread running the attempt writes,
// a gRPC thread may add a line (a cancel request) or read it.
class AttemptLog {
 public:
  // Receives the finished log: its text and whether it was truncated.
  using PersistFunction =
      std::function<void(const std::string& text, bool truncated)>;

  // Discards every line.
  AttemptLog() = default;
  AttemptLog(size_t max_bytes, const Clock* clock,
             PersistFunction persist = nullptr);
  AttemptLog(const AttemptLog&) = delete;
  AttemptLog& operator=(const AttemptLog&) = delete;

  // Appends "<UTC time> <line>\n". No-op once finished.
  void Append(absl::string_view line) ABSL_LOCKS_EXCLUDED(mu_);
  // Appends `line` as the last line. Later calls do nothing.
  void Finish(absl::string_view line) ABSL_LOCKS_EXCLUDED(mu_);
  // After Finish(): calls `persist` with the whole log, once, on the
  // calling thread. No-op before Finish() or without `persist`.
  void Persist() ABSL_LOCKS_EXCLUDED(mu_);

  // The log as it is now, read under one lock (so `finished` and `text`
  // agree even while Finish() runs).
  struct Snapshot {
    std::string text;
    bool truncated = false;
    bool finished = false;
  };
  Snapshot snapshot() const ABSL_LOCKS_EXCLUDED(mu_);

  std::string text() const ABSL_LOCKS_EXCLUDED(mu_);
  bool truncated() const ABSL_LOCKS_EXCLUDED(mu_);
  bool finished() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void AppendLocked(absl::string_view line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const bool discard_ = true;
  const size_t max_bytes_ = 0;
  const Clock* const clock_ = nullptr;
  const PersistFunction persist_;
  mutable absl::Mutex mu_;
  std::string text_ ABSL_GUARDED_BY(mu_);
  bool truncated_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool persisted_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_ATTEMPT_LOG_H_

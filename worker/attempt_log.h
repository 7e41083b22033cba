#ifndef QUARRY_WORKER_ATTEMPT_LOG_H_
#define QUARRY_WORKER_ATTEMPT_LOG_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace quarry::worker {

// The line that ends a log cut at its size bound.
inline constexpr absl::string_view kAttemptLogTruncatedMarker =
    "[log truncated: the attempt wrote more than its log may hold]";

// One attempt's log: what the attempt did (start, inputs, bytes, errors,
// the commit decision), one timestamped line per event, appended to a file
// as it happens (a reader sees every line written so far). At most
// `max_bytes` of lines are kept; the first line that does not fit is
// replaced by kAttemptLogTruncatedMarker and later lines are dropped.
// Bytes outside printable ASCII (and tab) are written as \xNN, so the log
// is always valid text. A default-constructed log discards everything.
// Owns its file descriptor. Thread-safe: the slot thread running the
// attempt writes, a gRPC thread may add a line (a cancel request).
class AttemptLog {
 public:
  // Discards every line.
  AttemptLog() = default;
  // Creates (or truncates) the file at `path`. If it cannot be created the
  // log discards everything (and says why in the worker's own log).
  AttemptLog(const std::string& path, size_t max_bytes, const Clock* clock);
  AttemptLog(const AttemptLog&) = delete;
  AttemptLog& operator=(const AttemptLog&) = delete;
  ~AttemptLog();

  // Appends "<UTC time> <line>\n". No-op once finished.
  void Append(absl::string_view line) ABSL_LOCKS_EXCLUDED(mu_);
  // Appends `line` as the last line and closes the file.
  void Finish(absl::string_view line) ABSL_LOCKS_EXCLUDED(mu_);

  bool finished() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void AppendLocked(absl::string_view line) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t max_bytes_ = 0;
  const Clock* const clock_ = nullptr;
  mutable absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_) = -1;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool truncated_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

// The attempt logs of one worker: a directory holding "<attempt id>.log"
// per attempt, with bounded disk use: each log at most `max_bytes` (plus
// the marker line), at most the newest `keep` logs, none older than
// `max_age` (pruned whenever a log is created or read, never while its
// attempt still writes). With an empty `dir` a fresh temporary directory
// is made and removed with the store; a given `dir` is created if missing
// and its logs outlive the process (a restarted worker with the same
// directory still serves them).
//
// Owns the directory's index (guarded by mu_). Thread-safe: slot threads
// create logs (SlotExecutor::Start), gRPC threads read them
// (WorkerService.GetWorkerAttemptLog).
class AttemptLogStore {
 public:
  struct Options {
    std::string dir;
    size_t max_bytes = size_t{1} << 20;
    size_t keep = 1000;
    absl::Duration max_age = absl::Hours(24);
  };
  // Bounds of the options, checked by Open() (and the worker's flags).
  static constexpr size_t kMinMaxBytes = 1024;
  // A log must fit in one gRPC message (4 MiB by default) with room to
  // spare.
  static constexpr size_t kMaxMaxBytes = size_t{3} << 20;

  // What Read() returns.
  struct Contents {
    std::string text;
    bool truncated = false;
    // The attempt ended; false while it still runs (more lines may come).
    bool finished = false;
  };

  // Creates the directory (or a temporary one) and indexes the logs
  // already in it. INVALID_ARGUMENT for bad options (naming the flag),
  // the error of mkdir otherwise.
  static absl::StatusOr<std::unique_ptr<AttemptLogStore>> Open(
      Options options, const Clock* clock);
  AttemptLogStore(const AttemptLogStore&) = delete;
  AttemptLogStore& operator=(const AttemptLogStore&) = delete;
  // Removes the directory if it was a temporary one.
  ~AttemptLogStore();

  // A new, empty log for `attempt_id` (replacing one of the same id), then
  // prunes. An id that cannot name a file gets a log that discards.
  std::shared_ptr<AttemptLog> Create(absl::string_view attempt_id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // The log of `attempt_id`. INVALID_ARGUMENT for an id that cannot be an
  // attempt's, NOT_FOUND when this worker has no such log (it never ran the
  // attempt, or retention removed it).
  absl::StatusOr<Contents> Read(absl::string_view attempt_id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Attempts with a log, oldest first (tests, diagnostics).
  std::vector<std::string> AttemptIds() const ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& dir() const { return dir_; }

 private:
  struct Entry {
    absl::Time created;
    // Tells this entry from an older one of the same id in order_.
    int64_t sequence = 0;
    // Empty for logs found on disk at Open (their attempts have ended).
    std::weak_ptr<AttemptLog> log;
  };

  AttemptLogStore(Options options, std::string dir, bool temporary,
                  const Clock* clock);
  std::string PathOf(absl::string_view attempt_id) const;
  // Deletes logs beyond `keep` or older than `max_age` whose attempts no
  // longer write.
  void Prune(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Indexes the *.log files already in the directory, oldest first.
  void IndexExistingLogs() ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  const std::string dir_;
  const bool temporary_;
  const Clock* const clock_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> entries_ ABSL_GUARDED_BY(mu_);
  // (attempt id, sequence), oldest first. An element whose sequence is not
  // its id's entry's any more (the log was replaced or deleted) is skipped.
  std::deque<std::pair<std::string, int64_t>> order_ ABSL_GUARDED_BY(mu_);
  int64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_ATTEMPT_LOG_H_

#ifndef QUARRY_WORKER_ATTEMPT_LOG_STORE_H_
#define QUARRY_WORKER_ATTEMPT_LOG_STORE_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "worker/attempt_log.h"

namespace quarry::worker {

// The attempt logs of one worker, in a directory, with bounded disk use.
//
// A running attempt writes to its own AttemptLog in memory. When it ends,
// its whole log becomes one record of the current segment file
// ("segment-NNNNNN.log": a header line "QUARRY-ATTEMPT-LOG <attempt id>
// <end unix micros> <bytes> <truncated 0|1>" then the text). Records are
// written in batches: when kFlushBytes wait, at least every
// `flush_interval` (a background thread), and when the store closes; until
// then they are served from memory, and a worker killed with SIGKILL loses
// at most that batch. No file is created per attempt: at thousands of
// attempts a second that would cost more than the attempts (measured on
// this project's ext4 test machine: 170-300 us per file creation, against
// about 3 us per attempt for the whole log here). A segment holds at most
// `segment_bytes`; then the next one starts.
//
// Retention: finished logs are kept in the order they ended, at most the
// newest `keep`, none older than `max_age` (checked whenever a log ends or
// is read). A segment file is deleted once none of its logs is kept, so
// disk use stays within about keep x max_bytes plus one segment. With an empty
// `dir` a temporary directory is made and removed with the store; a given `dir`
// is created if missing, and a worker restarted on it serves the logs it finds
// there. Logs of running attempts are not here until they end (see NewLog).
//
// Owns the index of finished logs, the open segment and the batch not yet
// written, all guarded by mu_, and the flusher thread. Thread-safe: slot
// threads persist logs, gRPC threads read them.
class AttemptLogStore {
 public:
  struct Options {
    std::string dir;
    size_t max_bytes = size_t{1} << 20;
    size_t keep = 1000;
    absl::Duration max_age = absl::Hours(24);
    // At least 2 x max_bytes is used.
    size_t segment_bytes = size_t{8} << 20;
    // Finished logs reach the disk at most this long after they end.
    absl::Duration flush_interval = absl::Seconds(1);
  };
  static constexpr size_t kMinMaxBytes = 1024;
  // Finished logs are written to disk once this many bytes wait.
  static constexpr size_t kFlushBytes = size_t{64} << 10;
  // A log must fit in one gRPC message (4 MiB by default) with room to
  // spare.
  static constexpr size_t kMaxMaxBytes = size_t{3} << 20;

  struct Contents {
    std::string text;
    bool truncated = false;
    // The attempt ended; false while it still runs (more lines may come).
    bool finished = false;
  };

  // INVALID_ARGUMENT naming the flag for options out of range.
  static absl::Status Validate(const Options& options);

  // Creates the directory (or a temporary one) and indexes the segments
  // already in it. INVALID_ARGUMENT for bad options (naming the flag),
  // FAILED_PRECONDITION when the directory cannot be made.
  static absl::StatusOr<std::unique_ptr<AttemptLogStore>> Open(
      Options options, const Clock* clock);
  AttemptLogStore(const AttemptLogStore&) = delete;
  AttemptLogStore& operator=(const AttemptLogStore&) = delete;
  // Stops the flusher, writes what waits and closes the segment; removes
  // the directory if it was a temporary one. Logs still running are not
  // persisted.
  ~AttemptLogStore();

  // A new, empty log for `attempt_id`, written here by its Persist()
  // (replacing an older log of the same id). An id that cannot name a file
  // gets a log that discards. Takes no lock: the running log belongs to the
  // caller (the slot executor serves it while the attempt runs).
  std::shared_ptr<AttemptLog> NewLog(absl::string_view attempt_id);

  // The persisted log of `attempt_id`. INVALID_ARGUMENT for an id that
  // cannot be an attempt's, NOT_FOUND when there is none (this worker did
  // not run it, it still runs, or retention removed it).
  absl::StatusOr<Contents> Read(absl::string_view attempt_id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Writes the finished logs still in memory to disk now.
  void Sync() ABSL_LOCKS_EXCLUDED(mu_);

  // Finished attempts whose log is kept, oldest first.
  std::vector<std::string> FinishedAttemptIds() const ABSL_LOCKS_EXCLUDED(mu_);
  // Segment files in the directory now (tests, diagnostics).
  std::vector<std::string> SegmentFiles() const;

  const std::string& dir() const { return dir_; }

 private:
  // Where one finished log is.
  struct Record {
    int64_t segment = 0;
    int64_t offset = 0;  // Of the text, after the header line.
    int64_t length = 0;
    bool truncated = false;
    absl::Time ended;
    // Tells this record from an older one of the same id in order_.
    int64_t sequence = 0;
  };
  struct Segment {
    int64_t live = 0;  // Records kept in it.
    int64_t bytes = 0;
  };

  AttemptLogStore(Options options, std::string dir, bool temporary,
                  const Clock* clock);
  std::string SegmentPath(int64_t segment) const;
  // Appends a finished log to the current segment and indexes it.
  void Persist(const std::string& attempt_id, const std::string& text,
               bool truncated) ABSL_LOCKS_EXCLUDED(mu_);
  // Indexes `record` under `attempt_id`, replacing an older one.
  void AddRecord(const std::string& attempt_id, Record record)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes the pending records to the current segment.
  void Flush() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Flushes and closes the current segment and starts the next one.
  void NextSegment() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets one record; deletes its segment if nothing kept is left in it.
  void DropRecord(const Record& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Prune(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The flusher thread: Flush() every flush_interval until stopping_.
  void FlushPeriodically() ABSL_LOCKS_EXCLUDED(mu_);
  // Reads the segments already in the directory (at Open).
  void IndexExistingSegments() ABSL_LOCKS_EXCLUDED(mu_);
  // Parses one segment's records into the index.
  void IndexSegment(int64_t segment, const std::string& content)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const std::string dir_;
  const bool temporary_;
  const Clock* const clock_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Record> records_ ABSL_GUARDED_BY(mu_);
  // (attempt id, sequence) of finished logs, oldest first. An element whose
  // sequence is not its id's record's any more is skipped.
  std::deque<std::pair<std::string, int64_t>> order_ ABSL_GUARDED_BY(mu_);
  int64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<int64_t, Segment> segments_ ABSL_GUARDED_BY(mu_);
  // The segment being appended to; fd -1 until its first flush.
  int64_t current_segment_ ABSL_GUARDED_BY(mu_) = 1;
  int current_fd_ ABSL_GUARDED_BY(mu_) = -1;
  // Bytes of the current segment on disk, and the records after them.
  int64_t flushed_ ABSL_GUARDED_BY(mu_) = 0;
  std::string pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread flusher_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_ATTEMPT_LOG_STORE_H_

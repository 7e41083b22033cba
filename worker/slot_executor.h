#ifndef QUARRY_WORKER_SLOT_EXECUTOR_H_
#define QUARRY_WORKER_SLOT_EXECUTOR_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "common/beneath_opener.h"
#include "common/clock.h"
#include "common/data_roots.h"
#include "quarry/v1/cluster_service.pb.h"
#include "quarry/v1/types.pb.h"
#include "worker/attempt_log_store.h"
#include "worker/cancel_flag.h"
#include "worker/kinds/kind_registry.h"

namespace quarry::worker {

// Runs attempts in a fixed number of slots: the heart of the worker.
//
// Owns one long-lived thread per slot (each runs one attempt at a time), a
// queue of `queue` places for attempts accepted while every slot is busy
// (they start in the order they came, each in the next slot to free up, so
// a worker fed short tasks never idles waiting for the leader), and the
// table of attempts it knows: running, queued, and recently finished ones
// (kept for at least `finished_retention`, at most the newest
// `max_finished`), so the leader can reconcile after lost reports.
//
// The leader addresses the slots + queue places by index
// (Assignment.slot); an attempt keeps its index (AttemptStatus.slot)
// whether it waits or runs, and any slot thread runs it.
//
// Thread-safe. Start/Cancel/Snapshot are called by gRPC threads (the
// WorkerService); slot threads run the attempts and call `on_finished`
// (outside the lock) once per attempt, after the slot has been marked free,
// so the leader may reuse the slot as soon as it hears of the completion.
// Everything shared is guarded by mu_.
class SlotExecutor {
 public:
  struct Options {
    int slots = 4;  // 1..1024.
    int queue = 0;  // Places for attempts waiting for a slot, >= 0.
    absl::Duration finished_retention = absl::Minutes(10);
    size_t max_finished = 10'000;
    // Where each attempt writes its log (borrowed, must outlive the
    // executor); null: attempts keep no log.
    AttemptLogStore* attempt_logs = nullptr;
    // Where attempts may read and write (--data_root); empty: anywhere.
    DataRoots data_roots;
  };
  // Receives the final AttemptStatus (DONE, FAILED or CANCELLED) of every
  // attempt. Called on a slot thread; must not call back into the executor
  // while blocking for long.
  using FinishedCallback =
      std::function<void(const quarry::v1::AttemptStatus& status)>;
  // Asks the leader whether attempt `attempt_id` may commit its output
  // (CommitGate::Ask). Called on a slot thread; returns CANCELLED promptly
  // once `cancel` is set.
  using CommitRequester =
      std::function<absl::StatusOr<quarry::v1::RequestCommitResponse>(
          const std::string& attempt_id, const CancelFlag& cancel)>;

  // What GetWorkerState reports.
  struct State {
    std::vector<quarry::v1::SlotState> slots;         // By index.
    std::vector<quarry::v1::AttemptStatus> attempts;  // Any order.
  };

  // `kinds` and `clock` must outlive the executor. Starts the slot threads.
  // Attempts with an output_path ask `ask_commit` before they commit; when
  // it is null every commit is allowed (tests of the executor alone).
  SlotExecutor(const Options& options, const KindRegistry* kinds,
               const Clock* clock, FinishedCallback on_finished,
               CommitRequester ask_commit = nullptr);
  SlotExecutor(const SlotExecutor&) = delete;
  SlotExecutor& operator=(const SlotExecutor&) = delete;
  // Shuts down (see Shutdown()).
  ~SlotExecutor();

  // Takes `assignment` into place assignment.slot(); it runs as soon as a
  // slot thread is free (at once when one is idle). Refuses (with a
  // reason the leader can show) an empty or already known attempt id,
  // FAILED_PRECONDITION for a busy slot or place or a worker draining or
  // shutting down, OUT_OF_RANGE for an index outside [0, slots + queue),
  // NOT_FOUND for a kind this worker does not have. Bad settings or inputs are
  // not refused: the attempt runs and ends FAILED with a clear error.
  absl::Status Start(const quarry::v1::Assignment& assignment)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Start() for each assignment, all under one lock, so that the slot
  // threads wake together and their completions can travel in one report.
  // Returns one status per assignment, in order.
  std::vector<absl::Status> StartAll(
      absl::Span<const quarry::v1::Assignment* const> assignments)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Whether some attempt started less than `window` ago or waits in the
  // queue (so one may well end in a moment: the reporter waits for it
  // briefly).
  bool RunsAttemptYoungerThan(absl::Duration window) ABSL_LOCKS_EXCLUDED(mu_);

  // Asks the given attempts to stop; a stopped attempt ends CANCELLED and
  // commits nothing. Returns the ids that were running and are now being
  // stopped (unknown, finished or already committing ids are left out).
  std::vector<std::string> Cancel(absl::Span<const std::string> attempt_ids)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Every slot and queue place, and the attempts running or queued now
  // (with `include_finished`, also the ended ones still remembered).
  State Snapshot(bool include_finished = true) ABSL_LOCKS_EXCLUDED(mu_);

  // The status of one known attempt, or nullopt.
  std::optional<quarry::v1::AttemptStatus> GetAttempt(
      absl::string_view attempt_id) ABSL_LOCKS_EXCLUDED(mu_);

  // The log of `attempt_id` while the attempt runs (null otherwise: it is
  // then in the AttemptLogStore).
  std::shared_ptr<AttemptLog> RunningLog(absl::string_view attempt_id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Refuses every later Start() ("worker is draining"); running attempts
  // carry on. Idempotent.
  void StartDraining() ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until no slot or queue place holds an attempt; false after
  // `timeout`.
  bool WaitUntilIdle(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  // Cancel() for every running or queued attempt; returns their ids.
  std::vector<std::string> CancelRunning() ABSL_LOCKS_EXCLUDED(mu_);

  // Stops taking work, cancels every running attempt and joins the slot
  // threads. Attempts stopped this way end CANCELLED and commit nothing, so
  // the leader runs them again elsewhere without counting a failure against
  // the task. Idempotent; call from one thread.
  void Shutdown() ABSL_LOCKS_EXCLUDED(mu_);

  int slot_count() const { return slot_count_; }
  int queue_size() const { return options_.queue; }

  // For metrics.
  struct Stats {
    int busy_slots = 0;            // Slots running an attempt now.
    int queued = 0;                // Attempts waiting for a slot.
    int64_t attempts_started = 0;  // Attempts Start() accepted so far.
  };
  Stats stats() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct AttemptRecord {
    quarry::v1::Assignment assignment;  // Cleared when the attempt ends.
    quarry::v1::AttemptStatus status;
    CancelFlag cancel;
    // Set once the output is being committed: too late to cancel.
    bool committing = false;
    absl::Time start_time = absl::InfinitePast();
    // Its log while it runs; null once the log is persisted.
    std::shared_ptr<AttemptLog> log;
    absl::Time end_time = absl::InfinitePast();
  };
  // A slot or queue place, as the leader addresses it.
  struct Place {
    // The attempt it holds (waiting or running); nullptr when free.
    AttemptRecord* attempt = nullptr;
  };

  // Start() once the kind is looked up and `record` holds the assignment.
  absl::Status StartLocked(std::unique_ptr<AttemptRecord> record,
                           const absl::StatusOr<const JobKind*>& kind,
                           absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The body of a slot thread: runs the attempts of `ready_` one by one.
  void RunSlot() ABSL_LOCKS_EXCLUDED(mu_);
  // Runs one attempt (of place `index`) on the calling slot thread, writing
  // to `log` (then persisting it); returns its final status.
  quarry::v1::AttemptStatus RunOne(int index, AttemptRecord* record,
                                   AttemptLog& log) ABSL_LOCKS_EXCLUDED(mu_);
  // Forgets finished attempts beyond the retention limits.
  void PruneFinished(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  // Opens attempts' inputs and outputs beneath options_.data_roots.
  const BeneathOpener files_;
  const int slot_count_;
  const KindRegistry* const kinds_;
  const Clock* const clock_;
  const FinishedCallback on_finished_;
  const CommitRequester ask_commit_;

  absl::Mutex mu_;
  // slot_count_ + options_.queue places.
  std::vector<Place> places_ ABSL_GUARDED_BY(mu_);
  // Places whose attempt waits for a slot thread, oldest first.
  std::deque<int> ready_ ABSL_GUARDED_BY(mu_);
  // Places holding an attempt: min(held_, slot_count_) slots are busy,
  // the rest of them wait.
  int held_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, std::unique_ptr<AttemptRecord>> attempts_
      ABSL_GUARDED_BY(mu_);
  // Ids of finished attempts, oldest first.
  std::deque<std::string> finished_ ABSL_GUARDED_BY(mu_);
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool draining_ ABSL_GUARDED_BY(mu_) = false;
  int64_t attempts_started_ ABSL_GUARDED_BY(mu_) = 0;

  // Touched only by the constructor and Shutdown().
  std::vector<std::thread> threads_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_SLOT_EXECUTOR_H_

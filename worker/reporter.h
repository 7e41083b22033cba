#ifndef QUARRY_WORKER_REPORTER_H_
#define QUARRY_WORKER_REPORTER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/leader_epoch.h"
#include "quarry/v1/cluster_service.pb.h"
#include "quarry/v1/types.pb.h"
#include "worker/leader_client.h"

namespace quarry::worker {

// Keeps the leader informed: registers the worker, then reports every
// finished attempt and sends heartbeats.
//
// Owns the reporter thread and the queue of finished attempts not yet
// acknowledged by the leader. The thread:
//  - registers (RegisterWorker), retrying with exponential backoff capped at
//    `max_backoff` for as long as the worker runs;
//  - sends every queued AttemptStatus in one ReportWorkerState call (at most
//    `max_batch` per call); completions that arrive while a call is in
//    flight go into the next call. Enqueue() wakes it at once, so a
//    completion reaches the leader within about a millisecond on loopback,
//    unless the slot executor says more attempts are about to end
//    (`more_coming`): then it waits for them, at most `coalesce_window`
//    after the first, so a burst of short attempts travels in one call;
//  - with nothing to send, sends an empty report (a heartbeat) every
//    heartbeat_interval_ms the leader gave at registration (default 500 ms);
//  - on a failed call keeps the batch and retries it after a backoff; on
//    NOT_FOUND (the leader forgot the worker, e.g. it restarted) registers
//    again and then resends the batch. RegisterAgain() (the leader
//    connection got NOT_FOUND) has the same effect;
//  - once SetDraining() is called, marks every report draining=true and
//    sends one at once.
//
// Thread-safe: Enqueue() is called by slot threads, RegisterAgain() by the
// connection thread, SetDraining()/Flush() by the drain, Start()/Stop() by
// the composition root, stats() by anyone. Shared state is guarded by mu_.
class Reporter {
 public:
  struct Options {
    // Sent on every (re-)registration; its worker_id also names the
    // worker in reports.
    quarry::v1::RegisterWorkerRequest registration;
    // If set, called at each registration to fill registration.attempts
    // (what the worker runs and recently finished), so that a leader that
    // lost touch or restarted keeps that work instead of running it again.
    std::function<std::vector<quarry::v1::AttemptStatus>()> current_attempts;
    absl::Duration rpc_timeout = absl::Seconds(2);
    absl::Duration initial_backoff = absl::Milliseconds(50);
    absl::Duration max_backoff = absl::Seconds(2);
    // Used when the leader does not name a heartbeat interval.
    absl::Duration default_heartbeat = absl::Milliseconds(500);
    size_t max_batch = 1000;
    // Refuses a registration answered by a deposed leader (may be null).
    EpochFence* fence = nullptr;
    // How long a completion may wait for others announced as coming.
    absl::Duration coalesce_window = absl::Milliseconds(1);
    // Stop() gives the last report this long.
    absl::Duration final_report_timeout = absl::Seconds(1);
  };

  struct Stats {
    bool registered = false;
    int64_t registrations = 0;  // Successful RegisterWorker calls.
    int64_t reports_ok = 0;     // Acknowledged ReportWorkerState calls.
    int64_t calls_failed = 0;   // Failed calls of either kind.
    int64_t reports_failed = 0;  // Failed ReportWorkerState calls.
    int64_t acknowledged = 0;   // Attempts the leader has acknowledged.
    absl::Duration heartbeat_interval;
    bool draining = false;
  };
  // Called on the reporter thread after each successful registration with
  // the number of registrations so far (Stats::registrations).
  using RegisteredCallback = std::function<void(int64_t registrations)>;

  // `leader` must outlive the reporter. `on_registered` may be null.
  Reporter(Options options, LeaderClient* leader,
           RegisteredCallback on_registered = nullptr);
  Reporter(const Reporter&) = delete;
  Reporter& operator=(const Reporter&) = delete;
  // Stops (see Stop()).
  ~Reporter();

  // Starts the reporter thread. Call once.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);

  // Queues a finished attempt for the next report and wakes the thread.
  // `more_coming`: other attempts are likely to end within moments; the
  // report waits for them (see the class comment).
  void Enqueue(const quarry::v1::AttemptStatus& status,
               bool more_coming = false) ABSL_LOCKS_EXCLUDED(mu_);

  // Registers again (then resends what is queued), unless the reporter
  // has registered more than `registrations` times already: someone else
  // noticed first. Returns at once.
  void RegisterAgain(int64_t registrations) ABSL_LOCKS_EXCLUDED(mu_);

  // From now on every report says draining=true; sends one at once.
  void SetDraining() ABSL_LOCKS_EXCLUDED(mu_);

  // Sends a report at once (even an empty one) and waits until the leader
  // has acknowledged it and every attempt enqueued so far. Returns false
  // on timeout.
  bool Flush(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  // Stops the thread: cancels the leader call in flight, then makes one
  // last try (if registered) to send what is queued, bounded by
  // `final_report_timeout`. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until every attempt enqueued so far has been acknowledged by the
  // leader. Returns false on timeout.
  bool WaitForAcknowledged(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  Stats stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // The reporter thread's loop.
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Registers once; returns whether it worked.
  bool TryRegister(int& failures) ABSL_LOCKS_EXCLUDED(mu_);
  // Sends `batch` as report number `seq`; returns the call's status.
  absl::Status SendReport(const std::vector<quarry::v1::AttemptStatus>& batch,
                          int64_t seq, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Moves queued attempts into `batch`, up to max_batch in all.
  void TakePending(std::vector<quarry::v1::AttemptStatus>& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool stopping() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits `delay` or until Stop(); returns true when stopping.
  bool SleepUnlessStopping(absl::Duration delay) ABSL_LOCKS_EXCLUDED(mu_);

  const Options options_;
  LeaderClient* const leader_;
  const RegisteredCallback on_registered_;

  mutable absl::Mutex mu_;
  std::deque<quarry::v1::AttemptStatus> pending_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Send a report now even if nothing is queued (SetDraining, Flush).
  bool report_now_ ABSL_GUARDED_BY(mu_) = false;
  // The queue waits for announced completions until hold_until_.
  bool holding_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time hold_until_ ABSL_GUARDED_BY(mu_);
  bool register_again_ ABSL_GUARDED_BY(mu_) = false;
  // Report calls are numbered as they start; the last acknowledged one.
  int64_t reports_started_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_acknowledged_report_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  Stats stats_ ABSL_GUARDED_BY(mu_);

  // Touched only by Start() and Stop() (one thread).
  std::thread thread_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_REPORTER_H_

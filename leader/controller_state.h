#ifndef QUARRY_LEADER_CONTROLLER_STATE_H_
#define QUARRY_LEADER_CONTROLLER_STATE_H_

// Private state records of the Controller, shared by its .cc files. Not part
// of the leader's interface: include only from leader/controller*.cc.

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "leader/controller.h"
#include "leader/store_writer.h"
#include "leader/task_plan.h"

namespace quarry {

// One task as the controller tracks it: 24 bytes whatever the job's size
// (its inputs and outputs are in the job's TaskPlan, its attempt id follows
// from the job id, its index and `attempts`; errors and summaries, which
// few tasks have, are kept beside it).
struct Controller::TaskRuntime {
  int32_t attempts = 0;         // Attempts started (sent to a worker) so far.
  int32_t failed_attempts = 0;  // Count against max_attempts.
  int32_t worker = -1;          // Where the current (or last) attempt runs: an
                        // index into worker_names_; -1 before the first.
  uint8_t status = quarry::v1::EXECUTION_STATUS_PENDING;
  bool dirty = false;  // Listed in JobRuntime::dirty_tasks.
  int64_t output_bytes = 0;

  quarry::v1::ExecutionStatus execution_status() const {
    return static_cast<quarry::v1::ExecutionStatus>(status);
  }
};

// A job the controller runs (or finishes: a finished job stays until its
// last live attempt has ended, so its output can be tidied).
struct Controller::JobRuntime {
  int64_t sequence = 0;
  quarry::v1::Job job;
  TaskPlan plan;
  std::vector<TaskRuntime> tasks;
  // Last error of the tasks that have one; summaries of DONE tasks.
  absl::flat_hash_map<int32_t, std::string> errors;
  absl::flat_hash_map<int32_t, std::string> summaries;
  // Tasks waiting for a slot, in order: `queued` (retries at the front,
  // the reduce task at the back) first, then the map tasks
  // [next_fresh, map_count) that have never been dispatched.
  std::deque<int32_t> queued;
  int32_t next_fresh = 0;
  int32_t maps_remaining = 0;   // Non-reduce tasks not yet DONE.
  int32_t live_attempts = 0;    // Attempts in attempts_ for this job.
  absl::Duration task_timeout;  // Zero: no limit.
  // Moving average of the run time of its DONE attempts (as the workers
  // timed them); infinite until one is done. Decides queueing.
  absl::Duration typical_run = absl::InfiniteDuration();
  void NoteRunTime(absl::Duration run) {
    typical_run = typical_run == absl::InfiniteDuration()
                      ? run
                      : (typical_run * 3 + run) / 4;
  }
  std::vector<std::string> failure_reasons;  // Of permanently failed tasks.
  bool finished = false;                     // Reached a terminal state.
  bool dirty = true;                         // The job record must be stored.
  std::vector<int32_t> dirty_tasks;  // Tasks whose record must be stored.

  int64_t runnable() const {
    return static_cast<int64_t>(queued.size()) + plan.map_count - next_fresh;
  }
  // The next runnable task; runnable() must be > 0.
  int32_t PopRunnable() {
    if (queued.empty()) return next_fresh++;
    const int32_t index = queued.front();
    queued.pop_front();
    return index;
  }
  void ClearRunnable() {
    queued.clear();
    next_fresh = plan.map_count;
  }
  void MarkDirty(int32_t index) {
    TaskRuntime& task = tasks[index];
    if (!task.dirty) {
      task.dirty = true;
      dirty_tasks.push_back(index);
    }
  }
};

// A registered worker as the controller tracks it.
struct Controller::WorkerRuntime {
  quarry::v1::Worker record;  // id, address, slots, labels, status, times.
  int32_t name = -1;          // Its id's index in worker_names_.
  // Per slot: the live attempt id, "" when free, or "!<id>" when the worker
  // reports it busy with an attempt the leader does not run (stale work).
  std::vector<std::string> slot_attempts;
  // Free places: slots and queue places that hold no attempt.
  int32_t free_slots = 0;
  std::shared_ptr<WorkerClient> client;
  absl::Time last_seen;
  absl::Time heartbeat_written;                  // last_seen as last stored.
  absl::Time written_at = absl::InfinitePast();  // When last stored.
  // Its slots changed since it was last stored (written lazily).
  bool slots_changed = false;
  absl::Time last_probe_sent = absl::InfinitePast();
  bool probe_in_flight = false;
  // The last RPC to it failed: it gets no new work until it answers a probe.
  bool unreachable = false;
  std::string problem;  // Why it is unreachable, for logs.
  // Its ConnectWorker stream (null until it connects) and that stream's id.
  std::shared_ptr<WorkerLink> link;
  int64_t connection_id = -1;
  // Its stream broke: DEAD until it connects or registers again.
  bool disconnected = false;
  // Draining: no new work; it leaves when its attempts end.
  bool draining = false;

  // Attempts (and stale work) it holds, in slots and queue places.
  int32_t held() const {
    return static_cast<int32_t>(slot_attempts.size()) - free_slots;
  }
  // Slots with nothing to run: fewer attempts than slots are placed here.
  int32_t idle_slots() const { return std::max(0, record.slots() - held()); }
};

// What one step decided that must happen after mu_ is released.
struct Controller::Effects {
  using StartBatch = Controller::StartBatch;
  struct CancelBatch {
    std::shared_ptr<WorkerClient> client;
    quarry::v1::CancelTasksRequest request;
  };
  struct Probe {
    std::shared_ptr<WorkerClient> client;
    std::string worker_id;
    absl::Time sent_at;
    std::vector<std::string> attempt_ids;  // Its live attempts, to reconcile.
  };
  // Jobs whose output must be tidied before their record is stored.
  std::vector<quarry::v1::Job> finalize;
  StoreWrites writes;
  // For the execution history: ended attempts, and jobs done with.
  std::vector<quarry::v1::AttemptRecord> ended_attempts;
  std::vector<quarry::v1::Job> ended_jobs;
  std::vector<StartBatch> starts;
  std::vector<CancelBatch> cancels;
  std::vector<Probe> probes;
  // Some job changed state (watchers waiting for one wake up).
  bool state_changed = false;
  std::vector<std::shared_ptr<WorkerLink>> drains;
  std::vector<std::shared_ptr<WorkerLink>> closes;
};

// Adjusts the per-status counter of `counts` by `delta`.
inline void AdjustTaskCounts(quarry::v1::TaskCounts& counts,
                             quarry::v1::ExecutionStatus status, int delta) {
  switch (status) {
    case quarry::v1::EXECUTION_STATUS_PENDING:
      counts.set_pending(counts.pending() + delta);
      break;
    case quarry::v1::EXECUTION_STATUS_ASSIGNED:
      counts.set_assigned(counts.assigned() + delta);
      break;
    case quarry::v1::EXECUTION_STATUS_RUNNING:
      counts.set_running(counts.running() + delta);
      break;
    case quarry::v1::EXECUTION_STATUS_DONE:
      counts.set_done(counts.done() + delta);
      break;
    case quarry::v1::EXECUTION_STATUS_FAILED:
      counts.set_failed(counts.failed() + delta);
      break;
    case quarry::v1::EXECUTION_STATUS_CANCELLED:
      counts.set_cancelled(counts.cancelled() + delta);
      break;
    default:
      break;
  }
}

inline bool IsTerminal(quarry::v1::ExecutionStatus status) {
  return status == quarry::v1::EXECUTION_STATUS_DONE ||
         status == quarry::v1::EXECUTION_STATUS_FAILED ||
         status == quarry::v1::EXECUTION_STATUS_CANCELLED ||
         status == quarry::v1::EXECUTION_STATUS_LOST;
}

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROLLER_STATE_H_

#ifndef QUARRY_LEADER_CONTROLLER_STATE_H_
#define QUARRY_LEADER_CONTROLLER_STATE_H_

// Private state records of the Controller, shared by its .cc files. Not part
// of the leader's interface: include only from leader/controller*.cc.

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "leader/controller.h"
#include "leader/store_writer.h"

namespace quarry {

// A job the controller runs (or finishes: a finished job stays until its
// last live attempt has ended, so its output can be tidied).
struct Controller::JobRuntime {
  int64_t sequence = 0;
  quarry::v1::Job job;
  std::vector<quarry::v1::Task> tasks;
  std::vector<int32_t> dispatches;  // Attempts sent per task.
  std::deque<int32_t> runnable;     // Tasks waiting for a slot, in order.
  int32_t maps_remaining = 0;       // Non-reduce tasks not yet DONE.
  int32_t reduce_index = -1;        // The reduce task, or -1.
  int32_t live_attempts = 0;        // Attempts in attempts_ for this job.
  std::vector<std::string> failure_reasons;  // Of permanently failed tasks.
  bool finished = false;            // Reached a terminal state.
  bool dirty = true;                // The job record must be stored.
  absl::flat_hash_set<int32_t> dirty_tasks;
};

// A registered worker as the controller tracks it.
struct Controller::WorkerRuntime {
  quarry::v1::Worker record;  // id, address, slots, labels, status, times.
  // Per slot: the live attempt id, "" when free, or "!<id>" when the worker
  // reports it busy with an attempt the leader does not run (stale work).
  std::vector<std::string> slot_attempts;
  int32_t free_slots = 0;
  std::shared_ptr<WorkerClient> client;
  absl::Time last_seen;
  absl::Time heartbeat_written;  // last_seen as last stored.
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

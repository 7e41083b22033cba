#ifndef QUARRY_LEADER_CONTROL_CONTROLLER_STATS_H_
#define QUARRY_LEADER_CONTROL_CONTROLLER_STATS_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/time/time.h"
#include "quarry/v1/types.pb.h"

namespace quarry {

// What the controller has done since the leader started; only ever grows.
// Kept by the controller under its mutex.
struct ControllerCounts {
  int64_t jobs_submitted = 0;
  // Jobs that ended, by final state (DONE, FAILED, CANCELLED).
  std::map<quarry::v1::JobState, int64_t> jobs_finished;
  // Attempts sent to a worker.
  int64_t attempts_started = 0;
  // Attempts that ended FAILED or LOST and counted against their task's
  // max_attempts (a refused start or a drain does not count).
  int64_t attempts_failed = 0;
  // Tasks put back in the queue after an attempt ended without success.
  int64_t attempts_retried = 0;
};

// A consistent snapshot of the controller, taken under its mutex by
// Controller::Stats() (once per scrape of the leader's metrics).
struct ControllerStats {
  // Every job state, task status and worker status a snapshot reports,
  // at 0.
  static ControllerStats Zero();

  // Jobs the controller runs (not finished), by state (PENDING, RUNNING).
  std::map<quarry::v1::JobState, int64_t> jobs;
  // The tasks of those jobs, by status; they add up to their task counts.
  std::map<quarry::v1::ExecutionStatus, int64_t> tasks;
  // Runnable tasks waiting for a free slot.
  int64_t queue_depth = 0;
  // Registered workers by status.
  std::map<quarry::v1::WorkerStatus, int64_t> workers;
  // Slots of the workers that are not DEAD, and those of them holding an
  // attempt.
  int64_t slots = 0;
  int64_t busy_slots = 0;
  // Attempts beyond their slots that those workers hold in their queues.
  int64_t queued = 0;
  // Per worker id: how long since the leader last heard from the worker.
  std::map<std::string, absl::Duration> heartbeat_age;
  // Changes wait for the store (it was unreachable); nothing is dispatched.
  bool store_backlog = false;
  ControllerCounts counts;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_CONTROLLER_STATS_H_

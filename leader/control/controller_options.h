#ifndef QUARRY_LEADER_CONTROL_CONTROLLER_OPTIONS_H_
#define QUARRY_LEADER_CONTROL_CONTROLLER_OPTIONS_H_

#include <cstddef>
#include <cstdint>

#include "absl/time/time.h"

namespace quarry {

// The controller's settings (the leader's flags), read by the Controller and
// by the owners of state it composes.
struct ControllerOptions {
  // The timer: RunOnce runs at least this often, and also at once on events.
  absl::Duration tick = absl::Milliseconds(100);
  // Deadline of every leader→worker RPC.
  absl::Duration worker_rpc_timeout = absl::Seconds(2);
  // A worker silent this long is probed (GetWorkerState); at most this
  // often.
  absl::Duration probe_interval = absl::Milliseconds(100);
  // A worker that is never silent (it reports all the time) is still
  // probed this often, to reconcile the attempts it runs.
  absl::Duration reconcile_interval = absl::Seconds(1);
  // Silence after which a worker is SUSPECT (no new work) and DEAD (its
  // attempts are LOST and their tasks re-queued).
  absl::Duration suspect_after = absl::Milliseconds(500);
  absl::Duration dead_after = absl::Seconds(1);
  // DEAD workers are forgotten after this long.
  absl::Duration forget_dead_after = absl::Minutes(10);
  // Told to workers at registration.
  absl::Duration heartbeat_interval = absl::Milliseconds(500);
  // A worker record whose slots changed (but not its status) is stored at
  // most this often, so GetCluster's slot view may lag this much.
  absl::Duration slot_write_interval = absl::Milliseconds(100);
  // After Restore(), attempts the store shows running wait this long for
  // their worker to register again and report them (adoption); then they
  // are LOST and their tasks re-queued.
  absl::Duration adopt_within = absl::Seconds(5);
  // A task that could not even be started (worker refused it, RPC failed)
  // this many times beyond its max_attempts fails, so a broken cluster
  // cannot loop forever.
  int32_t max_dispatches_per_task = 20;
  // Tasks go to a worker's queue places (RegisterWorkerRequest.queue) only
  // when no slot is idle and only for jobs whose attempts have so far run
  // shorter than this on average: a queued task then waits little, and a
  // stream of short tasks keeps every slot busy. Zero: never queue.
  absl::Duration queue_tasks_shorter_than = absl::Milliseconds(50);
  // A step that takes longer is logged with where its time went.
  absl::Duration slow_step = absl::Milliseconds(50);
  // Work one step does at most, so that steps stay short however big the
  // cluster; what is left is done by the next step, at once.
  size_t max_reports_per_step = 1024;  // Attempt statuses taken in.
  int64_t max_starts_per_step = 256;   // Attempts dispatched.
  int max_workers_per_step = 32;       // StartTasks batches sent.
  int max_probes_per_step = 256;
  int max_lazy_worker_writes_per_step = 256;  // Slot or heartbeat updates.
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_CONTROLLER_OPTIONS_H_

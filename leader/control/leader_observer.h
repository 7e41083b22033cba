#ifndef QUARRY_LEADER_CONTROL_LEADER_OBSERVER_H_
#define QUARRY_LEADER_CONTROL_LEADER_OBSERVER_H_

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace quarry {

// Which side of the leader a failed store call came from.
enum class StoreOp {
  kRead,     // An API read (GetJob, ListJobs, WatchJob, ...).
  kWrite,    // A submission, or a controller write of task/job/worker state.
  kHistory,  // An API read of the execution history (PostgreSQL).
};

// Told about the leader's work as it happens, for its metrics
// (LeaderMetrics). Implementations are thread-safe and quick: the
// controller thread and gRPC handler threads call them, never under the
// controller's mutex.
class LeaderObserver {
 public:
  virtual ~LeaderObserver() = default;

  // One controller step (RunOnce: the step under the mutex and applying its
  // effects) took `duration` of wall time.
  virtual void OnControllerStep(absl::Duration duration) = 0;
  // A store call failed with `status` (never NOT_FOUND: that is an answer).
  virtual void OnStoreError(StoreOp op, const absl::Status& status) = 0;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_LEADER_OBSERVER_H_

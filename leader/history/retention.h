#ifndef QUARRY_LEADER_HISTORY_RETENTION_H_
#define QUARRY_LEADER_HISTORY_RETENTION_H_

#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/store.h"
#include "leader/history/history.h"

namespace quarry {

// Retention of the shared cache: finished jobs leave the store `retention`
// after they ended. With an execution history, a job leaves only once the
// history has its record (it stays readable there); without one it is
// simply forgotten.
//
// Owns its thread, which sweeps every retention/10 (between 100 ms and
// 1 min). Thread-safe: Start/Stop from the composition root.
class RetentionSweeper {
 public:
  // `history` may be null.
  RetentionSweeper(Store* store, History* history, const Clock* clock,
                   absl::Duration retention);
  ~RetentionSweeper();

  void Start() ABSL_LOCKS_EXCLUDED(mu_);
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // One sweep: returns how many jobs left the store, or the store's error.
  absl::StatusOr<int> SweepOnce(absl::Time now);

 private:
  void Loop() ABSL_LOCKS_EXCLUDED(mu_);

  Store* const store_;
  History* const history_;
  const Clock* const clock_;
  const absl::Duration retention_;

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_HISTORY_RETENTION_H_

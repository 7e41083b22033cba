#ifndef QUARRY_LEADER_CONTROL_CHANGE_NOTIFIER_H_
#define QUARRY_LEADER_CONTROL_CHANGE_NOTIFIER_H_

#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quarry {

// Version numbers that the controller bumps after each step that changed
// the store, so that readers (WatchJob streams, CancelJob) wake at once
// instead of polling: `any` on every change, `states` only when some job
// changed state (e.g. RUNNING -> DONE). A watcher that has just sent
// progress waits on `states` alone, so a busy controller does not wake it
// on every step. Owns its own small lock, never the controller's.
// Thread-safe.
class ChangeNotifier {
 public:
  struct Versions {
    uint64_t any = 0;
    uint64_t states = 0;
  };

  Versions versions() const {
    absl::MutexLock lock(&mu_);
    return versions_;
  }
  uint64_t version() const { return versions().any; }

  // Something changed; `state_changed`: some job changed state.
  void Notify(bool state_changed = false) {
    absl::MutexLock lock(&mu_);
    ++versions_.any;
    if (state_changed) ++versions_.states;
  }

  // Waits until the version differs from `seen` or `timeout` passes;
  // returns the current version.
  uint64_t WaitForChange(uint64_t seen, absl::Duration timeout) const {
    Versions versions;
    versions.any = seen;
    return WaitFor(versions, /*states_only=*/false, timeout).any;
  }

  // Waits until `seen.states` (with `states_only`) or `seen.any` is out of
  // date, or `timeout` passes; returns the current versions.
  Versions WaitFor(Versions seen, bool states_only,
                   absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto changed = [this, seen, states_only]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return states_only ? versions_.states != seen.states
                         : versions_.any != seen.any;
    };
    mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
    return versions_;
  }

 private:
  mutable absl::Mutex mu_;
  Versions versions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_CHANGE_NOTIFIER_H_

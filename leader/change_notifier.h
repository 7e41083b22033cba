#ifndef QUARRY_LEADER_CHANGE_NOTIFIER_H_
#define QUARRY_LEADER_CHANGE_NOTIFIER_H_

#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quarry {

// A version number that the controller bumps after each step that changed
// the store, so that readers (WatchJob streams) wake at once instead of
// polling. Owns its own small lock, never the controller's. Thread-safe.
class ChangeNotifier {
 public:
  uint64_t version() const {
    absl::MutexLock lock(&mu_);
    return version_;
  }

  void Notify() {
    absl::MutexLock lock(&mu_);
    ++version_;
  }

  // Waits until the version differs from `seen` or `timeout` passes;
  // returns the current version.
  uint64_t WaitForChange(uint64_t seen, absl::Duration timeout) const {
    absl::MutexLock lock(&mu_);
    auto changed = [this, seen]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return version_ != seen;
    };
    mu_.AwaitWithTimeout(absl::Condition(&changed), timeout);
    return version_;
  }

 private:
  mutable absl::Mutex mu_;
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CHANGE_NOTIFIER_H_

#ifndef QUARRY_WORKER_CANCEL_FLAG_H_
#define QUARRY_WORKER_CANCEL_FLAG_H_

#include <atomic>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace quarry::worker {

// A one-way "stop now" signal for one attempt. Owns nothing but its state.
// Thread-safe: Cancel() is called by RPC threads (CancelTasks) and by the
// slot executor's Shutdown(); the kind running on a slot thread polls
// cancelled() (cheap: one atomic load) or blocks in WaitFor().
class CancelFlag {
 public:
  CancelFlag() = default;
  CancelFlag(const CancelFlag&) = delete;
  CancelFlag& operator=(const CancelFlag&) = delete;

  // Requests cancellation. Idempotent.
  void Cancel() {
    if (!requested_.exchange(true, std::memory_order_acq_rel)) {
      notification_.Notify();
    }
  }

  bool cancelled() const { return requested_.load(std::memory_order_acquire); }

  // Blocks for up to `timeout` or until cancelled, whichever comes first.
  // Returns true if cancelled.
  bool WaitFor(absl::Duration timeout) const {
    return notification_.WaitForNotificationWithTimeout(timeout) || cancelled();
  }

 private:
  std::atomic<bool> requested_{false};
  absl::Notification notification_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_CANCEL_FLAG_H_

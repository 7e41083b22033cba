#ifndef QUARRY_LEADER_API_READINESS_H_
#define QUARRY_LEADER_API_READINESS_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace quarry {

// Whether the leader serves its API yet. A leader listens at once but only
// serves once the controller has restored its state from the store; until
// then every call answers UNAVAILABLE with the reason (e.g. the store is
// unreachable), so clients and workers retry. Thread-safe.
class Readiness {
 public:
  // OK once ready; UNAVAILABLE naming the reason before.
  absl::Status Check() const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    if (ready_) return absl::OkStatus();
    return absl::UnavailableError(
        absl::StrCat("the leader is not ready: ", reason_));
  }
  void SetWaiting(std::string reason) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    reason_ = std::move(reason);
  }
  void SetReady() ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    ready_ = true;
  }

 private:
  mutable absl::Mutex mu_;
  bool ready_ ABSL_GUARDED_BY(mu_) = false;
  std::string reason_ ABSL_GUARDED_BY(mu_) = "starting";
};

}  // namespace quarry

#endif  // QUARRY_LEADER_API_READINESS_H_

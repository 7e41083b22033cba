#ifndef QUARRY_LEADER_WORKERS_WORKER_TOKENS_H_
#define QUARRY_LEADER_WORKERS_WORKER_TOKENS_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace quarry {

// The token each worker registered with (a leader with --auth_file): the
// leader sends it back on its calls to that worker, which takes calls only
// with its own token. Kept in memory: after a leader restart, calls to a
// worker fail UNAUTHENTICATED until it registers again. Thread-safe.
class WorkerTokens {
 public:
  void Set(const std::string& worker_id, std::string token)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    tokens_[worker_id] = std::move(token);
  }
  // The worker's token, or "" if it never registered with one.
  std::string Get(const std::string& worker_id) const
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    const auto found = tokens_.find(worker_id);
    return found == tokens_.end() ? std::string() : found->second;
  }

 private:
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::string> tokens_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry

#endif  // QUARRY_LEADER_WORKERS_WORKER_TOKENS_H_

#ifndef QUARRY_LEADER_WORKERS_WORKER_TOKENS_H_
#define QUARRY_LEADER_WORKERS_WORKER_TOKENS_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/auth.h"

namespace quarry {

// Who each worker id belongs to (a leader with --auth_file), and the token
// it registered with.
//
// An id is bound to the first principal that uses it (registers, connects,
// reports or asks to commit) and stays bound until that worker deregisters
// or the leader restarts: another principal's calls for that id are
// refused, so a holder of one worker token cannot speak for a worker that
// registered with another. (Workers sharing one token share one principal:
// give each worker its own to keep them apart.) An admin may use any id.
//
// The token is sent back on the leader's calls to that worker, which takes
// calls only with its own token. Kept in memory: after a leader restart,
// calls to a worker fail UNAUTHENTICATED until it registers again.
// Thread-safe.
class WorkerTokens {
 public:
  // OK if `caller` may speak for `worker_id` (binding it if unbound);
  // PERMISSION_DENIED naming the principal it belongs to otherwise.
  absl::Status Claim(const std::string& worker_id, const Principal& caller)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Claim, then remember `token` as the one to send to the worker.
  absl::Status Register(const std::string& worker_id, const Principal& caller,
                        std::string token) ABSL_LOCKS_EXCLUDED(mu_);

  // The worker left: its id is free for any principal again.
  void Release(const std::string& worker_id) ABSL_LOCKS_EXCLUDED(mu_);

  // The worker's token, or "" if it never registered with one.
  std::string Get(const std::string& worker_id) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Binding {
    std::string principal;
    std::string token;
  };

  absl::Status ClaimLocked(const std::string& worker_id,
                           const Principal& caller)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, Binding> bindings_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry

#endif  // QUARRY_LEADER_WORKERS_WORKER_TOKENS_H_

#ifndef QUARRY_LEADER_ELECTION_LEASE_STORE_H_
#define QUARRY_LEADER_ELECTION_LEASE_STORE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace quarry {

// Who holds the cluster's leader lease: a leader process (its id and the
// address clients and workers reach it at) and the epoch it was granted.
// Epochs only grow: each grant of the lease is one more than any before,
// so a write or call carrying a lower epoch comes from a deposed leader.
struct LeaseHolder {
  std::string id;
  std::string address;
  int64_t epoch = 0;
};

// The shared record the leaders compete for (RedisLease: one Redis key
// with a TTL and an epoch counter). Every operation is atomic in the store
// and bounded by the store's own timeout. Thread-compatible.
class LeaseStore {
 public:
  virtual ~LeaseStore() = default;

  // Takes the lease for `me` (id and address; its epoch is ignored) if no
  // one holds it, for `ttl`, and returns the new epoch. ALREADY_EXISTS
  // naming the holder when someone does; UNAVAILABLE when the store cannot
  // be reached.
  virtual absl::StatusOr<int64_t> Acquire(const LeaseHolder& me,
                                          absl::Duration ttl) = 0;

  // Extends the lease to `ttl` from now if `me` (id, address and epoch)
  // still holds it. FAILED_PRECONDITION when it does not (it expired, or
  // another leader holds it); UNAVAILABLE when the store cannot be reached.
  virtual absl::Status Renew(const LeaseHolder& me, absl::Duration ttl) = 0;

  // Gives the lease up if `me` holds it (so a standby takes over at once);
  // OK when it does not.
  virtual absl::Status Release(const LeaseHolder& me) = 0;

  // The current holder; NOT_FOUND when no one holds the lease.
  virtual absl::StatusOr<LeaseHolder> Holder() = 0;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_ELECTION_LEASE_STORE_H_

#ifndef QUARRY_LEADER_ELECTION_REDIS_LEASE_H_
#define QUARRY_LEADER_ELECTION_REDIS_LEASE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/redis_connection.h"
#include "leader/election/lease_store.h"

namespace quarry {

// The leader lease in Redis: key quarry:<cluster>:leader holds
// "ID\nADDRESS\nEPOCH" with a PX expiry, and quarry:<cluster>:epoch counts
// the grants. Each operation is one Lua script (atomic in Redis): acquire
// is SET NX plus INCR, renew and release compare the whole value first, so
// a leader can only extend or drop its own term. Uses one connection,
// reopened after an error; every command is bounded by `timeout`. Not
// thread-safe (one LeaseKeeper thread uses it).
class RedisLease : public LeaseStore {
 public:
  RedisLease(RedisAddress address, const std::string& cluster_name,
             absl::Duration timeout);

  absl::StatusOr<int64_t> Acquire(const LeaseHolder& me,
                                  absl::Duration ttl) override;
  absl::Status Renew(const LeaseHolder& me, absl::Duration ttl) override;
  absl::Status Release(const LeaseHolder& me) override;
  absl::StatusOr<LeaseHolder> Holder() override;

 private:
  // Runs one command on the connection, connecting first if needed.
  absl::StatusOr<RedisReplyPtr> Run(const std::vector<std::string>& args);

  const RedisAddress address_;
  const std::string lease_key_;
  const std::string epoch_key_;
  const absl::Duration timeout_;
  std::unique_ptr<RedisConnection> connection_;
};

// The lease value of `holder`, and back (INTERNAL for a malformed value).
std::string EncodeLeaseHolder(const LeaseHolder& holder);
absl::StatusOr<LeaseHolder> DecodeLeaseHolder(const std::string& value);

}  // namespace quarry

#endif  // QUARRY_LEADER_ELECTION_REDIS_LEASE_H_

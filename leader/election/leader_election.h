#ifndef QUARRY_LEADER_ELECTION_LEADER_ELECTION_H_
#define QUARRY_LEADER_ELECTION_LEADER_ELECTION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "leader/election/lease_store.h"

namespace quarry {

// Timing of the election (--lease_renew, --lease_ttl). The holder renews
// every `renew_every` and may act only until `renew_deadline` after the
// start of its last successful renewal: shorter than `ttl`, so it stops
// before the lease can expire and be granted elsewhere (client-go's rule:
// renew deadline < lease duration).
struct ElectionTiming {
  absl::Duration renew_every = absl::Milliseconds(100);
  absl::Duration ttl = absl::Milliseconds(500);

  // ttl minus two renew periods: room for one slow round trip and one
  // lost renewal before the holder stops acting.
  absl::Duration renew_deadline() const { return ttl - 2 * renew_every; }
  // How long one store call may take: a renewal sent one period after the
  // last good one still answers (or fails) before renew_deadline.
  absl::Duration store_timeout() const {
    return renew_deadline() - renew_every;
  }
};

// INVALID_ARGUMENT naming the flags unless 0 < renew_every and
// 3 * renew_every <= ttl (so store_timeout() is at least renew_every).
absl::Status ValidateElectionTiming(const ElectionTiming& timing);

// One leader's side of the election: when to acquire, renew, stand down.
// Pure logic over a LeaseStore, driven by Step(now) so that tests run it
// with a FakeClock; LeaseKeeper runs it on a thread. Not thread-safe.
class LeaderElection {
 public:
  // What one Step changed.
  enum class Change { kNone, kElected, kDeposed };

  // `me` is this leader's id and address (epoch ignored); `store` outlives
  // this.
  LeaderElection(LeaseStore* store, LeaseHolder me, ElectionTiming timing);

  // One round, with `now` read before the store call (a lease counts from
  // when it was asked for, never from when the answer came). Active: renew;
  // deposed when the store says the lease is gone, or when it cannot be
  // reached and renew_deadline has passed since the last good renewal.
  // Standby: try to acquire.
  Change Step(absl::Time now);

  // Whether this leader may act (dispatch, write, grant commits) at `now`:
  // active, and within renew_deadline of its last good renewal. Call before
  // acting; false as soon as the deadline passes, even between Steps.
  bool MayAct(absl::Time now) const;

  // Gives the lease up (SIGTERM), so a standby takes over at once; this
  // leader is a standby afterwards.
  void Resign();

  bool active() const { return active_; }
  // The epoch of the current or last term (0 before the first).
  int64_t epoch() const { return me_.epoch; }
  const ElectionTiming& timing() const { return timing_; }

 private:
  LeaseStore* const store_;
  LeaseHolder me_;
  const ElectionTiming timing_;
  bool active_ = false;
  absl::Time acting_until_ = absl::InfinitePast();
};

}  // namespace quarry

#endif  // QUARRY_LEADER_ELECTION_LEADER_ELECTION_H_

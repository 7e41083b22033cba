#include "leader/election/leader_election.h"

#include <glog/logging.h>

#include "absl/strings/str_cat.h"

namespace quarry {

absl::Status ValidateElectionTiming(const ElectionTiming& timing) {
  if (timing.renew_every <= absl::ZeroDuration() ||
      timing.ttl < 3 * timing.renew_every) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--lease_renew must be positive and --lease_ttl at least three "
        "times it (the holder stops acting two renewals before the TTL); "
        "got --lease_renew=",
        absl::FormatDuration(timing.renew_every),
        " --lease_ttl=", absl::FormatDuration(timing.ttl)));
  }
  return absl::OkStatus();
}

LeaderElection::LeaderElection(LeaseStore* store, LeaseHolder me,
                               ElectionTiming timing)
    : store_(store), me_(std::move(me)), timing_(timing) {
  me_.epoch = 0;
}

LeaderElection::Change LeaderElection::Step(absl::Time now) {
  if (!active_) {
    absl::StatusOr<int64_t> epoch = store_->Acquire(me_, timing_.ttl);
    if (!epoch.ok()) {
      if (!absl::IsAlreadyExists(epoch.status())) {
        VLOG(1) << "lease: cannot try to acquire: " << epoch.status();
      }
      return Change::kNone;
    }
    me_.epoch = *epoch;
    active_ = true;
    acting_until_ = now + timing_.renew_deadline();
    return Change::kElected;
  }
  const absl::Status renewed = store_->Renew(me_, timing_.ttl);
  if (renewed.ok()) {
    acting_until_ = now + timing_.renew_deadline();
    return Change::kNone;
  }
  // Lost for certain, or unreachable for too long: stop acting.
  if (absl::IsFailedPrecondition(renewed) || !MayAct(now)) {
    LOG(WARNING) << "lease: epoch " << me_.epoch << " lost: " << renewed;
    active_ = false;
    acting_until_ = absl::InfinitePast();
    return Change::kDeposed;
  }
  LOG(WARNING) << "lease: renewal failed, acting for "
               << absl::FormatDuration(acting_until_ - now)
               << " more unless one succeeds: " << renewed;
  return Change::kNone;
}

bool LeaderElection::MayAct(absl::Time now) const {
  return active_ && now < acting_until_;
}

void LeaderElection::Resign() {
  if (!active_) return;
  active_ = false;
  acting_until_ = absl::InfinitePast();
  if (absl::Status released = store_->Release(me_); !released.ok()) {
    LOG(WARNING) << "lease: cannot release epoch " << me_.epoch
                 << " (it expires by itself): " << released;
  }
}

}  // namespace quarry

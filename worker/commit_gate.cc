#include "worker/commit_gate.h"

#include <glog/logging.h>

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace quarry::worker {
namespace {

bool Retryable(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

}  // namespace

CommitGate::CommitGate(Options options, std::string worker_id,
                       LeaderClient* leader, EpochFence* fence)
    : options_(std::move(options)),
      worker_id_(std::move(worker_id)),
      leader_(leader),
      fence_(fence) {}

absl::StatusOr<quarry::v1::RequestCommitResponse> CommitGate::Ask(
    absl::string_view attempt_id, const CancelFlag& cancel) const {
  quarry::v1::RequestCommitRequest request;
  request.set_worker_id(worker_id_);
  request.set_attempt_id(std::string(attempt_id));
  const absl::Time give_up = absl::Now() + options_.give_up_after;
  absl::Duration backoff = options_.initial_backoff;
  absl::Status last = absl::DeadlineExceededError("no call made");
  for (int tries = 1;; ++tries) {
    if (cancel.cancelled()) return absl::CancelledError("attempt cancelled");
    const absl::Duration left = give_up - absl::Now();
    if (left <= absl::ZeroDuration()) break;
    absl::StatusOr<quarry::v1::RequestCommitResponse> answer =
        leader_->RequestCommit(request, std::min(options_.call_timeout, left),
                               &cancel);
    if (answer.ok() && answer->granted() && fence_ != nullptr) {
      if (absl::Status current = fence_->Admit(answer->leader_epoch());
          !current.ok()) {
        answer->set_granted(false);
        answer->set_reason(std::string(current.message()));
      }
    }
    if (answer.ok() || !Retryable(answer.status())) return answer;
    last = answer.status();
    if (tries == 1) {
      LOG(WARNING) << "no commit permission yet for attempt " << attempt_id
                   << " (retrying for up to " << options_.give_up_after
                   << "): " << last;
    }
    const absl::Duration wait = std::min(backoff, give_up - absl::Now());
    if (wait > absl::ZeroDuration() && cancel.WaitFor(wait)) {
      return absl::CancelledError("attempt cancelled");
    }
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "gave up after ", absl::FormatDuration(options_.give_up_after), ": ",
      last.message()));
}

}  // namespace quarry::worker

#ifndef QUARRY_WORKER_COMMIT_GATE_H_
#define QUARRY_WORKER_COMMIT_GATE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/leader_epoch.h"
#include "quarry/v1/cluster_service.pb.h"
#include "worker/cancel_flag.h"
#include "worker/leader_client.h"

namespace quarry::worker {

// Asks the leader for permission before an attempt commits its output
// (ClusterService.RequestCommit). The leader grants only the current
// attempt of a task, once, so a task's output is committed exactly once
// even when a superseded attempt (its worker was thought dead, or it ran
// past its task_timeout) finishes too.
//
// Owns nothing but its options; the LeaderClient is borrowed. Thread-safe:
// slot threads call Ask() concurrently, each for its own attempt.
class CommitGate {
 public:
  struct Options {
    // Deadline of each RequestCommit call.
    absl::Duration call_timeout = absl::Seconds(2);
    // How long to keep retrying a leader that does not answer.
    absl::Duration give_up_after = absl::Seconds(15);
    absl::Duration initial_backoff = absl::Milliseconds(50);
    absl::Duration max_backoff = absl::Seconds(1);
  };

  // `leader` and `fence` (may be null: no fencing) must outlive the gate.
  CommitGate(Options options, std::string worker_id, LeaderClient* leader,
             EpochFence* fence = nullptr);
  CommitGate(const CommitGate&) = delete;
  CommitGate& operator=(const CommitGate&) = delete;

  // The leader's answer for `attempt_id` (granted, or refused with a
  // reason). Retries UNAVAILABLE and DEADLINE_EXCEEDED with exponential
  // backoff; after `give_up_after` returns DEADLINE_EXCEEDED ("gave up after
  // 15s: <last error>"). CANCELLED, promptly, once `cancel` is set. Any
  // other error of the call is returned as is (not retried). A grant from
  // a leader whose epoch is below the highest seen (a deposed one) is
  // turned into a refusal.
  absl::StatusOr<quarry::v1::RequestCommitResponse> Ask(
      absl::string_view attempt_id, const CancelFlag& cancel) const;

 private:
  const Options options_;
  const std::string worker_id_;
  LeaderClient* const leader_;
  EpochFence* const fence_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_COMMIT_GATE_H_

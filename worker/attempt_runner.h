#ifndef QUARRY_WORKER_ATTEMPT_RUNNER_H_
#define QUARRY_WORKER_ATTEMPT_RUNNER_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "common/beneath_opener.h"
#include "quarry/v1/cluster_service.pb.h"
#include "quarry/v1/types.pb.h"
#include "worker/attempt_log.h"
#include "worker/cancel_flag.h"
#include "worker/kinds/job_kind.h"

namespace quarry::worker {

// How one attempt ended.
struct AttemptOutcome {
  // EXECUTION_STATUS_DONE, _FAILED or _CANCELLED.
  quarry::v1::ExecutionStatus status = quarry::v1::EXECUTION_STATUS_FAILED;
  // Why it FAILED, or why the leader refused its commit (CANCELLED);
  // empty otherwise.
  std::string error;
  // The kind's summary (DONE only), at most kMaxSummaryBytes.
  std::string summary;
  // Size of the committed output (DONE with an output_path only).
  int64_t output_bytes = 0;
};

inline constexpr size_t kMaxSummaryBytes = 1024;

// The leader's answer to "may this attempt commit its output?" (see
// CommitGate::Ask).
using CommitPermission = absl::StatusOr<quarry::v1::RequestCommitResponse>;

// Runs one attempt of `kind` on the calling (slot) thread, start to end:
//  0. with data roots (`files`), checks that every input resolves beneath
//     its root (FAILED naming the input otherwise);
//  1. checks the settings against the kind catalog;
//  2. waits settings.delay_ms (any kind), cancellably;
//  3. stages the output when assignment.output_path is set (see
//     StagedOutput; beneath a writable root, never through a symlink) and
//     runs the kind, which opens its inputs through `files`;
//  4. with an output_path, asks the leader's permission (`ask_leader`;
//     never called without one). Refused: CANCELLED with error "commit
//     refused by the leader: <reason>". No answer: FAILED with "no commit
//     permission from the leader: <why>";
//  5. commits the output if and only if `begin_commit()` returns true.
//     `begin_commit` is the last point at which cancellation wins: the
//     caller makes it return false if the attempt was cancelled, and
//     refuses later cancellations once it has returned true.
// An attempt cancelled at any point ends CANCELLED. A FAILED or CANCELLED
// attempt leaves no file behind. Each step (start, inputs and their sizes,
// the kind's result, output bytes, the commit decision) is written to
// `log` when given; the caller writes the final line. Never crashes on bad
// input; thread-safe (no shared state).
AttemptOutcome RunAttempt(const JobKind& kind,
                          const quarry::v1::Assignment& assignment,
                          const BeneathOpener& files, const CancelFlag& cancel,
                          absl::FunctionRef<CommitPermission()> ask_leader,
                          absl::FunctionRef<bool()> begin_commit,
                          AttemptLog* log = nullptr);

// "attempt ended DONE" or "attempt ended FAILED: <error>": the last line
// of an attempt's log.
std::string DescribeOutcome(const AttemptOutcome& outcome);

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_ATTEMPT_RUNNER_H_

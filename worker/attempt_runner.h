#ifndef QUARRY_WORKER_ATTEMPT_RUNNER_H_
#define QUARRY_WORKER_ATTEMPT_RUNNER_H_

#include <cstdint>
#include <string>

#include "absl/functional/function_ref.h"
#include "quarry/v1/types.pb.h"
#include "worker/cancel_flag.h"
#include "worker/kinds/job_kind.h"

namespace quarry::worker {

// How one attempt ended.
struct AttemptOutcome {
  // EXECUTION_STATUS_DONE, _FAILED or _CANCELLED.
  quarry::v1::ExecutionStatus status = quarry::v1::EXECUTION_STATUS_FAILED;
  // Why it FAILED; empty otherwise.
  std::string error;
  // The kind's summary (DONE only), at most kMaxSummaryBytes.
  std::string summary;
  // Size of the committed output (DONE with an output_path only).
  int64_t output_bytes = 0;
};

inline constexpr size_t kMaxSummaryBytes = 1024;

// Runs one attempt of `kind` on the calling (slot) thread, start to end:
// checks the settings against the kind catalog, stages the output when
// assignment.output_path is set (see StagedOutput), runs the kind, and
// commits the output if and only if the kind succeeded, the attempt was not
// cancelled and `begin_commit()` returns true. `begin_commit` is the last
// point at which cancellation wins: the caller makes it return false if
// the attempt was cancelled, and refuses later cancellations once it has
// returned true. A FAILED or CANCELLED attempt leaves no file behind.
// Never crashes on bad input; thread-safe (no shared state).
AttemptOutcome RunAttempt(const JobKind& kind,
                          const quarry::v1::Assignment& assignment,
                          const CancelFlag& cancel,
                          absl::FunctionRef<bool()> begin_commit);

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_ATTEMPT_RUNNER_H_

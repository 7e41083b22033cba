#include "worker/attempt_runner.h"

#include <glog/logging.h>

#include <cstdint>
#include <memory>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/job_kinds.h"
#include "worker/output_committer.h"

namespace quarry::worker {
namespace {

using quarry::v1::EXECUTION_STATUS_CANCELLED;
using quarry::v1::EXECUTION_STATUS_DONE;
using quarry::v1::EXECUTION_STATUS_FAILED;

AttemptOutcome Cancelled() {
  AttemptOutcome outcome;
  outcome.status = EXECUTION_STATUS_CANCELLED;
  return outcome;
}

AttemptOutcome Failed(const absl::Status& status) {
  AttemptOutcome outcome;
  outcome.status = EXECUTION_STATUS_FAILED;
  outcome.error = status.message().empty()
                      ? absl::StatusCodeToString(status.code())
                      : std::string(status.message());
  return outcome;
}

// The end of an attempt that did not succeed: a cancelled attempt is
// CANCELLED whatever error its kind returned.
AttemptOutcome Unsuccessful(const absl::Status& status,
                            const CancelFlag& cancel) {
  if (cancel.cancelled() || absl::IsCancelled(status)) return Cancelled();
  return Failed(status);
}

}  // namespace

AttemptOutcome RunAttempt(const JobKind& kind,
                          const quarry::v1::Assignment& assignment,
                          const CancelFlag& cancel,
                          absl::FunctionRef<CommitPermission()> ask_leader,
                          absl::FunctionRef<bool()> begin_commit) {
  if (cancel.cancelled()) return Cancelled();
  // The leader validated the job, but a worker trusts no one: a bad
  // setting fails the attempt with the same message SubmitJob would give.
  if (const KindSpec* spec = FindKind(assignment.kind()); spec != nullptr) {
    if (absl::Status valid = ValidateSettings(*spec, assignment.settings());
        !valid.ok()) {
      return Failed(valid);
    }
  }

  // The delay of settings.delay_ms, before the attempt touches anything.
  const int64_t delay_ms = IntSetting(assignment.settings(), "delay_ms", 0);
  if (delay_ms > 0 && cancel.WaitFor(absl::Milliseconds(delay_ms))) {
    return Cancelled();
  }

  std::unique_ptr<StagedOutput> staged;
  DiscardOutput discard;
  OutputSink* sink = &discard;
  if (!assignment.output_path().empty()) {
    absl::StatusOr<std::unique_ptr<StagedOutput>> created =
        StagedOutput::Create(assignment.output_path(), assignment.attempt_id());
    if (!created.ok()) return Unsuccessful(created.status(), cancel);
    staged = *std::move(created);
    sink = staged.get();
  }

  const KindContext context{assignment, cancel, *sink};
  absl::StatusOr<std::string> summary = kind.Run(context);
  if (!summary.ok()) return Unsuccessful(summary.status(), cancel);
  if (staged != nullptr) {
    if (absl::Status closed = staged->Close(); !closed.ok()) {
      return Unsuccessful(closed, cancel);
    }
  }
  if (cancel.cancelled()) return Cancelled();
  // Exactly-once output: only the attempt the leader picks may commit.
  // Returning early deletes the temp file (~StagedOutput).
  if (staged != nullptr) {
    const CommitPermission permission = ask_leader();
    if (!permission.ok()) {
      if (cancel.cancelled() || absl::IsCancelled(permission.status())) {
        return Cancelled();
      }
      return Failed(
          absl::Status(permission.status().code(),
                       absl::StrCat("no commit permission from the leader: ",
                                    permission.status().message())));
    }
    if (!permission->granted()) {
      AttemptOutcome refused = Cancelled();
      refused.error =
          absl::StrCat("commit refused by the leader: ", permission->reason());
      return refused;
    }
  }
  if (cancel.cancelled() || !begin_commit()) return Cancelled();

  AttemptOutcome outcome;
  if (staged != nullptr) {
    absl::StatusOr<int64_t> bytes = staged->Commit();
    if (!bytes.ok()) return Failed(bytes.status());
    outcome.output_bytes = *bytes;
    LOG(INFO) << "attempt " << assignment.attempt_id() << " committed "
              << staged->output_path() << " (" << *bytes << " bytes)";
  }
  outcome.status = EXECUTION_STATUS_DONE;
  outcome.summary = *std::move(summary);
  if (outcome.summary.size() > kMaxSummaryBytes) {
    outcome.summary.resize(kMaxSummaryBytes);
  }
  return outcome;
}

}  // namespace quarry::worker

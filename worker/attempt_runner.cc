#include "worker/attempt_runner.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
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

// The first line of a kind's summary (a wordcount's top words span lines).
absl::string_view FirstLine(absl::string_view text) {
  return text.substr(0, text.find('\n'));
}

// The size of input `path` for the log, or why it is unknown. Without
// data roots, by path as always; with them, through `files`, so that even
// the size of a file outside the roots is never looked at. `refused` is set
// when the input does not resolve beneath its data root.
std::string DescribeInput(const BeneathOpener& files, const std::string& path,
                          int64_t& total_bytes, absl::Status& refused) {
  if (files.roots().empty()) {
    std::error_code error;
    const uintmax_t size = std::filesystem::file_size(path, error);
    if (error) return absl::StrCat("cannot stat: ", error.message());
    total_bytes += static_cast<int64_t>(size);
    return absl::StrCat(size, " bytes");
  }
  absl::StatusOr<ScopedFd> fd = files.OpenInput(path, O_PATH);
  struct stat info;
  if (!fd.ok()) {
    refused = fd.status();
    return absl::StrCat("refused: ", fd.status().message());
  }
  if (fstat(fd->get(), &info) != 0) {
    return absl::StrCat("cannot stat: ", strerror(errno));
  }
  total_bytes += info.st_size;
  return absl::StrCat(info.st_size, " bytes");
}

// What the attempt is and what it reads: every input with its size (the
// first kMaxLoggedInputs of them, then a total). With data roots, returns
// the error of the first input that does not resolve beneath its root.
absl::Status LogStart(const quarry::v1::Assignment& assignment,
                      const BeneathOpener& files, AttemptLog& log) {
  constexpr int kMaxLoggedInputs = 20;
  log.Append(absl::StrCat(
      "attempt ", assignment.attempt_id(), " started: job ",
      assignment.job_id(), " task ", assignment.task_index(), " (kind ",
      assignment.kind(), assignment.is_reduce() ? ", reduce step" : "",
      "), attempt number ", assignment.attempt_number(), ", slot ",
      assignment.slot(), ", ", assignment.inputs_size(), " input(s)"));
  int64_t total_bytes = 0;
  absl::Status first_refused;
  for (int i = 0; i < assignment.inputs_size(); ++i) {
    const std::string& input = assignment.inputs(i);
    absl::Status refused;
    const std::string size = DescribeInput(files, input, total_bytes, refused);
    if (first_refused.ok()) first_refused = refused;
    if (i < kMaxLoggedInputs || !refused.ok()) {
      log.Append(absl::StrCat("input ", i + 1, "/", assignment.inputs_size(),
                              ": ", input, " (", size, ")"));
    }
  }
  if (assignment.inputs_size() > 0) {
    log.Append(absl::StrCat("inputs total ", total_bytes, " bytes"));
  }
  return first_refused;
}

}  // namespace

AttemptOutcome RunAttempt(const JobKind& kind,
                          const quarry::v1::Assignment& assignment,
                          const BeneathOpener& files, const CancelFlag& cancel,
                          absl::FunctionRef<CommitPermission()> ask_leader,
                          absl::FunctionRef<bool()> begin_commit,
                          AttemptLog* log) {
  AttemptLog discard;
  AttemptLog& out = log != nullptr ? *log : discard;
  // With data roots every input must resolve beneath its root before
  // anything runs: kinds that hand paths to other code (exec, plugins)
  // rely on this check (exec checks again just before each command).
  if (absl::Status inputs = LogStart(assignment, files, out); !inputs.ok()) {
    return Failed(inputs);
  }
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
  if (delay_ms > 0) {
    out.Append(absl::StrCat("waiting delay_ms=", delay_ms, " before working"));
    if (cancel.WaitFor(absl::Milliseconds(delay_ms))) return Cancelled();
  }

  std::unique_ptr<StagedOutput> staged;
  DiscardOutput discard_output;
  OutputSink* sink = &discard_output;
  if (!assignment.output_path().empty()) {
    absl::StatusOr<std::unique_ptr<StagedOutput>> created =
        StagedOutput::Create(files, assignment.output_path(),
                             assignment.attempt_id());
    if (!created.ok()) return Unsuccessful(created.status(), cancel);
    staged = *std::move(created);
    sink = staged.get();
    out.Append(absl::StrCat("writing output to ", staged->temp_path()));
  }

  const absl::Time kind_start = absl::Now();
  const std::string no_file;
  const KindContext context{assignment,
                            cancel,
                            *sink,
                            staged != nullptr ? staged->temp_path() : no_file,
                            &out,
                            files,
                            staged != nullptr ? staged->fd() : -1};
  absl::StatusOr<std::string> summary = kind.Run(context);
  if (!summary.ok()) return Unsuccessful(summary.status(), cancel);
  if (staged != nullptr) {
    if (absl::Status closed = staged->Close(); !closed.ok()) {
      return Unsuccessful(closed, cancel);
    }
  }
  out.Append(absl::StrCat(
      "kind ", assignment.kind(), " finished in ",
      absl::FormatDuration(
          absl::Trunc(absl::Now() - kind_start, absl::Microseconds(1))),
      staged != nullptr
          ? absl::StrCat(", output ", staged->bytes_written(), " bytes")
          : std::string(", no output"),
      "; summary: ", FirstLine(*summary)));
  if (cancel.cancelled()) return Cancelled();
  // Exactly-once output: only the attempt the leader picks may commit.
  // Returning early deletes the temp file (~StagedOutput).
  if (staged != nullptr) {
    out.Append("asking the leader for permission to commit");
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
    out.Append("commit granted by the leader");
  }
  if (cancel.cancelled() || !begin_commit()) return Cancelled();

  AttemptOutcome outcome;
  if (staged != nullptr) {
    absl::StatusOr<int64_t> bytes = staged->Commit();
    if (!bytes.ok()) return Failed(bytes.status());
    outcome.output_bytes = *bytes;
    out.Append(absl::StrCat("committed ", *bytes, " bytes to ",
                            assignment.output_path()));
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

std::string DescribeOutcome(const AttemptOutcome& outcome) {
  std::string line = absl::StrCat(
      "attempt ended ",
      absl::StripPrefix(quarry::v1::ExecutionStatus_Name(outcome.status),
                        "EXECUTION_STATUS_"));
  if (!outcome.error.empty()) absl::StrAppend(&line, ": ", outcome.error);
  return line;
}

}  // namespace quarry::worker

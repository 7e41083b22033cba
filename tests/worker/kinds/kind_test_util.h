#ifndef QUARRY_TESTS_WORKER_KINDS_KIND_TEST_UTIL_H_
#define QUARRY_TESTS_WORKER_KINDS_KIND_TEST_UTIL_H_

#include <string>

#include "absl/status/status.h"
#include "quarry/v1/types.pb.h"
#include "worker/cancel_flag.h"
#include "worker/kinds/job_kind.h"

namespace quarry::worker::testing {

// What one JobKind::Run produced.
struct KindRun {
  absl::Status status;
  std::string output;
  std::string summary;
};

// Runs `kind` on `assignment` with an in-memory output; `cancel` may be
// null (never cancelled).
inline KindRun RunKind(const JobKind& kind,
                       const quarry::v1::Assignment& assignment,
                       const CancelFlag* cancel = nullptr) {
  CancelFlag never;
  StringOutput output;
  const std::string no_file;
  AttemptLog log;
  const BeneathOpener no_roots;
  const KindContext context{
      assignment, cancel ? *cancel : never, output, no_file, &log, no_roots};
  absl::StatusOr<std::string> summary = kind.Run(context);
  KindRun run;
  run.status = summary.status();
  run.output = output.contents();
  if (summary.ok()) run.summary = *summary;
  return run;
}

}  // namespace quarry::worker::testing

#endif  // QUARRY_TESTS_WORKER_KINDS_KIND_TEST_UTIL_H_

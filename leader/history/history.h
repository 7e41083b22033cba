#ifndef QUARRY_LEADER_HISTORY_HISTORY_H_
#define QUARRY_LEADER_HISTORY_HISTORY_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "quarry/v1/types.pb.h"

namespace quarry {

// Which finished jobs ListJobs returns.
struct HistoryQuery {
  quarry::v1::JobState state = quarry::v1::JOB_STATE_UNSPECIFIED;  // Any.
  std::string kind;                                  // Empty: any.
  absl::Time end_after = absl::InfinitePast();       // Inclusive.
  absl::Time end_before = absl::InfiniteFuture();    // Exclusive.
  int page_size = 100;
  std::string page_token;  // A previous next_page_token, or empty.
};

struct HistoryPage {
  std::vector<quarry::v1::Job> jobs;  // Newest first (by job sequence).
  std::string next_page_token;        // Empty on the last page.
};

// Durable execution history: every finished job and every ended attempt,
// kept after the jobs leave the shared cache (retention). Record* calls
// never block: they queue the record for a background writer (bounded;
// what does not fit is dropped and counted). Reads go to the database.
// Implementations are thread-safe.
class History {
 public:
  virtual ~History() = default;

  virtual void RecordAttempt(const quarry::v1::AttemptRecord& attempt) = 0;
  // A job that reached its final state (with its final task counts).
  virtual void RecordJob(const quarry::v1::Job& job) = 0;

  // NOT_FOUND if the history has no such job (yet).
  virtual absl::StatusOr<quarry::v1::Job> GetJob(absl::string_view job_id) = 0;
  // The job's attempts by task index, then end time.
  virtual absl::StatusOr<std::vector<quarry::v1::AttemptRecord>> GetAttempts(
      absl::string_view job_id) = 0;
  virtual absl::StatusOr<HistoryPage> ListJobs(const HistoryQuery& query) = 0;

  // Records dropped because the queue was full (an error metric).
  virtual int64_t dropped() const = 0;
  // Waits until every record queued so far is written (tests, shutdown);
  // false after `timeout`.
  virtual bool Flush(absl::Duration timeout) = 0;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_HISTORY_HISTORY_H_

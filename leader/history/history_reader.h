#ifndef QUARRY_LEADER_HISTORY_HISTORY_READER_H_
#define QUARRY_LEADER_HISTORY_HISTORY_READER_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "common/store.h"
#include "leader/history/history.h"
#include "quarry/v1/job_service.pb.h"

namespace quarry {

// The reads of JobService that the execution history answers: jobs that
// have left the store (retention) with their tasks and attempts, the rest
// of a ListJobs page after the store's last one, and ListHistory. Holds no
// state of its own; thread-safe. Called by gRPC handler threads (through
// JobManager).
class HistoryReader {
 public:
  // `history` may be null (none kept): ListHistory then answers
  // FAILED_PRECONDITION, and the other reads must not be called.
  HistoryReader(History* history, Store* store)
      : history_(history), store_(store) {}

  // A job that has left the store; NOT_FOUND naming it if the history has
  // none either.
  absl::StatusOr<quarry::v1::GetJobResponse> GetJob(
      const quarry::v1::GetJobRequest& request);
  // Fills the rest of a ListJobs page (after the store's last page) with
  // jobs only the history still has, older than job sequence `before`.
  absl::Status ListAfterStore(const quarry::v1::ListJobsRequest& request,
                              int page_size, int64_t before,
                              quarry::v1::ListJobsResponse& response);
  // Past jobs; the request is checked here (INVALID_ARGUMENT naming the
  // field).
  absl::StatusOr<quarry::v1::ListHistoryResponse> ListHistory(
      const quarry::v1::ListHistoryRequest& request);

 private:
  History* const history_;
  Store* const store_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_HISTORY_HISTORY_READER_H_

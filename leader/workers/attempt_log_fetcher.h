#ifndef QUARRY_LEADER_WORKERS_ATTEMPT_LOG_FETCHER_H_
#define QUARRY_LEADER_WORKERS_ATTEMPT_LOG_FETCHER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/store.h"
#include "leader/history/history.h"
#include "leader/workers/worker_client.h"
#include "quarry/v1/job_service.pb.h"

namespace quarry {

// Answers JobService.GetAttemptLog. Attempt logs live on the workers that
// ran the attempts; the leader only finds the worker and asks it:
//  1. the task's record in the store names its current attempt and the
//     worker running it (or that ran it); an older attempt's worker comes
//     from the execution history (--history), as does everything about a
//     job retention moved out of the store;
//  2. the worker's record gives its address and whether it is DEAD or gone;
//  3. one WorkerService.GetAttemptLog call with a deadline, without any
//     lock of the controller. An older attempt whose worker is not known
//     (no history) is asked of every worker that is not DEAD,
//     concurrently; the one that has it answers.
// When the worker is gone, DEAD or unreachable the error says that the log
// is lost with it (NOT_FOUND or UNAVAILABLE), naming the worker.
//
// Holds no state; thread-safe. Called by gRPC handler threads.
class AttemptLogFetcher {
 public:
  // `store`, `history` and `clients` must outlive the fetcher; `history`
  // may be null (no --history). `timeout` bounds every call to a worker.
  AttemptLogFetcher(Store* store, History* history,
                    WorkerClientFactory* clients, absl::Duration timeout);

  absl::StatusOr<quarry::v1::GetAttemptLogResponse> Fetch(
      const quarry::v1::GetAttemptLogRequest& request) const;

 private:
  // Where an attempt's log should be: the attempt and the workers to ask.
  struct Target {
    std::string attempt_id;
    // The worker that ran it, when the store says so; else empty and every
    // worker that is not DEAD is asked.
    std::string worker_id;
  };
  absl::StatusOr<Target> FindTarget(
      const quarry::v1::GetAttemptLogRequest& request) const;
  // The attempt from the job's task in the store.
  absl::StatusOr<Target> FromTask(
      const quarry::v1::GetAttemptLogRequest& request,
      const quarry::v1::Task& task) const;
  // The attempt from the execution history (a job no longer in the store).
  absl::StatusOr<Target> FromHistory(
      const quarry::v1::GetAttemptLogRequest& request,
      const absl::Status& not_in_store) const;
  // The worker that ran `attempt_id` by the history; empty if unknown.
  std::string HistoryWorkerOf(const std::string& job_id,
                              const std::string& attempt_id) const;
  // Asks the one worker that ran the attempt.
  absl::StatusOr<quarry::v1::GetAttemptLogResponse> AskWorker(
      const Target& target,
      const std::vector<quarry::v1::Worker>& workers) const;
  // Asks every worker in `workers` that is not DEAD.
  absl::StatusOr<quarry::v1::GetAttemptLogResponse> AskEveryWorker(
      const std::string& attempt_id,
      const std::vector<quarry::v1::Worker>& workers) const;

  Store* const store_;
  History* const history_;
  WorkerClientFactory* const clients_;
  const absl::Duration timeout_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_WORKERS_ATTEMPT_LOG_FETCHER_H_

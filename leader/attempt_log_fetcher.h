#ifndef QUARRY_LEADER_ATTEMPT_LOG_FETCHER_H_
#define QUARRY_LEADER_ATTEMPT_LOG_FETCHER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/store.h"
#include "leader/worker_client.h"
#include "quarry/v1/job_service.pb.h"

namespace quarry {

// Answers JobService.GetAttemptLog. Attempt logs live on the workers that
// ran the attempts; the leader only finds the worker and asks it:
//  1. the task's record in the store names its current attempt and the
//     worker running it (or that ran it);
//  2. the worker's record gives its address and whether it is DEAD or gone;
//  3. one WorkerService.GetAttemptLog call with a deadline, without any
//     lock of the controller. An older attempt of the task (whose worker
//     the leader does not record) is asked of every worker that is not
//     DEAD, concurrently; the one that has it answers.
// When the worker is gone, DEAD or unreachable the error says that the log
// is lost with it (NOT_FOUND or UNAVAILABLE), naming the worker.
//
// Holds no state; thread-safe. Called by gRPC handler threads.
class AttemptLogFetcher {
 public:
  // `store` and `clients` must outlive the fetcher; `timeout` bounds every
  // call to a worker.
  AttemptLogFetcher(Store* store, WorkerClientFactory* clients,
                    absl::Duration timeout);

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
  // Asks the one worker that ran the attempt.
  absl::StatusOr<quarry::v1::GetAttemptLogResponse> AskWorker(
      const Target& target,
      const std::vector<quarry::v1::Worker>& workers) const;
  // Asks every worker in `workers` that is not DEAD.
  absl::StatusOr<quarry::v1::GetAttemptLogResponse> AskEveryWorker(
      const std::string& attempt_id,
      const std::vector<quarry::v1::Worker>& workers) const;

  Store* const store_;
  WorkerClientFactory* const clients_;
  const absl::Duration timeout_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_ATTEMPT_LOG_FETCHER_H_

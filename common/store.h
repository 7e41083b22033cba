#ifndef QUARRY_COMMON_STORE_H_
#define QUARRY_COMMON_STORE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "quarry/v1/types.pb.h"

namespace quarry {

// DONE, FAILED and CANCELLED are final.
inline bool IsFinished(quarry::v1::JobState state) {
  return state == quarry::v1::JOB_STATE_DONE ||
         state == quarry::v1::JOB_STATE_FAILED ||
         state == quarry::v1::JOB_STATE_CANCELLED;
}

// One page of ListJobs.
struct JobPage {
  std::vector<quarry::v1::Job> jobs;  // Newest first.
  std::string next_page_token;        // Empty on the last page.
};

// The shared cache of leader state: jobs, their tasks, and workers. API
// reads come from here; the controller is its only writer of task and worker
// state. Backends: MemoryStore (embedded default); Redis comes later.
// Implementations are thread-safe. Errors: NOT_FOUND for unknown ids,
// UNAVAILABLE when the backend cannot be reached (retry later).
class Store {
 public:
  virtual ~Store() = default;

  // True when no call ever waits on I/O or a remote server (the memory
  // store), so callers may use it from gRPC's event threads.
  virtual bool NeverBlocks() const { return false; }

  // Returns a fresh job sequence number: 1, 2, 3, ...
  virtual absl::StatusOr<int64_t> NextJobSequence() = 0;

  // Stores a new job with all its tasks (task i has index i).
  // ALREADY_EXISTS if the id is taken.
  virtual absl::Status CreateJob(
      const quarry::v1::Job& job,
      const std::vector<quarry::v1::Task>& tasks) = 0;
  // Replaces the record of an existing job (its tasks are kept).
  virtual absl::Status UpdateJob(const quarry::v1::Job& job) = 0;
  // Replaces the given tasks of an existing job, matched by index.
  virtual absl::Status UpdateTasks(
      absl::string_view job_id, const std::vector<quarry::v1::Task>& tasks) = 0;

  virtual absl::StatusOr<quarry::v1::Job> GetJob(absl::string_view job_id) = 0;
  // Every task of the job, ordered by index.
  virtual absl::StatusOr<std::vector<quarry::v1::Task>> GetTasks(
      absl::string_view job_id) = 0;
  // Jobs newest first. `state` UNSPECIFIED matches every state.
  // `page_token` is a previous next_page_token or empty.
  virtual absl::StatusOr<JobPage> ListJobs(quarry::v1::JobState state,
                                           int page_size,
                                           absl::string_view page_token) = 0;

  // Forgets a job and its tasks (retention). NOT_FOUND if unknown.
  virtual absl::Status DeleteJob(absl::string_view job_id) = 0;
  // Ids of finished jobs (DONE, FAILED, CANCELLED) whose end_time is before
  // `cutoff`, oldest first, at most `limit`.
  virtual absl::StatusOr<std::vector<std::string>> ListJobsEndedBefore(
      absl::Time cutoff, int limit) = 0;

  // Creates or replaces a worker record, keyed by its id.
  virtual absl::Status PutWorker(const quarry::v1::Worker& worker) = 0;
  virtual absl::Status DeleteWorker(absl::string_view worker_id) = 0;
  // Every worker, sorted by id.
  virtual absl::StatusOr<std::vector<quarry::v1::Worker>> ListWorkers() = 0;
};

}  // namespace quarry

#endif  // QUARRY_COMMON_STORE_H_

#ifndef QUARRY_COMMON_MEMORY_STORE_H_
#define QUARRY_COMMON_MEMORY_STORE_H_

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/store.h"

namespace quarry {

// The embedded default Store: everything in this process's memory, lost when
// it exits. Tasks are kept serialized (a few dozen bytes each, as a Redis
// backend would keep them), so a job of a million tasks stays small; reads
// of a job record never touch its tasks. Thread-safe: writers take mu_
// exclusively and briefly, readers share it, so concurrent GetJob calls do
// not queue behind one another.
class MemoryStore : public Store {
 public:
  bool NeverBlocks() const override { return true; }
  absl::StatusOr<int64_t> NextJobSequence() override;
  absl::Status CreateJob(const quarry::v1::Job& job,
                         const std::vector<quarry::v1::Task>& tasks) override;
  absl::Status UpdateJob(const quarry::v1::Job& job) override;
  absl::Status UpdateTasks(absl::string_view job_id,
                           const std::vector<quarry::v1::Task>& tasks) override;
  absl::StatusOr<quarry::v1::Job> GetJob(absl::string_view job_id) override;
  absl::StatusOr<std::vector<quarry::v1::Task>> GetTasks(
      absl::string_view job_id) override;
  absl::StatusOr<JobPage> ListJobs(quarry::v1::JobState state, int page_size,
                                   absl::string_view page_token) override;
  absl::Status DeleteJob(absl::string_view job_id) override;
  absl::StatusOr<std::vector<std::string>> ListJobsEndedBefore(
      absl::Time cutoff, int limit) override;
  absl::Status PutWorker(const quarry::v1::Worker& worker) override;
  absl::Status DeleteWorker(absl::string_view worker_id) override;
  absl::StatusOr<std::vector<quarry::v1::Worker>> ListWorkers() override;

 private:
  struct JobEntry {
    quarry::v1::Job job;
    // Serialized quarry.v1.Task messages, by index: a few dozen bytes each
    // (a pending noop task fits the string itself, no allocation).
    std::vector<std::string> tasks;
  };
  // The entry of `job_id`, or nullptr.
  JobEntry* FindJob(absl::string_view job_id) ABSL_SHARED_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  int64_t last_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  // Keyed by job sequence number, so iteration in reverse is newest first.
  std::map<int64_t, JobEntry> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, quarry::v1::Worker> workers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry

#endif  // QUARRY_COMMON_MEMORY_STORE_H_

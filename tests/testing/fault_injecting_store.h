#ifndef QUARRY_TESTS_TESTING_FAULT_INJECTING_STORE_H_
#define QUARRY_TESTS_TESTING_FAULT_INJECTING_STORE_H_

#include <atomic>
#include <string>
#include <vector>

#include "common/store.h"

namespace quarry::testing {

// A Store decorator for failure injection: passes every call to `base`,
// except while SetDown(true), when every call fails UNAVAILABLE as if the
// store's server were unreachable. Thread-safe if `base` is.
class FaultInjectingStore : public Store {
 public:
  explicit FaultInjectingStore(Store* base) : base_(base) {}

  void SetDown(bool down) { down_ = down; }
  // Calls refused while down.
  int64_t refused() const { return refused_; }

  absl::StatusOr<int64_t> NextJobSequence() override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->NextJobSequence();
  }
  absl::Status CreateJob(const quarry::v1::Job& job,
                         const std::vector<quarry::v1::Task>& tasks) override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->CreateJob(job, tasks);
  }
  absl::Status UpdateJob(const quarry::v1::Job& job) override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->UpdateJob(job);
  }
  absl::Status UpdateTasks(
      absl::string_view job_id,
      const std::vector<quarry::v1::Task>& tasks) override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->UpdateTasks(job_id, tasks);
  }
  absl::StatusOr<quarry::v1::Job> GetJob(absl::string_view job_id) override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->GetJob(job_id);
  }
  absl::StatusOr<std::vector<quarry::v1::Task>> GetTasks(
      absl::string_view job_id) override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->GetTasks(job_id);
  }
  absl::StatusOr<JobPage> ListJobs(quarry::v1::JobState state, int page_size,
                                   absl::string_view page_token) override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->ListJobs(state, page_size, page_token);
  }
  absl::Status DeleteJob(absl::string_view job_id) override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->DeleteJob(job_id);
  }
  absl::StatusOr<std::vector<std::string>> ListJobsEndedBefore(
      absl::Time cutoff, int limit) override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->ListJobsEndedBefore(cutoff, limit);
  }
  absl::Status PutWorker(const quarry::v1::Worker& worker) override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->PutWorker(worker);
  }
  absl::Status DeleteWorker(absl::string_view worker_id) override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->DeleteWorker(worker_id);
  }
  absl::StatusOr<std::vector<quarry::v1::Worker>> ListWorkers() override {
    if (absl::Status down = Check(); !down.ok()) return down;
    return base_->ListWorkers();
  }

 private:
  absl::Status Check() {
    if (!down_) return absl::OkStatus();
    ++refused_;
    return absl::UnavailableError("injected store outage");
  }

  Store* const base_;
  std::atomic<bool> down_{false};
  std::atomic<int64_t> refused_{0};
};

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_FAULT_INJECTING_STORE_H_

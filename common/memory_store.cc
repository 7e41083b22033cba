#include "common/memory_store.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/time_util.h"

namespace quarry {

using quarry::v1::Job;
using quarry::v1::Task;

absl::StatusOr<int64_t> MemoryStore::NextJobSequence() {
  absl::MutexLock lock(&mu_);
  return ++last_sequence_;
}

MemoryStore::JobEntry* MemoryStore::FindJob(absl::string_view job_id) {
  std::optional<int64_t> sequence = ParseJobId(job_id);
  if (!sequence.has_value()) return nullptr;
  auto it = jobs_.find(*sequence);
  if (it == jobs_.end() || it->second.job.id() != job_id) return nullptr;
  return &it->second;
}

absl::Status MemoryStore::CreateJob(const Job& job,
                                    const std::vector<Task>& tasks) {
  std::optional<int64_t> sequence = ParseJobId(job.id());
  if (!sequence.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job id \"", job.id(), "\" is malformed"));
  }
  // Serialize before taking the lock: a job can have a million tasks.
  JobEntry entry;
  entry.job = job;
  entry.tasks.reserve(tasks.size());
  for (const Task& task : tasks) entry.tasks.push_back(task.SerializeAsString());
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = jobs_.try_emplace(*sequence);
  if (!inserted) {
    return absl::AlreadyExistsError(absl::StrCat("job ", job.id(), " exists"));
  }
  it->second = std::move(entry);
  return absl::OkStatus();
}

absl::Status MemoryStore::UpdateJob(const Job& job) {
  absl::MutexLock lock(&mu_);
  JobEntry* entry = FindJob(job.id());
  if (entry == nullptr) {
    return absl::NotFoundError(absl::StrCat("job ", job.id(), " not found"));
  }
  entry->job = job;
  return absl::OkStatus();
}

absl::Status MemoryStore::UpdateTasks(absl::string_view job_id,
                                      const std::vector<Task>& tasks) {
  std::vector<std::string> serialized;
  serialized.reserve(tasks.size());
  for (const Task& task : tasks) serialized.push_back(task.SerializeAsString());
  absl::MutexLock lock(&mu_);
  JobEntry* entry = FindJob(job_id);
  if (entry == nullptr) {
    return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
  }
  for (const Task& task : tasks) {  // All or nothing.
    if (task.index() < 0 ||
        task.index() >= static_cast<int32_t>(entry->tasks.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("job ", job_id, " has no task ", task.index()));
    }
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    entry->tasks[tasks[i].index()] = std::move(serialized[i]);
  }
  return absl::OkStatus();
}

absl::StatusOr<Job> MemoryStore::GetJob(absl::string_view job_id) {
  absl::ReaderMutexLock lock(&mu_);
  JobEntry* entry = FindJob(job_id);
  if (entry == nullptr) {
    return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
  }
  return entry->job;
}

absl::StatusOr<std::vector<Task>> MemoryStore::GetTasks(
    absl::string_view job_id) {
  absl::ReaderMutexLock lock(&mu_);
  JobEntry* entry = FindJob(job_id);
  if (entry == nullptr) {
    return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
  }
  std::vector<Task> tasks(entry->tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!tasks[i].ParseFromString(entry->tasks[i])) {
      return absl::DataLossError(
          absl::StrCat("job ", job_id, ": task ", i, " is corrupt"));
    }
    tasks[i].set_index(static_cast<int32_t>(i));
  }
  return tasks;
}

absl::StatusOr<JobPage> MemoryStore::ListJobs(quarry::v1::JobState state,
                                              int page_size,
                                              absl::string_view page_token) {
  int64_t before = INT64_MAX;
  if (!page_token.empty() &&
      (!absl::SimpleAtoi(page_token, &before) || before <= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token \"", page_token, "\" is malformed"));
  }
  JobPage page;
  absl::ReaderMutexLock lock(&mu_);
  for (auto it = std::make_reverse_iterator(jobs_.lower_bound(before));
       it != jobs_.rend(); ++it) {
    const Job& job = it->second.job;
    if (state != quarry::v1::JOB_STATE_UNSPECIFIED && job.state() != state) {
      continue;
    }
    if (static_cast<int>(page.jobs.size()) == page_size) {
      page.next_page_token = absl::StrCat(it->first + 1);
      break;
    }
    page.jobs.push_back(job);
  }
  return page;
}

absl::Status MemoryStore::DeleteJob(absl::string_view job_id) {
  absl::MutexLock lock(&mu_);
  if (FindJob(job_id) == nullptr) {
    return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
  }
  jobs_.erase(*ParseJobId(job_id));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> MemoryStore::ListJobsEndedBefore(
    absl::Time cutoff, int limit) {
  std::vector<std::pair<absl::Time, std::string>> ended;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [sequence, entry] : jobs_) {
      if (!IsFinished(entry.job.state())) continue;
      const absl::Time end = FromProtoTime(entry.job.end_time());
      if (end < cutoff) ended.emplace_back(end, entry.job.id());
    }
  }
  const size_t keep = std::min<size_t>(ended.size(), std::max(limit, 0));
  std::partial_sort(ended.begin(), ended.begin() + keep, ended.end());
  std::vector<std::string> ids;
  for (size_t i = 0; i < keep; ++i) ids.push_back(std::move(ended[i].second));
  return ids;
}

absl::Status MemoryStore::PutWorker(const quarry::v1::Worker& worker) {
  absl::MutexLock lock(&mu_);
  workers_[worker.id()] = worker;
  return absl::OkStatus();
}

absl::Status MemoryStore::DeleteWorker(absl::string_view worker_id) {
  absl::MutexLock lock(&mu_);
  workers_.erase(std::string(worker_id));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<quarry::v1::Worker>> MemoryStore::ListWorkers() {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<quarry::v1::Worker> workers;
  workers.reserve(workers_.size());
  for (const auto& [id, worker] : workers_) workers.push_back(worker);
  return workers;
}

}  // namespace quarry

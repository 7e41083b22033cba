#include "common/memory_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"

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

namespace {

bool HasFixedFields(const Task& task) {
  return !task.inputs().empty() || !task.output_path().empty() ||
         task.is_reduce();
}

// The changing fields of `task`, serialized (the index and the fixed
// fields left out).
std::string SerializeChanging(const Task& task) {
  if (!HasFixedFields(task)) return task.SerializeAsString();
  Task changing = task;
  changing.clear_index();
  changing.clear_inputs();
  changing.clear_output_path();
  changing.clear_is_reduce();
  return changing.SerializeAsString();
}

std::string SerializeFixed(const Task& task) {
  if (!HasFixedFields(task)) return std::string();
  Task fixed;
  *fixed.mutable_inputs() = task.inputs();
  fixed.set_output_path(task.output_path());
  fixed.set_is_reduce(task.is_reduce());
  return fixed.SerializeAsString();
}

}  // namespace

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
  entry.fixed.reserve(tasks.size());
  entry.changing.reserve(tasks.size());
  for (const Task& task : tasks) {
    entry.fixed.push_back(SerializeFixed(task));
    entry.changing.push_back(SerializeChanging(task));
  }
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
  for (const Task& task : tasks) serialized.push_back(SerializeChanging(task));
  absl::MutexLock lock(&mu_);
  JobEntry* entry = FindJob(job_id);
  if (entry == nullptr) {
    return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
  }
  for (const Task& task : tasks) {
    if (task.index() < 0 ||
        task.index() >= static_cast<int32_t>(entry->changing.size())) {
      return absl::InvalidArgumentError(
          absl::StrCat("job ", job_id, " has no task ", task.index()));
    }
  }
  for (size_t i = 0; i < tasks.size(); ++i) {
    entry->changing[tasks[i].index()] = std::move(serialized[i]);
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
  std::vector<Task> tasks(entry->changing.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!tasks[i].ParseFromString(entry->fixed[i]) ||
        !tasks[i].MergeFromString(entry->changing[i])) {
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

#include "leader/control/store_writer.h"

#include <utility>

namespace quarry {

int64_t StoreWriter::backlog() const {
  int64_t count = static_cast<int64_t>(workers_.size());
  for (const auto& [id, job] : jobs_) {
    count += (job.job.has_value() ? 1 : 0) + job.tasks.size();
  }
  return count;
}

absl::Status StoreWriter::Failed(absl::Status status) {
  ++errors_;
  return status;
}

void StoreWriter::Merge(StoreWrites writes) {
  for (auto& [job_id, tasks] : writes.tasks) {
    JobBacklog& backlog = jobs_[job_id];
    for (quarry::v1::Task& task : tasks) {
      backlog.tasks[task.index()] = std::move(task);
    }
  }
  for (quarry::v1::Job& job : writes.jobs) {
    jobs_[job.id()].job = std::move(job);
  }
  for (quarry::v1::Worker& worker : writes.workers) {
    workers_[worker.id()] = std::move(worker);
  }
  for (std::string& worker_id : writes.deleted_workers) {
    workers_[std::move(worker_id)] = std::nullopt;
  }
}

absl::Status StoreWriter::FlushBacklog() {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    JobBacklog& backlog = it->second;
    if (!backlog.tasks.empty()) {
      std::vector<quarry::v1::Task> tasks;
      tasks.reserve(backlog.tasks.size());
      for (auto& [index, task] : backlog.tasks) tasks.push_back(task);
      absl::Status status = store_->UpdateTasks(it->first, tasks);
      if (absl::IsNotFound(status)) {
        it = jobs_.erase(it);
        continue;
      }
      if (!status.ok()) return Failed(status);
      backlog.tasks.clear();
    }
    if (backlog.job.has_value()) {
      absl::Status status = store_->UpdateJob(*backlog.job);
      if (!status.ok() && !absl::IsNotFound(status)) return Failed(status);
    }
    it = jobs_.erase(it);
  }
  for (auto it = workers_.begin(); it != workers_.end();) {
    absl::Status status = it->second.has_value()
                              ? store_->PutWorker(*it->second)
                              : store_->DeleteWorker(it->first);
    if (!status.ok()) return Failed(status);
    it = workers_.erase(it);
  }
  return absl::OkStatus();
}

absl::Status StoreWriter::Write(StoreWrites writes) {
  if (!jobs_.empty() || !workers_.empty()) {
    // Keep the order of changes: the new ones go behind the backlog.
    Merge(std::move(writes));
    return FlushBacklog();
  }
  // The common case: nothing waits, write straight through.
  for (size_t i = 0; i < writes.tasks.size(); ++i) {
    auto& [job_id, tasks] = writes.tasks[i];
    absl::Status status = store_->UpdateTasks(job_id, tasks);
    if (status.ok() || absl::IsNotFound(status)) continue;
    writes.tasks.erase(writes.tasks.begin(), writes.tasks.begin() + i);
    Merge(std::move(writes));
    return Failed(status);
  }
  writes.tasks.clear();
  for (size_t i = 0; i < writes.jobs.size(); ++i) {
    absl::Status status = store_->UpdateJob(writes.jobs[i]);
    if (status.ok() || absl::IsNotFound(status)) continue;
    writes.jobs.erase(writes.jobs.begin(), writes.jobs.begin() + i);
    Merge(std::move(writes));
    return Failed(status);
  }
  writes.jobs.clear();
  Merge(std::move(writes));  // Workers: few; the backlog path writes them.
  return FlushBacklog();
}

}  // namespace quarry

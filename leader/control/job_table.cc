#include "leader/control/job_table.h"

#include <iterator>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/ids.h"

namespace quarry {

absl::StatusOr<std::vector<StoredJob>> ReadUnfinishedJobs(Store& store) {
  std::vector<StoredJob> jobs;
  for (quarry::v1::JobState state :
       {quarry::v1::JOB_STATE_PENDING, quarry::v1::JOB_STATE_RUNNING}) {
    std::string page_token;
    do {
      absl::StatusOr<JobPage> page = store.ListJobs(state, 500, page_token);
      if (!page.ok()) return page.status();
      for (quarry::v1::Job& job : page->jobs) {
        absl::StatusOr<std::vector<quarry::v1::Task>> tasks =
            store.GetTasks(job.id());
        if (!tasks.ok()) return tasks.status();
        jobs.push_back(StoredJob{std::move(job), *std::move(tasks)});
      }
      page_token = page->next_page_token;
    } while (!page_token.empty());
  }
  return jobs;
}

JobRuntime& JobTable::Add(std::unique_ptr<JobRuntime> job) {
  std::unique_ptr<JobRuntime>& slot = jobs_[job->sequence];
  slot = std::move(job);
  return *slot;
}

JobRuntime* JobTable::Find(const std::string& job_id) {
  std::optional<int64_t> sequence = ParseJobId(job_id);
  if (!sequence.has_value()) return nullptr;
  auto it = jobs_.find(*sequence);
  return it == jobs_.end() ? nullptr : it->second.get();
}

JobTable::Outcome JobTable::EndAttempt(const AttemptRef& ref,
                                       quarry::v1::ExecutionStatus status,
                                       const std::string& error,
                                       bool counts_as_failure,
                                       const quarry::v1::AttemptStatus* report,
                                       int32_t max_dispatches) {
  JobRuntime* job = Find(ref.job_id);
  if (job == nullptr) return Outcome::kIgnored;
  --job->live_attempts;
  if (job->finished) return Outcome::kIgnored;
  const int32_t index = ref.task_index;
  if (job->tasks[index].attempts != ref.attempt_number) {
    return Outcome::kIgnored;  // Superseded.
  }
  job->MarkDirty(index);
  if (status == quarry::v1::EXECUTION_STATUS_DONE) {
    job->RecordDone(index, report);
    return Outcome::kDone;
  }
  return job->RecordUnsuccessful(index, error, counts_as_failure,
                                 max_dispatches)
             ? Outcome::kRetried
             : Outcome::kFailed;
}

std::string JobTable::CommitRefusal(const std::string& attempt_id,
                                    const AttemptRef& ref) {
  const JobRuntime* job = Find(ref.job_id);
  if (job == nullptr || job->finished) {
    return absl::StrCat("job ", ref.job_id, " has ended");
  }
  const TaskRuntime& task = job->tasks[ref.task_index];
  if (task.attempts != ref.attempt_number) {
    return absl::StrCat(
        "attempt ", attempt_id, " was superseded by ",
        FormatAttemptId(job->job.id(), ref.task_index, task.attempts));
  }
  if (task.execution_status() == quarry::v1::EXECUTION_STATUS_DONE) {
    return absl::StrCat("task ", ref.task_index, " is already committed");
  }
  return "";
}

int64_t JobTable::Runnable() const {
  int64_t runnable = 0;
  for (const auto& [sequence, job] : jobs_) runnable += job->runnable();
  return runnable;
}

int64_t JobTable::UnfinishedTasks() const {
  int64_t tasks = 0;
  for (const auto& [sequence, job] : jobs_) {
    if (job->finished) continue;
    const quarry::v1::TaskCounts& counts = job->job.task_counts();
    tasks += counts.pending() + counts.assigned() + counts.running();
  }
  return tasks;
}

bool JobTable::AnyTaskTimeout() const {
  for (const auto& [sequence, job] : jobs_) {
    if (!job->finished && job->task_timeout > absl::ZeroDuration()) {
      return true;
    }
  }
  return false;
}

absl::Status JobTable::ReserveOutputDir(const std::string& output_dir,
                                        const std::string& job_id) {
  auto [it, inserted] = output_dirs_in_use_.try_emplace(output_dir, job_id);
  if (!inserted) {
    return absl::FailedPreconditionError(
        absl::StrCat("output_dir \"", output_dir, "\" is in use by job ",
                     it->second, ", which has not finished"));
  }
  return absl::OkStatus();
}

void JobTable::ReleaseOutputDir(const std::string& output_dir) {
  output_dirs_in_use_.erase(output_dir);
}

void JobTable::ClaimRestoredOutputDir(const std::string& output_dir,
                                      const std::string& job_id) {
  if (!output_dir.empty()) output_dirs_in_use_[output_dir] = job_id;
}

void JobTable::CollectWrites(const std::vector<std::string>& worker_names,
                             StoreWrites* writes,
                             std::vector<quarry::v1::Job>* done_with) {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    JobRuntime& job = *it->second;
    const bool ended = job.finished && job.live_attempts == 0;
    if (ended) {
      done_with->push_back(job.job);
      output_dirs_in_use_.erase(job.job.spec().output_dir());
    }
    if (!job.dirty_tasks.empty()) {
      std::vector<quarry::v1::Task> tasks;
      tasks.reserve(job.dirty_tasks.size());
      for (int32_t index : job.dirty_tasks) {
        tasks.push_back(job.TaskRecord(index, worker_names));
        job.tasks[index].dirty = false;
      }
      writes->tasks.emplace_back(job.job.id(), std::move(tasks));
      job.dirty_tasks.clear();
    }
    if (job.dirty) {
      writes->jobs.push_back(job.job);
      job.dirty = false;
    }
    it = ended ? jobs_.erase(it) : std::next(it);
  }
}

void JobTable::AddStats(ControllerStats* stats) const {
  for (const auto& [sequence, job] : jobs_) {
    if (job->finished) continue;
    ++stats->jobs[job->job.state()];
    const quarry::v1::TaskCounts& counts = job->job.task_counts();
    auto& tasks = stats->tasks;
    tasks[quarry::v1::EXECUTION_STATUS_PENDING] += counts.pending();
    tasks[quarry::v1::EXECUTION_STATUS_ASSIGNED] += counts.assigned();
    tasks[quarry::v1::EXECUTION_STATUS_RUNNING] += counts.running();
    tasks[quarry::v1::EXECUTION_STATUS_DONE] += counts.done();
    tasks[quarry::v1::EXECUTION_STATUS_FAILED] += counts.failed();
    tasks[quarry::v1::EXECUTION_STATUS_CANCELLED] += counts.cancelled();
    stats->queue_depth += job->runnable();
  }
}

}  // namespace quarry

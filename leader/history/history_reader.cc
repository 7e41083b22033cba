// The reads behind JobService that the execution history answers.
#include "leader/history/history_reader.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/time_util.h"

namespace quarry {
namespace {

constexpr int kMaxHistoryPage = 1000;
constexpr int kDefaultHistoryPage = 100;

// The tasks of a job as its attempts show them: per task, the last attempt
// (a DONE one if any).
std::vector<quarry::v1::Task> TasksFromAttempts(
    const std::vector<quarry::v1::AttemptRecord>& attempts) {
  std::map<int32_t, quarry::v1::Task> tasks;
  for (const quarry::v1::AttemptRecord& attempt : attempts) {
    quarry::v1::Task& task = tasks[attempt.task_index()];
    task.set_index(attempt.task_index());
    task.set_attempts(task.attempts() + 1);
    if (task.status() == quarry::v1::EXECUTION_STATUS_DONE) continue;
    task.set_status(attempt.status());
    task.set_attempt_id(attempt.attempt_id());
    task.set_worker_id(attempt.worker_id());
    task.set_error(attempt.error());
    task.set_output_bytes(attempt.output_bytes());
  }
  std::vector<quarry::v1::Task> sorted;
  for (auto& [index, task] : tasks) sorted.push_back(std::move(task));
  return sorted;
}

}  // namespace

absl::StatusOr<quarry::v1::GetJobResponse> HistoryReader::GetJob(
    const quarry::v1::GetJobRequest& request) {
  absl::StatusOr<quarry::v1::Job> job = history_->GetJob(request.job_id());
  if (!job.ok()) {
    if (absl::IsNotFound(job.status())) {
      return absl::NotFoundError(
          absl::StrCat("job ", request.job_id(), " not found"));
    }
    return job.status();
  }
  quarry::v1::GetJobResponse response;
  *response.mutable_job() = *std::move(job);
  if (request.include_tasks() || request.include_attempts()) {
    absl::StatusOr<std::vector<quarry::v1::AttemptRecord>> attempts =
        history_->GetAttempts(request.job_id());
    if (!attempts.ok()) return attempts.status();
    if (request.include_tasks()) {
      for (auto& task : TasksFromAttempts(*attempts)) {
        *response.add_tasks() = std::move(task);
      }
    }
    if (request.include_attempts()) {
      for (auto& attempt : *attempts) {
        *response.add_attempts() = std::move(attempt);
      }
    }
  }
  return response;
}

absl::Status HistoryReader::ListAfterStore(
    const quarry::v1::ListJobsRequest& request, int page_size, int64_t before,
    quarry::v1::ListJobsResponse& response) {
  if (request.state() != quarry::v1::JOB_STATE_UNSPECIFIED &&
      !IsFinished(request.state())) {
    return absl::OkStatus();  // The history holds finished jobs only.
  }
  HistoryQuery query;
  query.state = request.state();
  query.page_size = page_size;
  query.page_token = absl::StrCat(before);
  while (response.jobs_size() < page_size) {
    absl::StatusOr<HistoryPage> page = history_->ListJobs(query);
    if (!page.ok()) return page.status();
    for (quarry::v1::Job& job : page->jobs) {
      if (response.jobs_size() == page_size) {
        response.set_next_page_token(
            absl::StrCat("h", ParseJobId(job.id()).value_or(0) + 1));
        return absl::OkStatus();
      }
      // Jobs the store still has were listed from it.
      if (!absl::IsNotFound(store_->GetJob(job.id()).status())) continue;
      *response.add_jobs() = std::move(job);
    }
    if (page->next_page_token.empty()) return absl::OkStatus();
    query.page_token = page->next_page_token;
  }
  if (!response.jobs().empty()) {
    response.set_next_page_token(absl::StrCat(
        "h", ParseJobId(response.jobs().rbegin()->id()).value_or(1)));
  }
  return absl::OkStatus();
}

absl::StatusOr<quarry::v1::ListHistoryResponse> HistoryReader::ListHistory(
    const quarry::v1::ListHistoryRequest& request) {
  if (history_ == nullptr) {
    return absl::FailedPreconditionError(
        "this leader keeps no execution history (start it with --history "
        "postgresql://...)");
  }
  if (request.page_size() < 0 || request.page_size() > kMaxHistoryPage) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size must be in [0, ", kMaxHistoryPage, "], got ",
        request.page_size()));
  }
  if (!quarry::v1::JobState_IsValid(request.state()) ||
      (request.state() != quarry::v1::JOB_STATE_UNSPECIFIED &&
       !IsFinished(request.state()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "state must be DONE, FAILED, CANCELLED or unset, got ",
        request.state()));
  }
  HistoryQuery query;
  query.state = request.state();
  query.kind = request.kind();
  if (request.has_end_after()) query.end_after = FromProtoTime(request.end_after());
  if (request.has_end_before()) {
    query.end_before = FromProtoTime(request.end_before());
  }
  if (query.end_after >= query.end_before) {
    return absl::InvalidArgumentError("end_after must be before end_before");
  }
  query.page_size =
      request.page_size() == 0 ? kDefaultHistoryPage : request.page_size();
  query.page_token = request.page_token();
  absl::StatusOr<HistoryPage> page = history_->ListJobs(query);
  if (!page.ok()) return page.status();
  quarry::v1::ListHistoryResponse response;
  for (auto& job : page->jobs) *response.add_jobs() = std::move(job);
  response.set_next_page_token(page->next_page_token);
  return response;
}

}  // namespace quarry

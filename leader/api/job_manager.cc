#include "leader/api/job_manager.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "common/ids.h"
#include "common/time_util.h"

namespace quarry {
namespace {

using quarry::v1::Job;

constexpr int kDefaultPageSize = 50;
constexpr int kMaxPageSize = 1000;
constexpr absl::Duration kCancelWait = absl::Seconds(2);
constexpr absl::Duration kWatchPoll = absl::Seconds(1);
constexpr absl::Duration kProgressInterval = absl::Milliseconds(20);

absl::Status CheckJobId(const std::string& job_id) {
  if (job_id.empty()) return absl::InvalidArgumentError("job_id is required");
  if (!ParseJobId(job_id).has_value()) {
    return absl::NotFoundError(absl::StrCat(
        "job ", job_id, " not found (job ids look like job-000001)"));
  }
  return absl::OkStatus();
}

}  // namespace

JobManager::JobManager(Store* store, Controller* controller,
                       ChangeNotifier* notifier, const Clock* clock,
                       PlannerLimits limits, History* history,
                       LeaderObserver* observer)
    : store_(store),
      controller_(controller),
      notifier_(notifier),
      clock_(clock),
      limits_(limits),
      history_(history),
      history_reader_(history, store),
      observer_(observer) {}

absl::Status JobManager::StoreCall(StoreOp op, absl::Status status) const {
  if (!status.ok() && !absl::IsNotFound(status) &&
      !absl::IsInvalidArgument(status) && observer_ != nullptr) {
    observer_->OnStoreError(op, status);
  }
  return status;
}

absl::Status JobManager::CheckRoomFor(int64_t tasks) {
  if (limits_.max_pending_tasks <= 0) return absl::OkStatus();
  const int64_t unfinished = controller_->UnfinishedTasks();
  if (unfinished + tasks <= limits_.max_pending_tasks) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat(
      "the leader holds ", unfinished, " unfinished tasks; this job's ", tasks,
      " would pass --max_pending_tasks=", limits_.max_pending_tasks,
      "; submit again when jobs finish"));
}

absl::StatusOr<quarry::v1::SubmitJobResponse> JobManager::Submit(
    const quarry::v1::JobSpec& spec, const std::string& owner) {
  absl::StatusOr<JobPlan> plan = PlanJob(spec, limits_, controller_->kinds());
  if (!plan.ok()) return plan.status();
  if (absl::Status room = CheckRoomFor(plan->tasks.task_count()); !room.ok()) {
    return room;
  }
  absl::StatusOr<int64_t> sequence = store_->NextJobSequence();
  if (!sequence.ok()) return StoreCall(StoreOp::kWrite, sequence.status());
  Job job;
  job.set_id(FormatJobId(*sequence));
  const std::string output_dir = plan->spec.output_dir();
  if (!output_dir.empty()) {
    if (absl::Status reserved = controller_->ReserveOutputDir(output_dir, job.id());
        !reserved.ok()) {
      return reserved;
    }
  }
  // From here on a failure must give the directory back.
  auto release = [&](absl::Status status) {
    if (!output_dir.empty()) controller_->ReleaseOutputDir(output_dir);
    return status;
  };
  if (absl::Status prepared = PrepareOutputDir(plan->spec, limits_.data_roots);
      !prepared.ok()) {
    return release(prepared);
  }
  *job.mutable_spec() = std::move(plan->spec);
  job.set_state(quarry::v1::JOB_STATE_PENDING);
  job.set_owner(owner);
  job.set_task_count(plan->tasks.task_count());
  job.mutable_task_counts()->set_pending(job.task_count());
  *job.mutable_create_time() = ToProtoTime(clock_->Now());
  // The only time a proto per task is made: the store keeps its own compact
  // copy, the controller the plan.
  if (absl::Status created = store_->CreateJob(job, plan->tasks.MakeTasks());
      !created.ok()) {
    return release(StoreCall(StoreOp::kWrite, created));
  }
  quarry::v1::SubmitJobResponse response;
  response.set_job_id(job.id());
  response.set_task_count(job.task_count());
  controller_->OnJobSubmitted(job, std::move(plan->tasks));
  return response;
}

absl::StatusOr<quarry::v1::GetJobResponse> JobManager::Get(
    const quarry::v1::GetJobRequest& request) {
  if (absl::Status ok = CheckJobId(request.job_id()); !ok.ok()) return ok;
  quarry::v1::GetJobResponse response;
  absl::StatusOr<Job> job = store_->GetJob(request.job_id());
  if (absl::IsNotFound(job.status()) && history_ != nullptr) {
    absl::StatusOr<quarry::v1::GetJobResponse> found = history_reader_.GetJob(request);
    if (!found.ok()) return StoreCall(StoreOp::kHistory, found.status());
    return found;
  }
  if (!job.ok()) return StoreCall(StoreOp::kRead, job.status());
  *response.mutable_job() = std::move(*job);
  if (request.include_tasks()) {
    absl::StatusOr<std::vector<quarry::v1::Task>> tasks =
        store_->GetTasks(request.job_id());
    if (!tasks.ok()) return StoreCall(StoreOp::kRead, tasks.status());
    for (quarry::v1::Task& task : *tasks) {
      *response.add_tasks() = std::move(task);
    }
  }
  if (request.include_attempts() && history_ != nullptr) {
    absl::StatusOr<std::vector<quarry::v1::AttemptRecord>> attempts =
        history_->GetAttempts(request.job_id());
    if (!attempts.ok()) return StoreCall(StoreOp::kHistory, attempts.status());
    for (auto& attempt : *attempts) *response.add_attempts() = std::move(attempt);
  }
  return response;
}

absl::StatusOr<quarry::v1::ListJobsResponse> JobManager::List(
    const quarry::v1::ListJobsRequest& request) {
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "page_size must be in [0, ", kMaxPageSize, "], got ",
        request.page_size()));
  }
  if (!quarry::v1::JobState_IsValid(request.state())) {
    return absl::InvalidArgumentError(
        absl::StrCat("state ", request.state(), " is not a JobState"));
  }
  const int page_size =
      request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  quarry::v1::ListJobsResponse response;
  // Tokens "h<seq>" continue into the history, past the store's last page.
  if (absl::StartsWith(request.page_token(), "h") && history_ != nullptr) {
    int64_t before = 0;
    if (!absl::SimpleAtoi(request.page_token().substr(1), &before)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "page_token \"", request.page_token(), "\" is malformed"));
    }
    if (absl::Status listed =
            history_reader_.ListAfterStore(request, page_size, before, response);
        !listed.ok()) {
      return StoreCall(StoreOp::kHistory, listed);
    }
    return response;
  }
  absl::StatusOr<JobPage> page =
      store_->ListJobs(request.state(), page_size, request.page_token());
  if (!page.ok()) return StoreCall(StoreOp::kRead, page.status());
  for (Job& job : page->jobs) *response.add_jobs() = std::move(job);
  response.set_next_page_token(page->next_page_token);
  if (history_ != nullptr && page->next_page_token.empty() &&
      response.jobs_size() < page_size) {
    const int64_t before =
        response.jobs().empty()
            ? INT64_MAX
            : ParseJobId(response.jobs().rbegin()->id()).value_or(INT64_MAX);
    if (absl::Status listed =
            history_reader_.ListAfterStore(request, page_size, before, response);
        !listed.ok()) {
      return StoreCall(StoreOp::kHistory, listed);
    }
  }
  return response;
}

absl::StatusOr<quarry::v1::GetJobResultResponse> JobManager::Result(
    const std::string& job_id) {
  if (absl::Status ok = CheckJobId(job_id); !ok.ok()) return ok;
  absl::StatusOr<Job> job = store_->GetJob(job_id);
  if (!job.ok()) return StoreCall(StoreOp::kRead, job.status());
  absl::StatusOr<std::vector<quarry::v1::Task>> tasks = store_->GetTasks(job_id);
  if (!tasks.ok()) return StoreCall(StoreOp::kRead, tasks.status());
  quarry::v1::GetJobResultResponse response;
  response.set_job_id(job_id);
  response.set_state(job->state());
  response.set_output_dir(job->spec().output_dir());
  // A cancelled job's committed files are removed: it lists none.
  if (job->state() == quarry::v1::JOB_STATE_CANCELLED) return response;
  for (const quarry::v1::Task& task : *tasks) {
    if (task.status() != quarry::v1::EXECUTION_STATUS_DONE) continue;
    if (task.is_reduce()) {
      response.set_result_path(task.output_path());
      response.set_result_summary(task.summary());
    }
    if (task.output_path().empty()) continue;
    quarry::v1::OutputFile* file = response.add_files();
    file->set_path(task.output_path());
    file->set_size_bytes(task.output_bytes());
    file->set_task_index(task.index());
    file->set_summary(task.summary());
  }
  return response;
}

absl::StatusOr<Job> JobManager::Cancel(const std::string& job_id) {
  if (absl::Status ok = CheckJobId(job_id); !ok.ok()) return ok;
  absl::StatusOr<Job> job = store_->GetJob(job_id);
  if (!job.ok()) return StoreCall(StoreOp::kRead, job.status());
  if (IsFinished(job->state())) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id, " already finished: ",
                     quarry::v1::JobState_Name(job->state())));
  }
  uint64_t version = notifier_->version();
  if (absl::Status requested = controller_->RequestCancel(job_id);
      !requested.ok()) {
    return requested;
  }
  const absl::Time deadline = absl::Now() + kCancelWait;
  while (true) {
    job = store_->GetJob(job_id);
    if (!job.ok()) return StoreCall(StoreOp::kRead, job.status());
    if (IsFinished(job->state()) || absl::Now() >= deadline) return job;
    version = notifier_->WaitForChange(version, deadline - absl::Now());
  }
}

namespace {

// Whether `a` and `b` show the same progress. The spec and ids never
// change; comparing the fields that do is much cheaper than a reflective
// comparison of whole messages, and watchers compare after every step.
bool SameProgress(const Job& a, const Job& b) {
  const quarry::v1::TaskCounts& x = a.task_counts();
  const quarry::v1::TaskCounts& y = b.task_counts();
  return a.state() == b.state() && x.pending() == y.pending() &&
         x.assigned() == y.assigned() && x.running() == y.running() &&
         x.done() == y.done() && x.failed() == y.failed() &&
         x.cancelled() == y.cancelled() &&
         a.attempts_started() == b.attempts_started() &&
         a.start_time().seconds() == b.start_time().seconds() &&
         a.start_time().nanos() == b.start_time().nanos() &&
         a.end_time().seconds() == b.end_time().seconds() &&
         a.end_time().nanos() == b.end_time().nanos() &&
         a.error() == b.error();
}

}  // namespace

absl::Status JobManager::Watch(
    const std::string& job_id,
    const std::function<bool(const quarry::v1::JobEvent&)>& send,
    const std::function<bool()>& cancelled) {
  if (absl::Status ok = CheckJobId(job_id); !ok.ok()) return ok;
  Job last_sent;
  bool sent_any = false;
  absl::Time last_send = absl::InfinitePast();
  ChangeNotifier::Versions seen = notifier_->versions();
  while (!cancelled()) {
    absl::StatusOr<Job> job = store_->GetJob(job_id);
    if (absl::IsNotFound(job.status()) && history_ != nullptr && !sent_any) {
      // Finished and gone from the store: its final state, once.
      job = history_->GetJob(job_id);
      if (!job.ok()) return StoreCall(StoreOp::kHistory, job.status());
      quarry::v1::JobEvent event;
      *event.mutable_job() = *std::move(job);
      send(event);
      return absl::OkStatus();
    }
    if (!job.ok()) return StoreCall(StoreOp::kRead, job.status());
    absl::Duration wait = kWatchPoll;
    // Between sends of mere progress only a new state ends the wait.
    bool states_only = false;
    if (!sent_any || !SameProgress(*job, last_sent)) {
      // A new state goes out at once; mere progress at most every
      // kProgressInterval, so a busy job does not flood its watchers.
      const absl::Time now = absl::Now();
      const bool new_state = !sent_any || job->state() != last_sent.state();
      if (new_state || now - last_send >= kProgressInterval) {
        quarry::v1::JobEvent event;
        *event.mutable_job() = *job;
        if (!send(event)) return absl::CancelledError("the watcher went away");
        last_sent = std::move(*job);
        last_send = now;
        sent_any = true;
      } else {
        wait = last_send + kProgressInterval - now;
        states_only = true;
      }
    }
    if (IsFinished(last_sent.state())) return absl::OkStatus();
    seen = notifier_->WaitFor(seen, states_only, wait);
  }
  return absl::CancelledError("the watcher went away");
}

}  // namespace quarry

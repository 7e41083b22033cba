#include "leader/control/job_runtime.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/time_util.h"

namespace quarry {

using quarry::v1::ExecutionStatus;

void AdjustTaskCounts(quarry::v1::TaskCounts& counts, ExecutionStatus status,
                      int delta) {
  switch (status) {
    case quarry::v1::EXECUTION_STATUS_PENDING:
      counts.set_pending(counts.pending() + delta);
      break;
    case quarry::v1::EXECUTION_STATUS_ASSIGNED:
      counts.set_assigned(counts.assigned() + delta);
      break;
    case quarry::v1::EXECUTION_STATUS_RUNNING:
      counts.set_running(counts.running() + delta);
      break;
    case quarry::v1::EXECUTION_STATUS_DONE:
      counts.set_done(counts.done() + delta);
      break;
    case quarry::v1::EXECUTION_STATUS_FAILED:
      counts.set_failed(counts.failed() + delta);
      break;
    case quarry::v1::EXECUTION_STATUS_CANCELLED:
      counts.set_cancelled(counts.cancelled() + delta);
      break;
    default:
      break;
  }
}

JobRuntime::JobRuntime(quarry::v1::Job job_record, TaskPlan task_plan)
    : sequence(ParseJobId(job_record.id()).value_or(0)),
      job(std::move(job_record)),
      plan(std::move(task_plan)) {
  tasks.resize(plan.task_count());
  maps_remaining = plan.map_count;
  const auto& timeout = job.spec().task_timeout();
  task_timeout =
      absl::Seconds(timeout.seconds()) + absl::Nanoseconds(timeout.nanos());
}

std::unique_ptr<JobRuntime> JobRuntime::Restore(
    quarry::v1::Job job, const std::vector<quarry::v1::Task>& tasks,
    absl::FunctionRef<int32_t(const std::string&)> intern,
    std::vector<RestoredAttempt>* live) {
  const std::string output_dir = job.spec().output_dir();
  auto runtime = std::make_unique<JobRuntime>(
      std::move(job), TaskPlan::FromTasks(tasks, output_dir));
  runtime->next_fresh = runtime->plan.map_count;  // Pending ones are queued.
  runtime->maps_remaining = 0;
  quarry::v1::TaskCounts& counts = *runtime->job.mutable_task_counts();
  counts.Clear();
  for (const quarry::v1::Task& task : tasks) {
    const int32_t index = task.index();
    TaskRuntime& state = runtime->tasks[index];
    state.status = static_cast<uint8_t>(task.status());
    state.attempts = task.attempts();
    state.failed_attempts = task.failed_attempts();
    state.output_bytes = task.output_bytes();
    if (!task.worker_id().empty()) state.worker = intern(task.worker_id());
    if (!task.error().empty()) runtime->errors[index] = task.error();
    if (!task.summary().empty()) runtime->summaries[index] = task.summary();
    AdjustTaskCounts(counts, task.status(), +1);
    const bool reduce = runtime->plan.is_reduce(index);
    if (!reduce && task.status() != quarry::v1::EXECUTION_STATUS_DONE) {
      ++runtime->maps_remaining;
    }
    switch (task.status()) {
      case quarry::v1::EXECUTION_STATUS_PENDING:
        if (!reduce) runtime->queued.push_back(index);
        break;
      case quarry::v1::EXECUTION_STATUS_ASSIGNED:
      case quarry::v1::EXECUTION_STATUS_RUNNING:
        live->push_back(RestoredAttempt{task.attempt_id(), index,
                                        task.attempts(), task.worker_id()});
        ++runtime->live_attempts;
        break;
      case quarry::v1::EXECUTION_STATUS_FAILED:
        runtime->failure_reasons.push_back(
            absl::StrCat("task ", index, ": ", task.error()));
        break;
      default:
        break;
    }
  }
  if (runtime->plan.has_reduce && runtime->maps_remaining == 0 &&
      runtime->tasks[runtime->plan.map_count].execution_status() ==
          quarry::v1::EXECUTION_STATUS_PENDING) {
    runtime->queued.push_back(runtime->plan.map_count);
  }
  return runtime;
}

void JobRuntime::SetTaskStatus(int32_t index, ExecutionStatus status) {
  TaskRuntime& task = tasks[index];
  if (task.execution_status() == status) return;
  AdjustTaskCounts(*job.mutable_task_counts(), task.execution_status(), -1);
  AdjustTaskCounts(*job.mutable_task_counts(), status, +1);
  task.status = static_cast<uint8_t>(status);
  dirty = true;
  MarkDirty(index);
}

int32_t JobRuntime::StartAttempt(int32_t index, int32_t worker) {
  TaskRuntime& task = tasks[index];
  ++task.attempts;
  task.worker = worker;
  SetTaskStatus(index, quarry::v1::EXECUTION_STATUS_ASSIGNED);
  job.set_attempts_started(job.attempts_started() + 1);
  ++live_attempts;
  return task.attempts;
}

void JobRuntime::FillAssignment(int32_t index, const std::string& attempt_id,
                                int32_t slot,
                                quarry::v1::Assignment* assignment) const {
  assignment->set_attempt_id(attempt_id);
  assignment->set_job_id(job.id());
  assignment->set_task_index(index);
  assignment->set_slot(slot);
  assignment->set_kind(job.spec().kind());
  assignment->set_is_reduce(plan.is_reduce(index));
  plan.AddInputs(index, assignment->mutable_inputs());
  if (!plan.output_dir.empty()) {
    assignment->set_output_path(plan.OutputPath(index));
  }
  *assignment->mutable_settings() = job.spec().settings();
  if (!job.spec().command().empty()) {
    *assignment->mutable_command() = job.spec().command();
    *assignment->mutable_env() = job.spec().env();
    if (plan.is_reduce(index)) {
      assignment->set_reduce_command(job.spec().reduce());
    }
  }
  assignment->set_attempt_number(tasks[index].attempts);
}

void JobRuntime::RecordDone(int32_t index,
                            const quarry::v1::AttemptStatus* report) {
  errors.erase(index);
  if (report != nullptr && report->has_start_time() && report->has_end_time()) {
    NoteRunTime(FromProtoTime(report->end_time()) -
                FromProtoTime(report->start_time()));
  }
  if (report != nullptr) {
    if (!report->summary().empty()) summaries[index] = report->summary();
    tasks[index].output_bytes = report->output_bytes();
  }
  SetTaskStatus(index, quarry::v1::EXECUTION_STATUS_DONE);
  if (!plan.is_reduce(index) && --maps_remaining == 0 && plan.has_reduce) {
    queued.push_back(plan.map_count);
  }
}

bool JobRuntime::RecordUnsuccessful(int32_t index, const std::string& error,
                                    bool counts_as_failure,
                                    int32_t max_dispatches) {
  TaskRuntime& task = tasks[index];
  errors[index] = error;
  if (counts_as_failure) ++task.failed_attempts;
  const int32_t max_attempts = job.spec().max_attempts();
  std::string reason;
  if (task.failed_attempts >= max_attempts) {
    reason = absl::StrCat("failed ", task.failed_attempts, " of ", max_attempts,
                          " attempts, last: ", error);
  } else if (task.attempts >= max_attempts + max_dispatches) {
    reason = absl::StrCat("could not be started in ", task.attempts,
                          " tries, last: ", error);
  }
  if (!reason.empty()) {
    const std::string inputs = plan.DescribeInputs(index);
    const std::string input =
        inputs.empty() ? "" : absl::StrCat(" (", inputs, ")");
    failure_reasons.push_back(
        absl::StrCat("task ", index, input, ": ", reason));
    SetTaskStatus(index, quarry::v1::EXECUTION_STATUS_FAILED);
    return false;
  }
  SetTaskStatus(index, quarry::v1::EXECUTION_STATUS_PENDING);
  queued.push_front(index);  // Retries go first.
  return true;
}

void JobRuntime::NoteKindOffered(bool offered) {
  const bool waiting = runnable() > 0 && !offered;
  if (waiting == !job.waiting_reason().empty()) return;
  job.set_waiting_reason(
      waiting ? absl::StrCat("waiting: no ALIVE worker offers kind ",
                             job.spec().kind())
              : "");
  dirty = true;
}

void JobRuntime::Finish(quarry::v1::JobState state, const std::string& error,
                        absl::Time now) {
  finished = true;
  job.set_state(state);
  job.clear_waiting_reason();
  job.set_error(error);
  *job.mutable_end_time() = ToProtoTime(now);
  if (!job.has_start_time()) *job.mutable_start_time() = ToProtoTime(now);
  dirty = true;
  ClearRunnable();
  for (int32_t index = 0; index < static_cast<int32_t>(tasks.size()); ++index) {
    const ExecutionStatus status = tasks[index].execution_status();
    if (status == quarry::v1::EXECUTION_STATUS_PENDING ||
        status == quarry::v1::EXECUTION_STATUS_ASSIGNED ||
        status == quarry::v1::EXECUTION_STATUS_RUNNING) {
      SetTaskStatus(index, quarry::v1::EXECUTION_STATUS_CANCELLED);
    }
  }
}

quarry::v1::Task JobRuntime::TaskRecord(
    int32_t index, const std::vector<std::string>& worker_names) const {
  const TaskRuntime& runtime = tasks[index];
  quarry::v1::Task task = plan.MakeTask(index);
  task.set_status(runtime.execution_status());
  task.set_attempts(runtime.attempts);
  if (runtime.attempts > 0) {
    task.set_attempt_id(FormatAttemptId(job.id(), index, runtime.attempts));
  }
  if (runtime.worker >= 0) task.set_worker_id(worker_names[runtime.worker]);
  if (auto it = errors.find(index); it != errors.end()) {
    task.set_error(it->second);
  }
  if (auto it = summaries.find(index); it != summaries.end()) {
    task.set_summary(it->second);
  }
  task.set_output_bytes(runtime.output_bytes);
  task.set_failed_attempts(runtime.failed_attempts);
  return task;
}

}  // namespace quarry

#include "leader/workers/attempt_log_fetcher.h"

#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/ids.h"

namespace quarry {
namespace {

namespace v1 = quarry::v1;
using LogResult = absl::StatusOr<v1::GetWorkerAttemptLogResponse>;

// Extra wait beyond the calls' own deadline before giving up on a
// callback (gRPC always runs it; this only bounds a broken client).
constexpr absl::Duration kCallbackSlack = absl::Seconds(1);

// The answers of calls sent concurrently; lives until the last callback.
struct Replies {
  absl::Mutex mu;
  std::vector<LogResult> results ABSL_GUARDED_BY(mu);
  size_t answered ABSL_GUARDED_BY(mu) = 0;
};

// Asks each of `workers` for the log of `attempt_id`, all at once, and
// waits for every answer. The i-th result belongs to workers[i].
std::vector<LogResult> CallWorkers(WorkerClientFactory& clients,
                                   const std::vector<v1::Worker>& workers,
                                   const std::string& attempt_id,
                                   absl::Duration timeout) {
  auto replies = std::make_shared<Replies>();
  {
    absl::MutexLock lock(&replies->mu);
    replies->results.assign(workers.size(),
                            absl::DeadlineExceededError("no answer"));
  }
  // The clients must live until their calls complete.
  std::vector<std::unique_ptr<WorkerClient>> connections;
  for (size_t i = 0; i < workers.size(); ++i) {
    connections.push_back(
        clients.Connect(workers[i].id(), workers[i].address()));
    v1::GetWorkerAttemptLogRequest request;
    request.set_worker_id(workers[i].id());
    request.set_attempt_id(attempt_id);
    connections.back()->GetAttemptLog(std::move(request), timeout,
                                      [replies, i](LogResult result) {
                                        absl::MutexLock lock(&replies->mu);
                                        replies->results[i] = std::move(result);
                                        ++replies->answered;
                                      });
  }
  Replies* const state = replies.get();
  absl::MutexLock lock(&state->mu);
  const size_t wanted = workers.size();
  auto all_answered = [state, wanted]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(
                          state->mu) { return state->answered >= wanted; };
  state->mu.AwaitWithTimeout(absl::Condition(&all_answered),
                             timeout + kCallbackSlack);
  return state->results;
}

bool CannotReach(const absl::Status& status) {
  return absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status);
}

v1::GetAttemptLogResponse Answer(v1::GetWorkerAttemptLogResponse reply,
                                 const v1::Worker& worker) {
  v1::GetAttemptLogResponse response;
  *response.mutable_log() = std::move(*reply.mutable_log());
  response.mutable_log()->set_worker_id(worker.id());
  response.set_worker_address(worker.address());
  return response;
}

}  // namespace

AttemptLogFetcher::AttemptLogFetcher(Store* store, History* history,
                                     WorkerClientFactory* clients,
                                     absl::Duration timeout)
    : store_(store), history_(history), clients_(clients), timeout_(timeout) {}

absl::StatusOr<v1::GetAttemptLogResponse> AttemptLogFetcher::Fetch(
    const v1::GetAttemptLogRequest& request) const {
  absl::StatusOr<Target> target = FindTarget(request);
  if (!target.ok()) return target.status();
  absl::StatusOr<std::vector<v1::Worker>> workers = store_->ListWorkers();
  if (!workers.ok()) return workers.status();
  if (target->worker_id.empty()) {
    return AskEveryWorker(target->attempt_id, *workers);
  }
  return AskWorker(*target, *workers);
}

absl::StatusOr<AttemptLogFetcher::Target> AttemptLogFetcher::FindTarget(
    const v1::GetAttemptLogRequest& request) const {
  const std::string& job_id = request.job_id();
  if (job_id.empty()) return absl::InvalidArgumentError("job_id is required");
  const int32_t index = request.task_index();
  if (index < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("task_index must be >= 0, got ", index));
  }
  if (!request.attempt_id().empty()) {
    const std::optional<AttemptIdParts> parts =
        ParseAttemptId(request.attempt_id());
    if (!parts.has_value() || parts->job_id != job_id ||
        parts->task_index != index) {
      return absl::InvalidArgumentError(
          absl::StrCat("attempt_id \"", request.attempt_id(),
                       "\" is not an attempt of task ", index, " of job ",
                       job_id, " (want ", job_id, ".", index, ".N)"));
    }
  }
  absl::StatusOr<std::vector<v1::Task>> tasks = store_->GetTasks(job_id);
  if (absl::IsNotFound(tasks.status()) && history_ != nullptr) {
    return FromHistory(request, tasks.status());
  }
  if (!tasks.ok()) return tasks.status();
  if (static_cast<size_t>(index) >= tasks->size()) {
    return absl::NotFoundError(
        absl::StrCat("job ", job_id, " has ", tasks->size(), " tasks (0..",
                     tasks->size() - 1, "): no task_index ", index));
  }
  return FromTask(request, (*tasks)[static_cast<size_t>(index)]);
}

absl::StatusOr<AttemptLogFetcher::Target> AttemptLogFetcher::FromTask(
    const v1::GetAttemptLogRequest& request, const v1::Task& task) const {
  const std::string task_name =
      absl::StrCat("task ", task.index(), " of job ", request.job_id());
  Target target;
  if (request.attempt_id().empty()) {
    if (task.attempt_id().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(task_name, " has not started an attempt yet"));
    }
    target.attempt_id = task.attempt_id();
  } else {
    const int32_t number = ParseAttemptId(request.attempt_id())->attempt_number;
    if (number > task.attempts()) {
      return absl::NotFoundError(
          absl::StrCat(task_name, " has started ", task.attempts(),
                       " attempt(s): ", request.attempt_id(), " never ran"));
    }
    target.attempt_id = request.attempt_id();
  }
  target.worker_id = target.attempt_id == task.attempt_id()
                         ? task.worker_id()
                         : HistoryWorkerOf(request.job_id(), target.attempt_id);
  return target;
}

absl::StatusOr<AttemptLogFetcher::Target> AttemptLogFetcher::FromHistory(
    const v1::GetAttemptLogRequest& request,
    const absl::Status& not_in_store) const {
  absl::StatusOr<std::vector<v1::AttemptRecord>> attempts =
      history_->GetAttempts(request.job_id());
  if (!attempts.ok()) return attempts.status();
  const v1::AttemptRecord* found = nullptr;
  bool job_known = false;
  for (const v1::AttemptRecord& attempt : *attempts) {
    job_known = true;
    if (attempt.task_index() != request.task_index()) continue;
    // By end time: the last one is the task's last attempt.
    if (request.attempt_id().empty() ||
        attempt.attempt_id() == request.attempt_id()) {
      found = &attempt;
    }
  }
  if (!job_known) return not_in_store;
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "the history of job ", request.job_id(), " has no attempt ",
        request.attempt_id().empty()
            ? absl::StrCat("of task ", request.task_index())
            : request.attempt_id()));
  }
  return Target{found->attempt_id(), found->worker_id()};
}

std::string AttemptLogFetcher::HistoryWorkerOf(
    const std::string& job_id, const std::string& attempt_id) const {
  if (history_ == nullptr) return "";
  absl::StatusOr<std::vector<v1::AttemptRecord>> attempts =
      history_->GetAttempts(job_id);
  if (!attempts.ok()) return "";  // Ask every worker instead.
  for (const v1::AttemptRecord& attempt : *attempts) {
    if (attempt.attempt_id() == attempt_id) return attempt.worker_id();
  }
  return "";
}

absl::StatusOr<v1::GetAttemptLogResponse> AttemptLogFetcher::AskWorker(
    const Target& target, const std::vector<v1::Worker>& workers) const {
  const std::string ran = absl::StrCat("worker ", target.worker_id,
                                       " that ran attempt ", target.attempt_id);
  const v1::Worker* worker = nullptr;
  for (const v1::Worker& candidate : workers) {
    if (candidate.id() == target.worker_id) worker = &candidate;
  }
  if (worker == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(ran, " is gone (it left the cluster); its log is lost"));
  }
  if (worker->status() == v1::WORKER_STATUS_DEAD) {
    return absl::UnavailableError(absl::StrCat(
        ran,
        " is gone (DEAD: its connection broke or it stopped answering); "
        "its log is lost unless it comes back"));
  }
  LogResult reply = std::move(
      CallWorkers(*clients_, {*worker}, target.attempt_id, timeout_)[0]);
  if (reply.ok()) return Answer(*std::move(reply), *worker);
  const absl::Status& error = reply.status();
  if (CannotReach(error)) {
    return absl::UnavailableError(absl::StrCat(
        ran, " does not answer at ", worker->address(), " (", error.message(),
        "); try again; if it is gone, its log is lost"));
  }
  if (absl::IsFailedPrecondition(error)) {  // Another worker has its address.
    return absl::NotFoundError(
        absl::StrCat(ran, " is gone (", error.message(), "); its log is lost"));
  }
  return absl::Status(error.code(),
                      absl::StrCat("the log of attempt ", target.attempt_id,
                                   " is lost: ", error.message()));
}

absl::StatusOr<v1::GetAttemptLogResponse> AttemptLogFetcher::AskEveryWorker(
    const std::string& attempt_id,
    const std::vector<v1::Worker>& workers) const {
  std::vector<v1::Worker> live;
  for (const v1::Worker& worker : workers) {
    if (worker.status() != v1::WORKER_STATUS_DEAD) live.push_back(worker);
  }
  std::vector<LogResult> replies =
      CallWorkers(*clients_, live, attempt_id, timeout_);
  int unreachable = 0;
  for (size_t i = 0; i < replies.size(); ++i) {
    if (replies[i].ok()) return Answer(*std::move(replies[i]), live[i]);
    if (CannotReach(replies[i].status())) ++unreachable;
  }
  return absl::NotFoundError(absl::StrCat(
      "no live worker has the log of attempt ", attempt_id, " (asked ",
      live.size(), " worker(s), ", unreachable,
      " did not answer): the worker that ran it is gone, or retention "
      "removed the log"));
}

}  // namespace quarry

// The controller's worker lifecycle events: registration, reports, the
// ConnectWorker stream, commit permission, drain and departure.
#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "leader/controller.h"
#include "leader/controller_state.h"

namespace quarry {

absl::Status Controller::OnRegisterWorker(
    const quarry::v1::RegisterWorkerRequest& request) {
  std::shared_ptr<WorkerClient> client =
      clients_->Connect(request.worker_id(), request.address());
  const absl::Time now = clock_->Now();
  auto worker = std::make_unique<WorkerRuntime>();
  quarry::v1::Worker& record = worker->record;
  record.set_id(request.worker_id());
  record.set_address(request.address());
  record.set_slots(request.slots());
  record.set_queue(request.queue());
  *record.mutable_labels() = request.labels();
  record.set_status(quarry::v1::WORKER_STATUS_ALIVE);
  *record.mutable_register_time() = ToProtoTime(now);
  // Slots first, then the places of its queue: the leader fills both alike.
  worker->slot_attempts.assign(request.slots() + request.queue(), "");
  worker->free_slots = request.slots() + request.queue();
  worker->client = std::move(client);
  worker->last_seen = now;

  std::shared_ptr<WorkerLink> old_link;
  {
    absl::MutexLock lock(&mu_);
    worker->name = WorkerName(request.worker_id());
    auto it = workers_.find(request.worker_id());
    std::vector<std::string> expected;  // Live attempts the leader had there.
    if (it != workers_.end()) {
      for (const std::string& attempt : it->second->slot_attempts) {
        if (!attempt.empty() && attempt[0] != '!') expected.push_back(attempt);
      }
      LOG(INFO) << "worker " << request.worker_id() << " registered again at "
                << request.address() << ", reporting "
                << request.attempts_size() << " attempts";
      old_link = std::move(it->second->link);
      it->second = std::move(worker);
    } else {
      LOG(INFO) << "worker " << request.worker_id() << " registered at "
                << request.address() << " with " << request.slots() << " slots";
      it = workers_.emplace(request.worker_id(), std::move(worker)).first;
    }
    // A restarted worker reports nothing: what it ran is LOST. A worker
    // that only lost touch (or outlived a leader restart) keeps its work.
    AdoptAttempts(*it->second, request.attempts(), std::move(expected));
    dirty_workers_.insert(request.worker_id());
    Wake();
  }
  if (old_link != nullptr) old_link->Close();
  return absl::OkStatus();
}

absl::Status Controller::OnWorkerReport(
    const quarry::v1::ReportWorkerStateRequest& report) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = workers_.find(report.worker_id());
  if (it == workers_.end()) {
    return absl::NotFoundError(absl::StrCat(
        "worker ", report.worker_id(), " is not registered; register again"));
  }
  it->second->last_seen = now;
  if (report.draining() && !it->second->draining) {
    LOG(INFO) << "worker " << report.worker_id() << " is draining";
    it->second->draining = true;
  }
  for (const quarry::v1::AttemptStatus& status : report.attempts()) {
    reported_.emplace_back(report.worker_id(), status);
  }
  Wake();
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Controller::OnWorkerConnected(
    const std::string& worker_id, std::shared_ptr<WorkerLink> link) {
  bool drain = false;
  int64_t id = 0;
  std::shared_ptr<WorkerLink> replaced;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(worker_id);
    if (it == workers_.end()) {
      return absl::NotFoundError(absl::StrCat(
          "worker ", worker_id, " is not registered; register first"));
    }
    WorkerRuntime& worker = *it->second;
    id = ++last_connection_id_;
    // The newest stream wins; the one it replaces is closed, so a worker
    // whose stream was taken over opens a fresh one (it is still alive).
    replaced = std::exchange(worker.link, link);
    worker.connection_id = id;
    worker.disconnected = false;
    worker.last_seen = clock_->Now();
    drain = worker.draining;
    dirty_workers_.insert(worker_id);
    Wake();
  }
  if (replaced != nullptr && replaced != link) replaced->Close();
  if (drain) link->SendDrain();
  return id;
}

void Controller::OnWorkerDisconnected(const std::string& worker_id,
                                      int64_t connection_id) {
  absl::MutexLock lock(&mu_);
  auto it = workers_.find(worker_id);
  if (it == workers_.end() || it->second->connection_id != connection_id) {
    return;  // Forgotten, or a newer connection replaced this one.
  }
  it->second->disconnected = true;
  it->second->link = nullptr;
  disconnected_.push_back(worker_id);
  Wake();
}

quarry::v1::RequestCommitResponse Controller::OnCommitRequest(
    const std::string& worker_id, const std::string& attempt_id) {
  quarry::v1::RequestCommitResponse response;
  auto refuse = [&response](std::string reason) {
    response.set_granted(false);
    response.set_reason(std::move(reason));
    return response;
  };
  absl::MutexLock lock(&mu_);
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) {
    return refuse(absl::StrCat("attempt ", attempt_id,
                               " no longer runs (superseded, lost or ended)"));
  }
  if (it->second.worker_id != worker_id) {
    return refuse(absl::StrCat("attempt ", attempt_id, " runs on worker ",
                               it->second.worker_id, ", not ", worker_id));
  }
  JobRuntime* job = FindJob(it->second.job_id);
  if (job == nullptr || job->finished) {
    return refuse(absl::StrCat("job ", it->second.job_id, " has ended"));
  }
  const int32_t index = it->second.task_index;
  const TaskRuntime& task = job->tasks[index];
  if (task.attempts != it->second.attempt_number) {
    return refuse(
        absl::StrCat("attempt ", attempt_id, " was superseded by ",
                     FormatAttemptId(job->job.id(), index, task.attempts)));
  }
  if (task.execution_status() == quarry::v1::EXECUTION_STATUS_DONE) {
    return refuse(absl::StrCat("task ", index, " is already committed"));
  }
  response.set_granted(true);
  return response;
}

absl::StatusOr<quarry::v1::Worker> Controller::RequestDrain(
    const std::string& worker_id) {
  std::shared_ptr<WorkerLink> link;
  quarry::v1::Worker record;
  {
    absl::MutexLock lock(&mu_);
    auto it = workers_.find(worker_id);
    if (it == workers_.end()) {
      return absl::NotFoundError(
          absl::StrCat("worker ", worker_id, " is not registered"));
    }
    WorkerRuntime& worker = *it->second;
    if (worker.link == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("worker ", worker_id,
                       " is not connected; it cannot be told to drain"));
    }
    LOG(INFO) << "draining worker " << worker_id << " on request";
    worker.draining = true;
    if (worker.record.status() == quarry::v1::WORKER_STATUS_ALIVE) {
      worker.record.set_status(quarry::v1::WORKER_STATUS_DRAINING);
    }
    dirty_workers_.insert(worker_id);
    link = worker.link;
    record = WorkerRecord(worker);
    Wake();
  }
  link->SendDrain();
  return record;
}

absl::Status Controller::OnDeregisterWorker(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  if (workers_.count(worker_id) == 0) {
    return absl::NotFoundError(
        absl::StrCat("worker ", worker_id, " is not registered"));
  }
  deregistered_.push_back(worker_id);
  Wake();
  return absl::OkStatus();
}

void Controller::ForgetWorker(const std::string& worker_id,
                              const std::string& why, absl::Time now,
                              Effects* effects) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return;
  LOG(INFO) << "worker " << worker_id << " leaves: " << why;
  LoseWorkerAttempts(*it->second, why, now, effects,
                     /*counts_as_failure=*/false);
  if (it->second->link != nullptr) effects->closes.push_back(it->second->link);
  forgotten_workers_.push_back(worker_id);
  dirty_workers_.erase(worker_id);
  workers_.erase(it);
}

}  // namespace quarry

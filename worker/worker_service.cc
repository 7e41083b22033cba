#include "worker/worker_service.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/auth.h"
#include "common/status_util.h"

namespace quarry::worker {

WorkerServiceImpl::WorkerServiceImpl(SlotExecutor* executor,
                                     AttemptLogStore* logs,
                                     std::string leader_token,
                                     EpochFence* fence)
    : executor_(executor),
      logs_(logs),
      leader_token_(std::move(leader_token)),
      fence_(fence) {}

absl::Status WorkerServiceImpl::CheckCaller(
    const grpc::ServerContextBase& context) const {
  if (!leader_token_.empty()) {
    if (absl::Status known = RequireBearer(context, leader_token_, "worker");
        !known.ok()) {
      return known;
    }
  }
  if (fence_ == nullptr) return absl::OkStatus();
  return fence_->Admit(LeaderEpochOf(context));
}

void WorkerServiceImpl::SetIdentity(std::string worker_id,
                                    std::string address) {
  absl::MutexLock lock(&mu_);
  worker_id_ = std::move(worker_id);
  address_ = std::move(address);
}

absl::Status WorkerServiceImpl::CheckMeantForMe(
    absl::string_view requested_id) const {
  if (requested_id.empty()) {
    return absl::InvalidArgumentError(
        "worker_id is required: name the worker this request is meant for");
  }
  absl::MutexLock lock(&mu_);
  if (worker_id_.empty()) {
    return absl::UnavailableError("worker is starting; try again");
  }
  if (requested_id != worker_id_) {
    return absl::FailedPreconditionError(
        absl::StrCat("request meant for worker \"", requested_id,
                     "\" reached worker \"", worker_id_, "\" at ", address_));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* WorkerServiceImpl::StartTasks(
    grpc::CallbackServerContext* context,
    const quarry::v1::StartTasksRequest* request,
    quarry::v1::StartTasksResponse* response) {
  if (absl::Status caller = CheckCaller(*context); !caller.ok()) {
    return FinishNow(context, ToGrpcStatus(caller));
  }
  return FinishNow(context, HandleStartTasks(request, response));
}

grpc::Status WorkerServiceImpl::HandleStartTasks(
    const quarry::v1::StartTasksRequest* request,
    quarry::v1::StartTasksResponse* response) {
  if (absl::Status mine = CheckMeantForMe(request->worker_id()); !mine.ok()) {
    return ToGrpcStatus(mine);
  }
  const auto& assignments = request->assignments();
  const std::vector<absl::Status> started = executor_->StartAll(
      absl::MakeConstSpan(assignments.data(), assignments.size()));
  for (int i = 0; i < assignments.size(); ++i) {
    if (started[i].ok()) {
      response->add_accepted_attempt_ids(assignments[i].attempt_id());
      continue;
    }
    quarry::v1::RejectedAssignment* rejected = response->add_rejected();
    rejected->set_attempt_id(assignments[i].attempt_id());
    rejected->set_reason(std::string(started[i].message()));
  }
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::GetWorkerState(
    grpc::ServerContext* context,
    const quarry::v1::GetWorkerStateRequest* request,
    quarry::v1::GetWorkerStateResponse* response) {
  if (absl::Status caller = CheckCaller(*context); !caller.ok()) {
    return ToGrpcStatus(caller);
  }
  if (absl::Status mine = CheckMeantForMe(request->worker_id()); !mine.ok()) {
    return ToGrpcStatus(mine);
  }
  SlotExecutor::State state = executor_->Snapshot(request->include_finished());
  response->set_worker_id(request->worker_id());
  response->set_slots(executor_->slot_count());
  response->set_queue(executor_->queue_size());
  for (quarry::v1::SlotState& slot : state.slots) {
    *response->add_slot_states() = std::move(slot);
  }
  auto& attempts = *response->mutable_attempts();
  for (quarry::v1::AttemptStatus& attempt : state.attempts) {
    const std::string id = attempt.attempt_id();
    attempts[id] = std::move(attempt);
  }
  for (const std::string& id : request->attempt_ids()) {
    if (attempts.contains(id)) continue;
    if (std::optional<quarry::v1::AttemptStatus> known =
            executor_->GetAttempt(id)) {
      attempts[id] = std::move(*known);
    }
  }
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::CancelTasks(
    grpc::ServerContext* context, const quarry::v1::CancelTasksRequest* request,
    quarry::v1::CancelTasksResponse* response) {
  if (absl::Status caller = CheckCaller(*context); !caller.ok()) {
    return ToGrpcStatus(caller);
  }
  if (absl::Status mine = CheckMeantForMe(request->worker_id()); !mine.ok()) {
    return ToGrpcStatus(mine);
  }
  const std::vector<std::string> ids(request->attempt_ids().begin(),
                                     request->attempt_ids().end());
  for (const std::string& id : executor_->Cancel(ids)) {
    response->add_cancelled_attempt_ids(id);
  }
  return grpc::Status::OK;
}

grpc::Status WorkerServiceImpl::GetAttemptLog(
    grpc::ServerContext* context,
    const quarry::v1::GetWorkerAttemptLogRequest* request,
    quarry::v1::GetWorkerAttemptLogResponse* response) {
  if (absl::Status caller = CheckCaller(*context); !caller.ok()) {
    return ToGrpcStatus(caller);
  }
  if (absl::Status mine = CheckMeantForMe(request->worker_id()); !mine.ok()) {
    return ToGrpcStatus(mine);
  }
  if (request->attempt_id().empty()) {
    return ToGrpcStatus(absl::InvalidArgumentError("attempt_id is required"));
  }
  if (logs_ == nullptr) {
    return ToGrpcStatus(absl::NotFoundError(absl::StrCat(
        "worker ", request->worker_id(), " keeps no attempt logs")));
  }
  absl::StatusOr<AttemptLogStore::Contents> contents;
  if (const std::shared_ptr<AttemptLog> running =
          executor_->RunningLog(request->attempt_id())) {
    AttemptLog::Snapshot now = running->snapshot();
    contents = AttemptLogStore::Contents{std::move(now.text), now.truncated,
                                         now.finished};
  } else {
    contents = logs_->Read(request->attempt_id());
  }
  if (!contents.ok()) {
    return ToGrpcStatus(
        absl::Status(contents.status().code(),
                     absl::StrCat("worker ", request->worker_id(), ": ",
                                  contents.status().message())));
  }
  quarry::v1::AttemptLog& log = *response->mutable_log();
  log.set_attempt_id(request->attempt_id());
  log.set_worker_id(request->worker_id());
  log.set_content(std::move(contents->text));
  log.set_truncated(contents->truncated);
  log.set_finished(contents->finished);
  return grpc::Status::OK;
}

}  // namespace quarry::worker

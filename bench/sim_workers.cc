#include "bench/sim_workers.h"

#include <glog/logging.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/status_util.h"
#include "common/time_util.h"

namespace quarry::bench {
namespace {

// A command stream lives as long as the run; its deadline only bounds a
// run that was forgotten.
constexpr absl::Duration kStreamDeadline = absl::Hours(24);
// How often the reporter looks for heartbeats that are due.
constexpr absl::Duration kReporterPoll = absl::Milliseconds(50);
constexpr absl::Duration kStopWait = absl::Seconds(10);
constexpr size_t kMaxBatch = 1000;

}  // namespace

// One worker's ConnectWorker stream (gRPC callback API): reads commands
// until the stream ends, then tells the owner. gRPC owns it until OnDone.
class SimulatedWorkers::CommandStream
    : public grpc::ClientReadReactor<quarry::v1::WorkerCommand> {
 public:
  CommandStream(SimulatedWorkers* owner, int index,
                quarry::v1::ClusterService::Stub* stub, const std::string& id)
      : owner_(owner), index_(index) {
    request_.set_worker_id(id);
    context_.set_deadline(absl::ToChronoTime(absl::Now() + kStreamDeadline));
    stub->async()->ConnectWorker(&context_, &request_, this);
    StartRead(&command_);
    StartCall();
  }

  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows.
    if (command_.kind() == quarry::v1::WorkerCommand::KIND_DRAIN) {
      LOG(INFO) << request_.worker_id() << " was told to drain (ignored)";
    }
    StartRead(&command_);
  }

  void OnDone(const grpc::Status& status) override {
    owner_->StreamEnded(index_, status);
    delete this;
  }

 private:
  SimulatedWorkers* const owner_;
  const int index_;
  grpc::ClientContext context_;
  quarry::v1::ConnectWorkerRequest request_;
  quarry::v1::WorkerCommand command_;
};

SimulatedWorkers::SimulatedWorkers(Options options)
    : options_(std::move(options)) {
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < options_.workers; ++i) {
    auto worker = std::make_unique<Worker>();
    worker->id = absl::StrFormat("%s%04d", options_.id_prefix, i);
    worker->index = i;
    index_[worker->id] = i;
    workers_.push_back(std::move(worker));
  }
}

SimulatedWorkers::~SimulatedWorkers() { Stop(); }

quarry::v1::RegisterWorkerRequest SimulatedWorkers::Registration(
    const Worker& worker) const {
  quarry::v1::RegisterWorkerRequest request;
  request.set_worker_id(worker.id);
  request.set_address(address_);
  request.set_slots(options_.slots);
  (*request.mutable_labels())["simulated"] = "true";
  return request;
}

absl::Status SimulatedWorkers::Register(const Worker& worker) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  quarry::v1::RegisterWorkerResponse response;
  const grpc::Status status =
      leader_->RegisterWorker(&context, Registration(worker), &response);
  if (!status.ok()) return FromGrpcStatus(status);
  if (response.heartbeat_interval_ms() > 0) {
    absl::MutexLock lock(&mu_);
    heartbeat_ = absl::Milliseconds(response.heartbeat_interval_ms());
  }
  return absl::OkStatus();
}

absl::Status SimulatedWorkers::Start(const std::string& address) {
  address_ = address;
  channel_ =
      grpc::CreateChannel(options_.leader, grpc::InsecureChannelCredentials());
  leader_ = quarry::v1::ClusterService::NewStub(channel_);
  std::vector<const Worker*> workers;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& worker : workers_) workers.push_back(worker.get());
  }
  // The worker records never move (unique_ptr) and their ids never change.
  for (const Worker* worker : workers) {
    if (absl::Status status = Register(*worker); !status.ok()) {
      return absl::Status(
          status.code(),
          absl::StrCat("registering ", worker->id, ": ", status.message()));
    }
  }
  absl::MutexLock lock(&mu_);
  for (const auto& worker : workers_) OpenStream(*worker);
  reporter_ = std::thread([this] { RunReporter(); });
  return absl::OkStatus();
}

void SimulatedWorkers::OpenStream(Worker& worker) {
  ++calls_in_flight_;
  worker.stream =
      new CommandStream(this, worker.index, leader_.get(), worker.id);
}

void SimulatedWorkers::StreamEnded(int index, const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  --calls_in_flight_;
  Worker& worker = *workers_[index];
  worker.stream = nullptr;
  if (stopping_) return;
  // The leader closed it (it restarted, or declared the worker gone):
  // register again and reconnect, as a real worker does.
  LOG(WARNING) << worker.id
               << ": command stream ended: " << status.error_message()
               << "; registering again";
  worker.register_again = true;
}

void SimulatedWorkers::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stopping_ = true;
    for (const auto& worker : workers_) {
      if (worker->stream != nullptr) worker->stream->Cancel();
    }
  }
  if (reporter_.joinable()) reporter_.join();
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return calls_in_flight_ == 0;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&idle), kStopWait)) {
    LOG(WARNING) << calls_in_flight_ << " calls still in flight at stop";
  }
}

int64_t SimulatedWorkers::completed() const {
  absl::MutexLock lock(&mu_);
  return completed_;
}

absl::StatusOr<SimulatedWorkers::Worker*> SimulatedWorkers::Find(
    const std::string& id) {
  if (id.empty()) {
    return absl::InvalidArgumentError(
        "worker_id is required: name the worker this request is meant for");
  }
  auto it = index_.find(id);
  if (it == index_.end()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "request meant for worker \"", id, "\" reached the simulator at ",
        address_, ", which serves ", workers_.front()->id, "..",
        workers_.back()->id));
  }
  return workers_[it->second].get();
}

void SimulatedWorkers::Remember(Worker& worker,
                                const quarry::v1::AttemptStatus& status) {
  worker.remembered[status.attempt_id()] = status;
  worker.remembered_order.push_back(status.attempt_id());
  while (worker.remembered_order.size() > options_.remembered_per_worker) {
    worker.remembered.erase(worker.remembered_order.front());
    worker.remembered_order.pop_front();
  }
}

grpc::Status SimulatedWorkers::StartTasks(
    grpc::ServerContext*, const quarry::v1::StartTasksRequest* request,
    quarry::v1::StartTasksResponse* response) {
  const auto now = ToProtoTime(absl::Now());
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Worker*> found = Find(request->worker_id());
  if (!found.ok()) return ToGrpcStatus(found.status());
  Worker& worker = **found;
  for (const quarry::v1::Assignment& assignment : request->assignments()) {
    std::string refused;
    if (assignment.attempt_id().empty()) {
      refused = "attempt_id is required";
    } else if (assignment.slot() < 0 || assignment.slot() >= options_.slots) {
      refused = absl::StrCat("slot ", assignment.slot(), " is out of range");
    } else if (assignment.kind() != "noop") {
      refused =
          absl::StrCat("the simulator runs only noop, not ", assignment.kind());
    } else if (worker.remembered.contains(assignment.attempt_id())) {
      refused = absl::StrCat("attempt ", assignment.attempt_id(),
                             " is already known to this worker");
    }
    if (!refused.empty()) {
      quarry::v1::RejectedAssignment* rejected = response->add_rejected();
      rejected->set_attempt_id(assignment.attempt_id());
      rejected->set_reason(refused);
      continue;
    }
    // A no-op ends the moment it starts; its slot is free again at once.
    quarry::v1::AttemptStatus status;
    status.set_attempt_id(assignment.attempt_id());
    status.set_job_id(assignment.job_id());
    status.set_task_index(assignment.task_index());
    status.set_slot(assignment.slot());
    status.set_status(quarry::v1::EXECUTION_STATUS_DONE);
    *status.mutable_start_time() = now;
    *status.mutable_end_time() = now;
    Remember(worker, status);
    worker.unreported.push_back(std::move(status));
    response->add_accepted_attempt_ids(assignment.attempt_id());
    ++completed_;
  }
  if (!worker.unreported.empty() && !worker.queued) {
    worker.queued = true;
    ready_.push_back(worker.index);
  }
  return grpc::Status::OK;
}

grpc::Status SimulatedWorkers::GetWorkerState(
    grpc::ServerContext*, const quarry::v1::GetWorkerStateRequest* request,
    quarry::v1::GetWorkerStateResponse* response) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Worker*> found = Find(request->worker_id());
  if (!found.ok()) return ToGrpcStatus(found.status());
  const Worker& worker = **found;
  response->set_worker_id(worker.id);
  response->set_slots(options_.slots);
  for (int slot = 0; slot < options_.slots; ++slot) {
    quarry::v1::SlotState* state = response->add_slot_states();
    state->set_index(slot);
    state->set_status(quarry::v1::EXECUTION_STATUS_PENDING);  // Always free.
  }
  auto& attempts = *response->mutable_attempts();
  for (const std::string& id : request->attempt_ids()) {
    if (auto it = worker.remembered.find(id); it != worker.remembered.end()) {
      attempts[id] = it->second;
    }
  }
  if (request->include_finished()) {
    for (const auto& [id, status] : worker.remembered) attempts[id] = status;
  }
  return grpc::Status::OK;
}

grpc::Status SimulatedWorkers::CancelTasks(
    grpc::ServerContext*, const quarry::v1::CancelTasksRequest* request,
    quarry::v1::CancelTasksResponse*) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Worker*> found = Find(request->worker_id());
  if (!found.ok()) return ToGrpcStatus(found.status());
  return grpc::Status::OK;  // Nothing ever runs: nothing to cancel.
}

void SimulatedWorkers::SendReport(Worker& worker) {
  struct Call {
    grpc::ClientContext context;
    quarry::v1::ReportWorkerStateRequest request;
    quarry::v1::ReportWorkerStateResponse response;
  };
  auto* call = new Call;
  call->context.set_deadline(
      absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  call->request.set_worker_id(worker.id);
  const size_t count = std::min(worker.unreported.size(), kMaxBatch);
  for (size_t i = 0; i < count; ++i) {
    *call->request.add_attempts() = worker.unreported[i];
  }
  worker.report_in_flight = true;
  worker.reported_in_flight = static_cast<int>(count);
  worker.last_report = absl::Now();
  ++calls_in_flight_;
  const int index = worker.index;
  leader_->async()->ReportWorkerState(&call->context, &call->request,
                                      &call->response,
                                      [this, call, index](grpc::Status status) {
                                        std::unique_ptr<Call> owned(call);
                                        ReportDone(index, status);
                                      });
}

void SimulatedWorkers::ReportDone(int index, const grpc::Status& status) {
  absl::MutexLock lock(&mu_);
  --calls_in_flight_;
  Worker& worker = *workers_[index];
  worker.report_in_flight = false;
  if (status.ok()) {
    worker.unreported.erase(
        worker.unreported.begin(),
        worker.unreported.begin() + worker.reported_in_flight);
  } else if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
    worker.register_again = true;  // The leader forgot it: kept for resend.
  } else if (!stopping_) {
    LOG_EVERY_N(WARNING, 100)
        << worker.id << ": report failed: " << status.error_message()
        << " (retried)";
  }
  worker.reported_in_flight = 0;
  if (!worker.unreported.empty() && !worker.queued) {
    worker.queued = true;
    ready_.push_back(index);
  }
}

void SimulatedWorkers::RunReporter() {
  absl::Time next_heartbeat_scan = absl::Now();
  while (true) {
    std::vector<int> again;
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || !ready_.empty();
      };
      mu_.AwaitWithDeadline(
          absl::Condition(&has_work),
          std::min(next_heartbeat_scan, absl::Now() + kReporterPoll));
      if (stopping_) return;
      // Completions: one call in flight per worker; the rest wait for it.
      std::deque<int> ready;
      ready.swap(ready_);
      for (int index : ready) {
        Worker& worker = *workers_[index];
        worker.queued = false;
        if (worker.report_in_flight || worker.register_again) continue;
        SendReport(worker);
      }
      const absl::Time now = absl::Now();
      if (now >= next_heartbeat_scan) {
        next_heartbeat_scan = now + kReporterPoll;
        for (const auto& worker : workers_) {
          if (worker->register_again) {
            again.push_back(worker->index);
          } else if (!worker->report_in_flight &&
                     now - worker->last_report >= heartbeat_ / 2) {
            SendReport(*worker);  // A heartbeat, or a retry.
          }
        }
      }
    }
    // Registering again blocks: outside the lock, then reconnect.
    for (int index : again) {
      Worker* worker = nullptr;
      {
        absl::MutexLock lock(&mu_);
        worker = workers_[index].get();
      }
      if (absl::Status status = Register(*worker); !status.ok()) {
        LOG_EVERY_N(WARNING, 100) << worker->id << ": " << status;
        continue;
      }
      absl::MutexLock lock(&mu_);
      worker->register_again = false;
      if (worker->stream == nullptr && !stopping_) OpenStream(*worker);
    }
  }
}

}  // namespace quarry::bench

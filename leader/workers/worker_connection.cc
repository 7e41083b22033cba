#include "leader/workers/worker_connection.h"

#include <glog/logging.h>

#include "common/status_util.h"

namespace quarry {

using quarry::v1::WorkerCommand;

namespace {
class RejectedStream : public grpc::ServerWriteReactor<WorkerCommand> {
 public:
  explicit RejectedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};
}  // namespace

grpc::ServerWriteReactor<WorkerCommand>* RejectStream(
    const grpc::Status& status) {
  return new RejectedStream(status);
}

grpc::ServerWriteReactor<WorkerCommand>* WorkerConnections::Open(
    WorkerLinkEvents* events, const std::string& worker_id) {
  auto connection = std::make_shared<WorkerConnection>(events, worker_id, this);
  bool closed = false;
  {
    absl::MutexLock lock(&mu_);
    closed = closed_;
    open_.insert(connection);
  }
  if (closed) {
    connection->Close();
  } else {
    connection->Begin();
  }
  return connection.get();
}

void WorkerConnections::CloseAll() {
  std::vector<std::shared_ptr<WorkerConnection>> open;
  {
    absl::MutexLock lock(&mu_);
    closed_ = true;
    open.assign(open_.begin(), open_.end());
  }
  for (auto& connection : open) connection->Close();
}

void WorkerConnections::Forget(WorkerConnection* connection) {
  std::shared_ptr<WorkerConnection> last;  // Destroyed outside the lock.
  absl::MutexLock lock(&mu_);
  for (auto it = open_.begin(); it != open_.end(); ++it) {
    if (it->get() == connection) {
      last = *it;
      open_.erase(it);
      return;
    }
  }
}

WorkerConnection::WorkerConnection(WorkerLinkEvents* events,
                                   std::string worker_id,
                                   WorkerConnections* owner)
    : events_(events), worker_id_(std::move(worker_id)), owner_(owner) {}

void WorkerConnection::Begin() {
  absl::StatusOr<int64_t> id =
      events_->OnWorkerConnected(worker_id_, shared_from_this());
  if (!id.ok()) {
    FinishOnce(ToGrpcStatus(id.status()));
    return;
  }
  connection_id_ = *id;
  Send(WorkerCommand::KIND_CONNECTED);
}

void WorkerConnection::SendDrain() { Send(WorkerCommand::KIND_DRAIN); }

void WorkerConnection::Close() {
  FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                          "the leader is closing this connection"));
}

void WorkerConnection::Send(WorkerCommand::Kind kind) {
  const WorkerCommand* next = nullptr;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    queue_.emplace_back().set_kind(kind);
    if (writing_) return;
    writing_ = true;
    next = &queue_.front();
  }
  StartWrite(next);
}

void WorkerConnection::OnWriteDone(bool ok) {
  const WorkerCommand* next = nullptr;
  std::optional<grpc::Status> finish;
  {
    absl::MutexLock lock(&mu_);
    queue_.pop_front();
    if (!ok || finished_ || queue_.empty()) {
      writing_ = false;  // After a failed write, OnCancel follows.
      finish = std::exchange(finish_after_write_, std::nullopt);
    } else {
      next = &queue_.front();
    }
  }
  if (next != nullptr) StartWrite(next);
  if (finish.has_value()) Finish(*finish);
}

void WorkerConnection::OnCancel() {
  if (connection_id_ >= 0) {
    events_->OnWorkerDisconnected(worker_id_, connection_id_);
  }
  FinishOnce(grpc::Status::CANCELLED);
}

void WorkerConnection::OnDone() { owner_->Forget(this); }

void WorkerConnection::FinishOnce(const grpc::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
    if (writing_) {
      finish_after_write_ = status;
      return;
    }
  }
  Finish(status);
}

}  // namespace quarry

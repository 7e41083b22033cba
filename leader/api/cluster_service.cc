#include "leader/api/cluster_service.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/kind_description.h"
#include "common/status_util.h"
#include "leader/api/cluster_view.h"

namespace quarry {
namespace {
constexpr int32_t kMaxSlots = 1024;
constexpr int32_t kMaxQueue = 64 * kMaxSlots;
constexpr int kMaxKinds = 256;
constexpr size_t kMaxKindName = 128;
// Anyone may do anything: the check of a leader without --auth_file.
const CallerCheck kOpenCluster(nullptr);
// RegisterWorkerRequest.plugin_kinds: each follows the rules of
// KindDescription, once, and is also listed in kinds.
absl::Status ValidatePluginKinds(
    const quarry::v1::RegisterWorkerRequest& request) {
  if (request.plugin_kinds_size() > kMaxKinds) {
    return absl::InvalidArgumentError(
        absl::StrCat("plugin_kinds has ", request.plugin_kinds_size(),
                     " entries, more than ", kMaxKinds));
  }
  for (int i = 0; i < request.plugin_kinds_size(); ++i) {
    const quarry::v1::KindDescription& kind = request.plugin_kinds(i);
    const std::string field = absl::StrCat("plugin_kinds[", i, "]");
    if (absl::StatusOr<KindSpec> spec = KindSpecFromDescription(kind);
        !spec.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".", spec.status().message()));
    }
    if (std::find(request.kinds().begin(), request.kinds().end(),
                  kind.name()) == request.kinds().end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".name \"", kind.name(), "\" is not listed in kinds"));
    }
    for (int j = 0; j < i; ++j) {
      if (request.plugin_kinds(j).name() == kind.name()) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ".name \"", kind.name(), "\" is described twice"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateRegistration(
    const quarry::v1::RegisterWorkerRequest& request) {
  if (absl::Status ok = ValidateWorkerId(request.worker_id(), "worker_id");
      !ok.ok()) {
    return ok;
  }
  if (absl::Status ok = ValidateHostPort(request.address(), "address");
      !ok.ok()) {
    return ok;
  }
  if (absl::EndsWith(request.address(), ":0")) {
    return absl::InvalidArgumentError("address must name the real port, not 0");
  }
  if (request.slots() < 1 || request.slots() > kMaxSlots) {
    return absl::InvalidArgumentError(absl::StrCat(
        "slots must be in [1, ", kMaxSlots, "], got ", request.slots()));
  }
  if (request.queue() < 0 || request.queue() > kMaxQueue) {
    return absl::InvalidArgumentError(absl::StrCat(
        "queue must be in [0, ", kMaxQueue, "], got ", request.queue()));
  }
  if (request.kinds_size() > kMaxKinds) {
    return absl::InvalidArgumentError(absl::StrCat(
        "kinds has ", request.kinds_size(), " names, more than ", kMaxKinds));
  }
  for (int i = 0; i < request.kinds_size(); ++i) {
    const std::string& kind = request.kinds(i);
    if (kind.empty() || kind.size() > kMaxKindName ||
        !std::all_of(kind.begin(), kind.end(), [](char c) {
          return absl::ascii_isalnum(c) || c == '_' || c == '-' || c == '.';
        })) {
      return absl::InvalidArgumentError(
          absl::StrCat("kinds[", i, "] must be 1..", kMaxKindName,
                       " characters of [A-Za-z0-9._-]"));
    }
  }
  return ValidatePluginKinds(request);
}

ClusterServiceImpl::ClusterServiceImpl(Controller* controller, Store* store,
                                       const Clock* clock,
                                       const Readiness* readiness,
                                       const CallerCheck* callers,
                                       WorkerTokens* worker_tokens,
                                       const ActingEpoch* epoch)
    : controller_(controller),
      store_(store),
      clock_(clock),
      readiness_(readiness),
      callers_(callers != nullptr ? callers : &kOpenCluster),
      worker_tokens_(worker_tokens),
      epoch_(epoch) {}

absl::StatusOr<Principal> ClusterServiceImpl::Admit(
    const grpc::ServerContextBase& context, Role need,
    absl::string_view method) const {
  absl::StatusOr<Principal> caller = callers_->Require(context, need, method);
  if (!caller.ok()) return caller.status();
  if (absl::Status ready = readiness_->Check(); !ready.ok()) return ready;
  return caller;
}

absl::StatusOr<Principal> ClusterServiceImpl::AdmitWorker(
    const grpc::ServerContextBase& context, absl::string_view method,
    const std::string& worker_id) const {
  absl::StatusOr<Principal> caller = Admit(context, Role::kWorker, method);
  if (!caller.ok()) return caller.status();
  if (absl::Status ok = ValidateWorkerId(worker_id, "worker_id"); !ok.ok()) {
    return ok;
  }
  if (callers_->enabled() && worker_tokens_ != nullptr) {
    if (absl::Status ok = worker_tokens_->Claim(worker_id, *caller); !ok.ok()) {
      return ok;
    }
  }
  return caller;
}

grpc::Status ClusterServiceImpl::RegisterWorker(
    grpc::ServerContext* context,
    const quarry::v1::RegisterWorkerRequest* request,
    quarry::v1::RegisterWorkerResponse* response) {
  absl::StatusOr<Principal> caller =
      Admit(*context, Role::kWorker, "RegisterWorker");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::Status ok = ValidateRegistration(*request);
  // Before the controller calls the worker: its calls carry this token.
  if (ok.ok() && callers_->enabled() && worker_tokens_ != nullptr) {
    ok = worker_tokens_->Register(request->worker_id(), *caller,
                                  BearerToken(*context));
  }
  if (ok.ok()) ok = controller_->OnRegisterWorker(*request);
  if (callers_->enabled()) {
    CallerCheck::Audit(*caller, "RegisterWorker", request->worker_id(), ok);
  }
  if (!ok.ok()) return ToGrpcStatus(ok);
  response->set_heartbeat_interval_ms(static_cast<int32_t>(
      absl::ToInt64Milliseconds(controller_->heartbeat_interval())));
  if (epoch_ != nullptr) response->set_leader_epoch(epoch_->get());
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* ClusterServiceImpl::ReportWorkerState(
    grpc::CallbackServerContext* context,
    const quarry::v1::ReportWorkerStateRequest* request,
    quarry::v1::ReportWorkerStateResponse* response) {
  return FinishNow(context,
                   HandleReportWorkerState(*context, request, response));
}

grpc::Status ClusterServiceImpl::HandleReportWorkerState(
    const grpc::ServerContextBase& context,
    const quarry::v1::ReportWorkerStateRequest* request,
    quarry::v1::ReportWorkerStateResponse*) {
  absl::Status status =
      AdmitWorker(context, "ReportWorkerState", request->worker_id()).status();
  if (status.ok()) status = controller_->OnWorkerReport(*request);
  return ToGrpcStatus(status);
}

grpc::Status ClusterServiceImpl::GetCluster(
    grpc::ServerContext* context, const quarry::v1::GetClusterRequest*,
    quarry::v1::GetClusterResponse* response) {
  absl::StatusOr<quarry::v1::GetClusterResponse> cluster =
      ServeGetCluster(*callers_, *readiness_, AuthorizationOf(*context),
                      store_, clock_->Now());
  if (!cluster.ok()) return ToGrpcStatus(cluster.status());
  *response = std::move(*cluster);
  return grpc::Status::OK;
}

}  // namespace quarry

namespace quarry {

grpc::ServerWriteReactor<quarry::v1::WorkerCommand>*
ClusterServiceImpl::ConnectWorker(
    grpc::CallbackServerContext* context,
    const quarry::v1::ConnectWorkerRequest* request) {
  if (absl::Status admitted =
          AdmitWorker(*context, "ConnectWorker", request->worker_id())
              .status();
      !admitted.ok()) {
    return RejectStream(ToGrpcStatus(admitted));
  }
  return connections_.Open(controller_, request->worker_id());
}

grpc::Status ClusterServiceImpl::RequestCommit(
    grpc::ServerContext* context,
    const quarry::v1::RequestCommitRequest* request,
    quarry::v1::RequestCommitResponse* response) {
  absl::StatusOr<Principal> caller =
      AdmitWorker(*context, "RequestCommit", request->worker_id());
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (request->attempt_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "attempt_id is required");
  }
  *response =
      controller_->OnCommitRequest(request->worker_id(), request->attempt_id());
  if (epoch_ != nullptr) response->set_leader_epoch(epoch_->get());
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::DrainWorker(
    grpc::ServerContext* context, const quarry::v1::DrainWorkerRequest* request,
    quarry::v1::DrainWorkerResponse* response) {
  absl::StatusOr<Principal> caller =
      Admit(*context, Role::kAdmin, "DrainWorker");
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const absl::Status valid =
      ValidateWorkerId(request->worker_id(), "worker_id");
  absl::StatusOr<quarry::v1::Worker> worker =
      valid.ok() ? controller_->RequestDrain(request->worker_id())
                 : absl::StatusOr<quarry::v1::Worker>(valid);
  if (callers_->enabled()) {
    CallerCheck::Audit(*caller, "DrainWorker", request->worker_id(),
                       worker.status());
  }
  if (!worker.ok()) return ToGrpcStatus(worker.status());
  *response->mutable_worker() = std::move(*worker);
  return grpc::Status::OK;
}

grpc::Status ClusterServiceImpl::DeregisterWorker(
    grpc::ServerContext* context,
    const quarry::v1::DeregisterWorkerRequest* request,
    quarry::v1::DeregisterWorkerResponse*) {
  absl::StatusOr<Principal> caller =
      AdmitWorker(*context, "DeregisterWorker", request->worker_id());
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::Status ok = controller_->OnDeregisterWorker(request->worker_id());
  if (ok.ok() && worker_tokens_ != nullptr) {
    worker_tokens_->Release(request->worker_id());
  }
  if (callers_->enabled()) {
    CallerCheck::Audit(*caller, "DeregisterWorker", request->worker_id(), ok);
  }
  return ToGrpcStatus(ok);
}

}  // namespace quarry

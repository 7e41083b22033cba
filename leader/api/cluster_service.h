#ifndef QUARRY_LEADER_API_CLUSTER_SERVICE_H_
#define QUARRY_LEADER_API_CLUSTER_SERVICE_H_

#include "common/clock.h"
#include "common/leader_epoch.h"
#include "common/store.h"
#include "leader/control/controller.h"
#include "leader/api/caller_check.h"
#include "leader/api/readiness.h"
#include "leader/workers/worker_connection.h"
#include "leader/workers/worker_tokens.h"
#include "quarry/v1/cluster_service.grpc.pb.h"

namespace quarry {

// Thin gRPC adapter: validates worker requests and hands them to the
// Controller; GetCluster reads the store. ConnectWorker streams use the
// callback API (no thread per connected worker). Each call is first checked
// by CallerCheck: the worker's calls need role worker, GetCluster reader,
// DrainWorker admin. Thread-safe.
class ClusterServiceImpl
    : public quarry::v1::ClusterService::WithCallbackMethod_ReportWorkerState<
          quarry::v1::ClusterService::WithCallbackMethod_ConnectWorker<
              quarry::v1::ClusterService::Service>> {
 public:
  // Calls answer UNAVAILABLE until `readiness` is ready. `callers` null:
  // every caller may do everything. `epoch` (null: 0) goes with the
  // answers to RegisterWorker and RequestCommit (fencing).
  ClusterServiceImpl(Controller* controller, Store* store, const Clock* clock,
                     const Readiness* readiness,
                     const CallerCheck* callers = nullptr,
                     WorkerTokens* worker_tokens = nullptr,
                     const ActingEpoch* epoch = nullptr);

  // Ends every ConnectWorker stream (leader shutdown).
  void CloseConnections() { connections_.CloseAll(); }

  grpc::Status RegisterWorker(
      grpc::ServerContext* context,
      const quarry::v1::RegisterWorkerRequest* request,
      quarry::v1::RegisterWorkerResponse* response) override;
  // The call every worker makes after each burst of completions: on the
  // callback API, answered on the gRPC thread that read it (it only queues
  // the report for the controller; nothing blocks).
  grpc::ServerUnaryReactor* ReportWorkerState(
      grpc::CallbackServerContext* context,
      const quarry::v1::ReportWorkerStateRequest* request,
      quarry::v1::ReportWorkerStateResponse* response) final;
  // What ReportWorkerState does (decorators override this); never blocks.
  virtual grpc::Status HandleReportWorkerState(
      const grpc::ServerContextBase& context,
      const quarry::v1::ReportWorkerStateRequest* request,
      quarry::v1::ReportWorkerStateResponse* response);
  grpc::Status GetCluster(grpc::ServerContext* context,
                          const quarry::v1::GetClusterRequest* request,
                          quarry::v1::GetClusterResponse* response) override;
  grpc::ServerWriteReactor<quarry::v1::WorkerCommand>* ConnectWorker(
      grpc::CallbackServerContext* context,
      const quarry::v1::ConnectWorkerRequest* request) override;
  grpc::Status RequestCommit(grpc::ServerContext* context,
                             const quarry::v1::RequestCommitRequest* request,
                             quarry::v1::RequestCommitResponse* response) override;
  grpc::Status DrainWorker(grpc::ServerContext* context,
                           const quarry::v1::DrainWorkerRequest* request,
                           quarry::v1::DrainWorkerResponse* response) override;
  grpc::Status DeregisterWorker(
      grpc::ServerContext* context,
      const quarry::v1::DeregisterWorkerRequest* request,
      quarry::v1::DeregisterWorkerResponse* response) override;

 private:
  Controller* const controller_;
  Store* const store_;
  const Clock* const clock_;
  // The caller, if it has role `need` and the leader is ready.
  absl::StatusOr<Principal> Admit(const grpc::ServerContextBase& context,
                                  Role need, absl::string_view method) const;
  // Admit, then: `worker_id` is valid and (with auth) the caller may speak
  // for it (WorkerTokens::Claim).
  absl::StatusOr<Principal> AdmitWorker(const grpc::ServerContextBase& context,
                                        absl::string_view method,
                                        const std::string& worker_id) const;

  const Readiness* const readiness_;
  const CallerCheck* const callers_;
  WorkerTokens* const worker_tokens_;  // Null: none kept.
  const ActingEpoch* const epoch_;     // Null: epoch 0.
  WorkerConnections connections_;
};

// Checks a registration: worker_id, address (HOST:PORT, port > 0), slots,
// queue, kinds and plugin_kinds (errors name the field).
absl::Status ValidateRegistration(
    const quarry::v1::RegisterWorkerRequest& request);

}  // namespace quarry

#endif  // QUARRY_LEADER_API_CLUSTER_SERVICE_H_

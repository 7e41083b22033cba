#ifndef QUARRY_LEADER_CLUSTER_SERVICE_H_
#define QUARRY_LEADER_CLUSTER_SERVICE_H_

#include "common/clock.h"
#include "common/store.h"
#include "leader/controller.h"
#include "quarry/v1/cluster_service.grpc.pb.h"

namespace quarry {

// Thin gRPC adapter: validates worker requests and hands them to the
// Controller; GetCluster reads the store. Thread-safe.
class ClusterServiceImpl final : public quarry::v1::ClusterService::Service {
 public:
  ClusterServiceImpl(Controller* controller, Store* store, const Clock* clock)
      : controller_(controller), store_(store), clock_(clock) {}

  grpc::Status RegisterWorker(
      grpc::ServerContext* context,
      const quarry::v1::RegisterWorkerRequest* request,
      quarry::v1::RegisterWorkerResponse* response) override;
  grpc::Status ReportWorkerState(
      grpc::ServerContext* context,
      const quarry::v1::ReportWorkerStateRequest* request,
      quarry::v1::ReportWorkerStateResponse* response) override;
  grpc::Status GetCluster(grpc::ServerContext* context,
                          const quarry::v1::GetClusterRequest* request,
                          quarry::v1::GetClusterResponse* response) override;

 private:
  Controller* const controller_;
  Store* const store_;
  const Clock* const clock_;
};

// Checks a registration: worker_id, address (HOST:PORT, port > 0), slots.
absl::Status ValidateRegistration(
    const quarry::v1::RegisterWorkerRequest& request);

}  // namespace quarry

#endif  // QUARRY_LEADER_CLUSTER_SERVICE_H_

#ifndef QUARRY_LEADER_WORKERS_GRPC_WORKER_CLIENT_H_
#define QUARRY_LEADER_WORKERS_GRPC_WORKER_CLIENT_H_

#include <memory>

#include "leader/workers/worker_client.h"

namespace quarry {

// WorkerClientFactory over real gRPC channels (callback API, so no thread
// blocks on a worker).
class GrpcWorkerClientFactory : public WorkerClientFactory {
 public:
  std::unique_ptr<WorkerClient> Connect(absl::string_view worker_id,
                                        absl::string_view address) override;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_WORKERS_GRPC_WORKER_CLIENT_H_

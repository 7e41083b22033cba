#ifndef QUARRY_LEADER_WORKERS_GRPC_WORKER_CLIENT_H_
#define QUARRY_LEADER_WORKERS_GRPC_WORKER_CLIENT_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "common/leader_epoch.h"
#include "leader/workers/worker_client.h"
#include "leader/workers/worker_tokens.h"

namespace quarry {

// WorkerClientFactory over real gRPC channels (callback API, so no thread
// blocks on a worker).
class GrpcWorkerClientFactory : public WorkerClientFactory {
 public:
  // `credentials` (null: insecure) secure every channel; `tokens` (may be
  // null: none; outlives this) gives the token each call to a worker
  // carries; `epoch` (may be null: epoch 0; outlives this) is the epoch
  // each call carries (common/leader_epoch.h).
  explicit GrpcWorkerClientFactory(
      std::shared_ptr<grpc::ChannelCredentials> credentials = nullptr,
      const WorkerTokens* tokens = nullptr,
      const ActingEpoch* epoch = nullptr);

  std::unique_ptr<WorkerClient> Connect(absl::string_view worker_id,
                                        absl::string_view address) override;

 private:
  const std::shared_ptr<grpc::ChannelCredentials> credentials_;
  const WorkerTokens* const tokens_;
  const ActingEpoch* const epoch_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_WORKERS_GRPC_WORKER_CLIENT_H_

#ifndef QUARRY_COMMON_RPC_METRICS_H_
#define QUARRY_COMMON_RPC_METRICS_H_

#include <grpcpp/support/server_interceptor.h>

#include <memory>

#include "common/metrics.h"

namespace quarry {

// A gRPC server interceptor factory (for StartGrpcServer) that times every
// unary RPC the server handles, from the moment the call is matched to the
// moment its status is sent, into the histogram
//   quarry_rpc_duration_seconds{method="/quarry.v1.JobService/SubmitJob"}
// and counts those that end with an error in
//   quarry_rpc_errors_total{method="...",code="NOT_FOUND"}.
// Streaming RPCs (WatchJob, ConnectWorker) last as long as their stream and
// are left out. `metrics` must outlive the server.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRpcMetricsInterceptorFactory(Metrics* metrics);

}  // namespace quarry

#endif  // QUARRY_COMMON_RPC_METRICS_H_

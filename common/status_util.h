#ifndef QUARRY_COMMON_STATUS_UTIL_H_
#define QUARRY_COMMON_STATUS_UTIL_H_

#include <grpcpp/server_context.h>
#include <grpcpp/support/server_callback.h>
#include <grpcpp/support/status.h>

#include <cstddef>

#include "absl/status/status.h"

namespace quarry {

// The longest error message sent on the wire. Messages quote the caller's
// values ("job <id> not found"), which may be as long as a request; gRPC
// sends the message as percent-encoded metadata, and a client refuses
// metadata over 8 KiB (RESOURCE_EXHAUSTED "received initial metadata size
// exceeds limit", or a closed connection, instead of the error).
inline constexpr size_t kMaxStatusMessageBytes = 1024;

// Converts between absl::Status (used inside every module) and grpc::Status
// (used on the wire). The codes share numbering. A message longer than
// kMaxStatusMessageBytes is cut there, ending "... (N more bytes)".
grpc::Status ToGrpcStatus(const absl::Status& status);

// Ends a callback-API unary call at once with `status` (for handlers that
// never block, answered on the gRPC thread that read the request).
inline grpc::ServerUnaryReactor* FinishNow(grpc::CallbackServerContext* context,
                                           const grpc::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(status);
  return reactor;
}
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace quarry

#endif  // QUARRY_COMMON_STATUS_UTIL_H_

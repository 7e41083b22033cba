#ifndef QUARRY_COMMON_STATUS_UTIL_H_
#define QUARRY_COMMON_STATUS_UTIL_H_

#include <grpcpp/support/status.h>

#include "absl/status/status.h"

namespace quarry {

// Converts between absl::Status (used inside every module) and grpc::Status
// (used on the wire). The codes share numbering.
grpc::Status ToGrpcStatus(const absl::Status& status);
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace quarry

#endif  // QUARRY_COMMON_STATUS_UTIL_H_

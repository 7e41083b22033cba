#ifndef QUARRY_LEADER_HTTP_HTTP_STATUS_H_
#define QUARRY_LEADER_HTTP_HTTP_STATUS_H_

#include <string>

#include "absl/status/status.h"

namespace quarry {

// The HTTP status of a call that ended with `code`, as grpc-gateway and
// Google's API design guide map them (INVALID_ARGUMENT 400, NOT_FOUND 404,
// UNAUTHENTICATED 401, PERMISSION_DENIED 403, RESOURCE_EXHAUSTED 429,
// UNAVAILABLE 503, ...).
int HttpStatusOf(absl::StatusCode code);

// The JSON error body (quarry.v1.HttpError) of `status`.
std::string ErrorJson(const absl::Status& status);

}  // namespace quarry

#endif  // QUARRY_LEADER_HTTP_HTTP_STATUS_H_

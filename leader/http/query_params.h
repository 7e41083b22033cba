#ifndef QUARRY_LEADER_HTTP_QUERY_PARAMS_H_
#define QUARRY_LEADER_HTTP_QUERY_PARAMS_H_

#include <map>
#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"

namespace quarry {

// Sets fields of a request message from URL query parameters, the way
// grpc-gateway does: each parameter names a singular field (by its proto
// name, page_size, or JSON name, pageSize) of a scalar, enum (by name or
// number) or google.protobuf.Timestamp (RFC 3339) type. INVALID_ARGUMENT
// naming the parameter for an unknown name, a repeated one, a field that
// cannot be set this way or a value that does not parse. Stateless.
absl::Status FillFromQuery(const std::multimap<std::string, std::string>& query,
                           google::protobuf::Message* message);

}  // namespace quarry

#endif  // QUARRY_LEADER_HTTP_QUERY_PARAMS_H_

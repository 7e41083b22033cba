#ifndef QUARRY_LEADER_HTTP_JSON_CODEC_H_
#define QUARRY_LEADER_HTTP_JSON_CODEC_H_

#include <string>

#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace quarry {

// JSON in and out of the HTTP API, only through protobuf's JSON mapping
// (proto3 JSON: lowerCamelCase names, enums by name; either spelling of a
// field name is accepted on input). Stateless; thread-safe.

// Parses `body` into `message`. INVALID_ARGUMENT naming the problem (bad
// JSON, an unknown field, a value of the wrong type: protobuf's message
// names the field) and the message type expected.
absl::Status ParseJsonBody(absl::string_view body,
                           google::protobuf::Message* message);

// `message` as JSON; fields with default values are printed too, so a
// client always finds every field.
std::string ToJson(const google::protobuf::Message& message);

}  // namespace quarry

#endif  // QUARRY_LEADER_HTTP_JSON_CODEC_H_

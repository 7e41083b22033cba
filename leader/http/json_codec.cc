#include "leader/http/json_codec.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace quarry {

absl::Status ParseJsonBody(absl::string_view body,
                           google::protobuf::Message* message) {
  const std::string type = message->GetDescriptor()->full_name();
  if (body.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the request body is empty; want a ", type, " as JSON"));
  }
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(body.data(), body.size()), message,
      options);
  if (parsed.ok()) return absl::OkStatus();
  // protobuf's message may span lines (a caret under the error).
  const std::string why = absl::StrReplaceAll(
      std::string(parsed.message().data(), parsed.message().size()),
      {{"\n", " "}});
  return absl::InvalidArgumentError(
      absl::StrCat("the request body is not a valid ", type, " in JSON: ",
                   why));
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string json;
  // Printing a valid message cannot fail (no Any of an unknown type here).
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

}  // namespace quarry

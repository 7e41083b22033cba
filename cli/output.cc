#include "cli/output.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"

namespace quarry::cli {

absl::Status PrintJson(const google::protobuf::Message& message,
                       std::ostream& out) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  std::string json;
  const auto status =
      google::protobuf::util::MessageToJsonString(message, &json, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot print the response as JSON: ", status.ToString()));
  }
  out << json;
  if (json.empty() || json.back() != '\n') out << "\n";
  return absl::OkStatus();
}

absl::Status Show(const ParsedCommand& cmd,
                  const google::protobuf::Message& response,
                  const std::string& human, CommandContext& ctx) {
  if (cmd.json) return PrintJson(response, *ctx.out);
  *ctx.out << human;
  return absl::OkStatus();
}

}  // namespace quarry::cli

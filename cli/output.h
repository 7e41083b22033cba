#ifndef QUARRY_CLI_OUTPUT_H_
#define QUARRY_CLI_OUTPUT_H_

#include <google/protobuf/message.h>

#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "cli/args.h"
#include "cli/commands.h"

// How the commands print a response. Stateless; called on the command's
// thread.
namespace quarry::cli {

// Prints `message` as JSON (camelCase names, every field even when unset,
// so scripts can rely on the keys).
absl::Status PrintJson(const google::protobuf::Message& message,
                       std::ostream& out);

// Prints a response: as JSON with --json, else its human view.
absl::Status Show(const ParsedCommand& cmd,
                  const google::protobuf::Message& response,
                  const std::string& human, CommandContext& ctx);

}  // namespace quarry::cli

#endif  // QUARRY_CLI_OUTPUT_H_

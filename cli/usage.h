#ifndef QUARRY_CLI_USAGE_H_
#define QUARRY_CLI_USAGE_H_

#include <optional>
#include <string>

#include "cli/args.h"

namespace quarry::cli {

// The --help text, built from the command and option catalogs in args.h so
// that it lists every command and option. `topic` nullopt: the general help
// (every command, every option, job kinds, exit codes); else the help of
// one command (its synopsis, its options, the global ones, exit codes).
std::string UsageText(std::optional<Command> topic);

}  // namespace quarry::cli

#endif  // QUARRY_CLI_USAGE_H_

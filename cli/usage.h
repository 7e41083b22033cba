#ifndef QUARRY_CLI_USAGE_H_
#define QUARRY_CLI_USAGE_H_

#include <memory>
#include <optional>
#include <string>

#include "cli/args.h"

namespace CLI {
class FormatterBase;
}  // namespace CLI

namespace quarry::cli {

// The CLI11 formatter of the App that BuildApp makes (catalog.h): it writes
// the help in the `quarry` layout, listing every command and option with
// its help line. The top App's help is the general one (every command,
// every option, job kinds, exit codes); a command's App gives that
// command's (its synopsis, its options, the global ones, exit codes).
std::shared_ptr<CLI::FormatterBase> MakeUsageFormatter();

// The --help text: `topic` nullopt (or kHelp) gives the general help, else
// the help of one command.
std::string UsageText(std::optional<Command> topic);

}  // namespace quarry::cli

#endif  // QUARRY_CLI_USAGE_H_

#ifndef QUARRY_CLI_CATALOG_H_
#define QUARRY_CLI_CATALOG_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cli/args.h"

namespace CLI {
class App;
}  // namespace CLI

// The `quarry` command line as a CLI11 App, built from the catalogue
// (AllCommands(), AllOptions()), and lookups in the catalogue. Used by the
// parser (args.cc) and the help (usage.cc).
namespace quarry::cli {

// The positional of every command (and group) App that collects its
// arguments; ParseArgs checks them.
inline constexpr char kArgs[] = "ARGS";

// What the App reports while CLI11 parses, in command-line order. Either
// may throw CLI::ValidationError to stop the parse with a usage error.
struct AppHooks {
  // A command's name was read; `app` is its App. Its options and arguments
  // follow.
  std::function<void(const CommandSpec& command, CLI::App& app)> on_command;
  // An option was read: one of the command's own, a global one, or (seen
  // by the top App) one given before the command name or one the command
  // does not have. `value` is empty for a flag.
  std::function<void(const OptionSpec& option, const std::string& value)>
      on_option;
};

// The App: one subcommand per command, a "GROUP VERB" command being the
// subcommand VERB of the subcommand GROUP; each with its options and ARGS.
// The top App has every option: the global ones, which fall through to it
// from the commands, and hidden twins of the others, so that an option
// before the command name, or one the command does not have, reaches
// on_option too (ParseArgs decides). Help is written by UsageFormatter.
// `command_name` ("submit", "worker drain"; empty if unknown) picks, for
// an option name two commands spell differently (submit --tasks N, status
// --tasks), the top App's twin.
std::unique_ptr<CLI::App> BuildApp(const AppHooks& hooks,
                                   absl::string_view command_name = "");

// The words ARGS collected on `app` (a command's or a group's App).
std::vector<std::string> ArgsOf(const CLI::App& app);

// The App of `command` in the App BuildApp made.
const CLI::App& CommandApp(const CLI::App& top, const CommandSpec& command);

// The command of that name, or null.
const CommandSpec* FindCommand(absl::string_view name);
// The option of that name `command` accepts, else (command unknown) the
// first of that name or (command known) its flag form: an option name may
// be a flag of one command and take a value in another (status --tasks,
// submit --tasks N). Null if there is none.
const OptionSpec* FindOption(absl::string_view name,
                             absl::string_view command = "");

// Whether `command` ("worker drain") takes `option` (global options: all).
bool Accepts(const OptionSpec& option, absl::string_view command);

}  // namespace quarry::cli

#endif  // QUARRY_CLI_CATALOG_H_

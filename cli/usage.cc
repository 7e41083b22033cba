#include "cli/usage.h"

#include <CLI/CLI.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/catalog.h"
#include "common/job_kinds.h"

namespace quarry::cli {
namespace {

constexpr absl::string_view kSynopsis =
    "Usage: quarry [--leader HOST:PORT] [--json] [--timeout SECONDS] COMMAND "
    "[ARGS]\n";

constexpr absl::string_view kExitCodes =
    "Exit codes:\n"
    "  0  ok\n"
    "  1  the job ended FAILED or CANCELLED (submit --wait); the server\n"
    "     answered but is not SERVING (health)\n"
    "  2  usage error: unknown command or option, missing value, bad "
    "key=value\n"
    "  3  the leader refused the request (INVALID_ARGUMENT, NOT_FOUND,\n"
    "     FAILED_PRECONDITION, ALREADY_EXISTS, ...)\n"
    "  4  the leader is unreachable or did not answer in time (UNAVAILABLE,\n"
    "     DEADLINE_EXCEEDED), or a wait timed out\n"
    "Errors are one line on stderr: 'quarry: CODE: message'.\n";

bool IsTop(const CLI::App& app) { return app.get_parent() == nullptr; }

const CLI::App& TopOf(const CLI::App& app) {
  return IsTop(app) ? app : TopOf(*app.get_parent());
}

// "worker drain" for the App of drain under worker.
std::string CommandName(const CLI::App& app) {
  const CLI::App& parent = *app.get_parent();
  if (IsTop(parent)) return app.get_name();
  return absl::StrCat(parent.get_name(), " ", app.get_name());
}

// The commands' Apps in catalogue order: a group's verbs in its place.
std::vector<const CLI::App*> Commands(const CLI::App& top) {
  std::vector<const CLI::App*> commands;
  for (const CLI::App* app :
       top.get_subcommands([](const CLI::App*) { return true; })) {
    const std::vector<const CLI::App*> verbs =
        app->get_subcommands([](const CLI::App*) { return true; });
    if (verbs.empty()) {
      commands.push_back(app);
    } else {
      commands.insert(commands.end(), verbs.begin(), verbs.end());
    }
  }
  return commands;
}

// The options `app` lists: not ARGS, not the hidden twins (group ""), and
// --help only among the global ones.
std::vector<const CLI::Option*> ListedOptions(const CLI::App& app) {
  return app.get_options([&app](const CLI::Option* option) {
    return option->nonpositional() && !option->get_group().empty() &&
           (IsTop(app) || option != app.get_help_ptr());
  });
}

// "  --input PATH ...         Input file or directory, ...".
std::string OptionLine(const CLI::Option& option) {
  std::string name = absl::StrCat("--", option.get_lnames().front());
  if (const std::string value = option.get_type_name(); !value.empty()) {
    absl::StrAppend(&name, " ", value);
  }
  if (option.get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll) {
    absl::StrAppend(&name, " ...");
  }
  return absl::StrFormat("  %-24s %s\n", name, option.get_description());
}

std::string OptionLines(const CLI::App& app) {
  std::string lines;
  for (const CLI::Option* option : ListedOptions(app)) {
    absl::StrAppend(&lines, OptionLine(*option));
  }
  return lines;
}

std::string GlobalOptions(const CLI::App& top) {
  return absl::StrCat("Global options (before or after the command):\n",
                      OptionLines(top));
}

std::string KindsText() {
  std::string out = "Job kinds (--kind):\n";
  for (const KindSpec& kind : AllKinds()) {
    absl::StrAppendFormat(&out, "  %-10s %s\n", kind.name, kind.description);
  }
  absl::StrAppend(&out,
                  "  and the plugin kinds of the workers ('quarry cluster' "
                  "lists them;\n  see docs/plugins.md)\n");
  return out;
}

std::string GeneralHelp(const CLI::App& top) {
  std::string out =
      absl::StrCat(kSynopsis, "\n", top.get_description(), "\n\nCommands:\n");
  for (const CLI::App* command : Commands(top)) {
    absl::StrAppendFormat(&out, "  %-12s %s\n", CommandName(*command),
                          command->get_description());
  }
  absl::StrAppend(&out, "\n", GlobalOptions(top));
  for (const CLI::App* command : Commands(top)) {
    if (const std::string lines = OptionLines(*command); !lines.empty()) {
      absl::StrAppend(&out, "\nOptions of '", CommandName(*command), "':\n",
                      lines);
    }
  }
  absl::StrAppend(&out, "\n", KindsText(), "\n", kExitCodes,
                  "\nRun 'quarry COMMAND --help' for one command.\n");
  return out;
}

std::string CommandHelp(const CLI::App& app) {
  const std::string name = CommandName(app);
  const CommandSpec* command = FindCommand(name);
  std::string out = absl::StrCat("Usage: quarry ", name);
  if (!command->arguments.empty()) {
    absl::StrAppend(&out, " ", command->arguments);
  }
  absl::StrAppend(&out, "\n\n", app.get_description(), "\n");
  if (const std::string lines = OptionLines(app); !lines.empty()) {
    absl::StrAppend(&out, "\nOptions:\n", lines);
  }
  absl::StrAppend(&out, "\n", GlobalOptions(TopOf(app)));
  if (command->command == Command::kSubmit) {
    absl::StrAppend(&out, "\n", KindsText());
  }
  absl::StrAppend(&out, "\n", kExitCodes);
  return out;
}

class UsageFormatter : public CLI::FormatterBase {
 public:
  std::string make_help(const CLI::App* app, std::string /*name*/,
                        CLI::AppFormatMode /*mode*/) const override {
    return IsTop(*app) ? GeneralHelp(*app) : CommandHelp(*app);
  }
};

}  // namespace

std::shared_ptr<CLI::FormatterBase> MakeUsageFormatter() {
  return std::make_shared<UsageFormatter>();
}

std::string UsageText(std::optional<Command> topic) {
  const std::unique_ptr<CLI::App> app = BuildApp({});
  if (!topic.has_value() || *topic == Command::kHelp) return app->help();
  return CommandApp(*app, SpecOf(*topic)).help();
}

}  // namespace quarry::cli

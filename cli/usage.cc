#include "cli/usage.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
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

std::string OptionLine(const OptionSpec& option) {
  std::string name = absl::StrCat("--", option.name);
  if (!option.value_name.empty()) {
    absl::StrAppend(&name, " ", option.value_name);
  }
  if (option.repeatable) absl::StrAppend(&name, " ...");
  return absl::StrFormat("  %-24s %s\n", name, option.help);
}

bool IsGlobal(const OptionSpec& option) { return option.commands.empty(); }

bool BelongsTo(const OptionSpec& option, const CommandSpec& command) {
  for (absl::string_view name : absl::StrSplit(option.commands, ' ')) {
    if (name == command.name) return true;
  }
  return false;
}

std::string GlobalOptions() {
  std::string out = "Global options (before or after the command):\n";
  for (const OptionSpec& option : AllOptions()) {
    if (IsGlobal(option)) absl::StrAppend(&out, OptionLine(option));
  }
  return out;
}

std::string KindsText() {
  std::string out = "Job kinds (--kind):\n";
  for (const KindSpec& kind : AllKinds()) {
    absl::StrAppendFormat(&out, "  %-10s %s\n", kind.name, kind.description);
  }
  return out;
}

std::string GeneralHelp() {
  std::string out = absl::StrCat(
      kSynopsis,
      "\nSubmits jobs to a Quarry leader, follows them and shows their "
      "results\nand the health of the cluster.\n\nCommands:\n");
  for (const CommandSpec& command : AllCommands()) {
    absl::StrAppendFormat(&out, "  %-12s %s\n", command.name, command.help);
  }
  absl::StrAppend(&out, "\n", GlobalOptions());
  for (const CommandSpec& command : AllCommands()) {
    std::string lines;
    for (const OptionSpec& option : AllOptions()) {
      if (BelongsTo(option, command)) {
        absl::StrAppend(&lines, OptionLine(option));
      }
    }
    if (!lines.empty()) {
      absl::StrAppend(&out, "\nOptions of '", command.name, "':\n", lines);
    }
  }
  absl::StrAppend(&out, "\n", KindsText(), "\n", kExitCodes,
                  "\nRun 'quarry COMMAND --help' for one command.\n");
  return out;
}

std::string CommandHelp(const CommandSpec& command) {
  std::string out = absl::StrCat("Usage: quarry ", command.name);
  if (!command.arguments.empty()) absl::StrAppend(&out, " ", command.arguments);
  absl::StrAppend(&out, "\n\n", command.help, "\n");
  std::string lines;
  for (const OptionSpec& option : AllOptions()) {
    if (BelongsTo(option, command)) absl::StrAppend(&lines, OptionLine(option));
  }
  if (!lines.empty()) absl::StrAppend(&out, "\nOptions:\n", lines);
  absl::StrAppend(&out, "\n", GlobalOptions());
  if (command.command == Command::kSubmit) {
    absl::StrAppend(&out, "\n", KindsText());
  }
  absl::StrAppend(&out, "\n", kExitCodes);
  return out;
}

}  // namespace

std::string UsageText(std::optional<Command> topic) {
  if (!topic.has_value() || *topic == Command::kHelp) return GeneralHelp();
  return CommandHelp(SpecOf(*topic));
}

}  // namespace quarry::cli

// ParseArgs: CLI11 parses the command line (commands, the options of each,
// global options before or after the command name, help flags) with the
// App that catalog.cc builds; this file adds today's rules that CLI11 does
// not have and turns every error into a one-line usage error.
#include "cli/args.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cli/catalog.h"
#include "common/ids.h"

namespace quarry::cli {
namespace {

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

absl::Status UnknownCommand(absl::string_view word) {
  return UsageError(absl::StrCat("unknown command '", word,
                                 "'; run 'quarry help' for usage"));
}

// Stops CLI11's parse (from one of its callbacks) with `status`'s error.
void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) throw CLI::ValidationError(std::string(status.message()));
}

// The commands of `group` ("worker"): the first one and their verbs,
// "drain, ...". No first command: no such group.
struct Group {
  const CommandSpec* first = nullptr;
  std::string verbs;
};

Group GroupOf(absl::string_view group) {
  Group found;
  const std::string prefix = absl::StrCat(group, " ");
  for (const CommandSpec& spec : AllCommands()) {
    if (!absl::StartsWith(spec.name, prefix)) continue;
    if (found.first == nullptr) found.first = &spec;
    absl::StrAppend(&found.verbs, found.verbs.empty() ? "" : ", ",
                    spec.name.substr(prefix.size()));
  }
  return found;
}

// A group given without its command: `words` are the words after the
// group's name. With `help`, the group alone means its first command.
absl::StatusOr<const CommandSpec*> GroupCommand(
    absl::string_view group, const std::vector<std::string>& words, bool help) {
  const Group found = GroupOf(group);
  if (!words.empty()) {
    return UsageError(absl::StrCat("unknown '", group, "' command '", words[0],
                                   "' (want: ", found.verbs, ")"));
  }
  if (!help) {
    return UsageError(
        absl::StrCat("'", group, "' needs a command: ", found.verbs));
  }
  return found.first;
}

// Takes the command named by the first word of `words` ("submit") or the
// first two ("worker drain") off `words` (non-empty). A group alone
// ("worker") means the group's first command when `help` is set.
absl::StatusOr<const CommandSpec*> TakeCommand(std::vector<std::string>& words,
                                               bool help) {
  for (size_t n = 1; n <= std::min<size_t>(2, words.size()); ++n) {
    const CommandSpec* spec =
        FindCommand(n == 1 ? words[0] : absl::StrCat(words[0], " ", words[1]));
    if (spec == nullptr) continue;
    words.erase(words.begin(), words.begin() + static_cast<ptrdiff_t>(n));
    return spec;
  }
  if (GroupOf(words[0]).first == nullptr) return UnknownCommand(words[0]);
  const std::string group = words[0];
  words.erase(words.begin());
  absl::StatusOr<const CommandSpec*> first = GroupCommand(group, words, help);
  if (first.ok()) words.clear();
  return first;
}

// The topic of `help WORDS`: a command, a group alone, or none.
absl::StatusOr<std::optional<Command>> HelpTopic(
    std::vector<std::string> words) {
  if (words.empty()) return std::nullopt;
  absl::StatusOr<const CommandSpec*> topic = TakeCommand(words, true);
  if (!topic.ok()) return topic.status();
  if (!words.empty()) {
    return UsageError(
        absl::StrCat("unexpected argument '", words[0], "' for 'help'"));
  }
  return (*topic)->command;
}

// logs JOB_ID [TASK] [--attempt ID]: the task comes from TASK or the
// attempt id, which must agree.
absl::Status ApplyLogsPositionals(const std::vector<std::string>& positional,
                                  ParsedCommand& cmd) {
  if (positional.empty() || positional[0].empty()) {
    return UsageError("'logs' needs a JOB_ID");
  }
  if (positional.size() > 2) {
    return UsageError(
        absl::StrCat("unexpected argument '", positional[2], "' for 'logs'"));
  }
  cmd.job_id = positional[0];
  if (positional.size() == 2) {
    int index = -1;
    if (!absl::SimpleAtoi(positional[1], &index) || index < 0) {
      return UsageError(
          absl::StrCat("'logs': TASK must be a task index (0, "
                       "1, ...), got '",
                       positional[1], "'"));
    }
    cmd.task_index = index;
  }
  if (cmd.attempt_id.empty()) return absl::OkStatus();
  const std::optional<AttemptIdParts> attempt = ParseAttemptId(cmd.attempt_id);
  if (attempt->job_id != cmd.job_id ||
      (cmd.task_index.has_value() && *cmd.task_index != attempt->task_index)) {
    return UsageError(absl::StrCat("option --attempt: ", cmd.attempt_id,
                                   " is not an attempt of ", cmd.job_id,
                                   cmd.task_index.has_value()
                                       ? absl::StrCat(" task ", *cmd.task_index)
                                       : ""));
  }
  cmd.task_index = attempt->task_index;
  return absl::OkStatus();
}

// Checks a command's positional arguments.
absl::Status ApplyPositionals(const std::vector<std::string>& positional,
                              ParsedCommand& cmd) {
  if (cmd.command == Command::kLogs) {
    return ApplyLogsPositionals(positional, cmd);
  }
  const CommandSpec& spec = SpecOf(cmd.command);
  std::string* id = nullptr;
  if (spec.arguments == "JOB_ID") id = &cmd.job_id;
  if (spec.arguments == "WORKER_ID") id = &cmd.worker_id;
  const size_t wanted = id != nullptr ? 1 : 0;
  if (positional.size() > wanted) {
    return UsageError(absl::StrCat("unexpected argument '", positional[wanted],
                                   "' for '", spec.name, "'"));
  }
  if (id == nullptr) return absl::OkStatus();
  if (positional.empty() || positional[0].empty()) {
    return UsageError(
        absl::StrCat("'", spec.name, "' needs a ", spec.arguments));
  }
  *id = positional[0];
  return absl::OkStatus();
}

// Stands for a positional "++" while CLI11 parses: CLI11 would read "++"
// as the end of a subcommand, where today it is a word like any other.
// Words from argv cannot hold a NUL.
const std::string& PlusPlus() {
  static const auto* const kPlusPlus = new std::string("\0++", 3);
  return *kPlusPlus;
}

// `words` with "++" given back.
std::vector<std::string> Restored(std::vector<std::string> words) {
  std::replace(words.begin(), words.end(), PlusPlus(), std::string("++"));
  return words;
}

// The words of a command line, split by the first "--".
struct Words {
  std::vector<std::string> head;  // Before "--", for CLI11.
  std::vector<std::string> tail;  // After it: positional, verbatim.
  std::string command;            // The command's name; "" if none.
};

// The option a word names ("--max_attempts=3" -> "max-attempts": the
// daemons' spelling works too), or "" when it is no long option.
std::string OptionNameOf(absl::string_view arg) {
  if (!absl::StartsWith(arg, "--")) return "";
  return absl::StrReplaceAll(arg.substr(2, arg.find('=') - 2), {{"_", "-"}});
}

// Whether every option called `name` takes a value (not so for "tasks":
// submit --tasks N, status --tasks).
bool AlwaysTakesValue(absl::string_view name) {
  bool any = false;
  for (const OptionSpec& option : AllOptions()) {
    if (option.name != name) continue;
    if (option.value_name.empty()) return false;
    any = true;
  }
  return any;
}

// The command the line names ("submit", "worker drain"), or "": the first
// word before "--" that is no option or option value, if it names a
// command alone or with the next word. An option that is a flag somewhere
// is read as one here.
std::string CommandOnLine(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size() && args[i] != "--"; ++i) {
    const std::string& arg = args[i];
    if (absl::StartsWith(arg, "-") && arg.size() > 1) {
      if (arg.find('=') == std::string::npos &&
          AlwaysTakesValue(OptionNameOf(arg))) {
        ++i;
      }
      continue;
    }
    if (FindCommand(arg) != nullptr) return arg;
    if (i + 1 < args.size()) {
      std::string pair = absl::StrCat(arg, " ", args[i + 1]);
      if (FindCommand(pair) != nullptr) return pair;
    }
    return "";
  }
  return "";
}

// Today's rules for the words before the first "--", which CLI11 does not
// have, applied before it parses: every word that starts with "-" (but "-"
// itself) names an option, so "-5" is an unknown option rather than a
// number; an option's value is the next word unless that starts with "--"
// ("--kind --input a": --kind has no value, where CLI11 would take
// "--input"); "--name=VALUE" is passed on as "--name" "VALUE", so that an
// empty VALUE stays a value (CLI11 would take the next word instead); and
// "++" is a word like any other (see PlusPlus()).
absl::StatusOr<Words> SplitWords(const std::vector<std::string>& args) {
  Words words;
  words.command = CommandOnLine(args);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--") {
      words.tail.assign(args.begin() + static_cast<ptrdiff_t>(i) + 1,
                        args.end());
      break;
    }
    if (arg.size() < 2 || arg[0] != '-' || arg == "-h" || arg == "--help") {
      words.head.push_back(arg == "++" ? PlusPlus() : arg);
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name = OptionNameOf(arg);
    const OptionSpec* option = FindOption(name, words.command);
    if (option == nullptr || option->store == nullptr) {  // Or --help=...
      return UsageError(absl::StrCat("unknown option '", arg.substr(0, eq),
                                     "'; run 'quarry help' for usage"));
    }
    words.head.push_back(absl::StrCat("--", name));
    if (option->value_name.empty()) {
      if (eq != std::string::npos) {
        return UsageError(absl::StrCat("option --", name, " takes no value"));
      }
    } else if (eq != std::string::npos) {
      words.head.push_back(arg.substr(eq + 1));
    } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
      words.head.push_back(args[++i]);
    } else {
      return UsageError(absl::StrCat("option --", name, " needs a value (",
                                     option->value_name, ")"));
    }
  }
  return words;
}

class Parser;

// An App of BuildApp kept for later parses on the same thread: building one
// makes thousands of CLI11 objects, many times the work of a parse (the
// `quarry` tool parses once, but tests and the fuzz target parse millions
// of lines). CLI11 clears an App's results when it parses again, but (2.1)
// not its record of the options in parse order, which grows by each option
// read: an App is made anew after kParsesPerApp parses. Its hooks call
// `parser`, the Parser using it now.
struct ReusableApp {
  std::unique_ptr<CLI::App> app;
  Parser* parser = nullptr;
  int parses = 0;
};
constexpr int kParsesPerApp = 1000;

// This thread's App for lines whose command is `command_name` (the
// spelling BuildApp takes), made on first use and after kParsesPerApp
// parses; `hooks` bind it to ReusableApp::parser.
ReusableApp& AppFor(const std::string& command_name,
                    AppHooks (*hooks)(ReusableApp& reusable)) {
  thread_local std::map<std::string, std::unique_ptr<ReusableApp>> apps;
  std::unique_ptr<ReusableApp>& reusable = apps[command_name];
  if (reusable == nullptr || ++reusable->parses > kParsesPerApp) {
    reusable = std::make_unique<ReusableApp>();
    reusable->app = BuildApp(hooks(*reusable), command_name);
  }
  return *reusable;
}

// One parse into a ParsedCommand. CLI11 calls StartCommand and ApplyOption
// as it reads the line, in its order; options before the command name wait
// in `pending_` until the command is known, then apply as if they followed
// it. Finish resolves what CLI11 leaves open.
class Parser {
 public:
  explicit Parser(const ParseEnv& env) : env_(env) {
    cmd_.leader =
        env.leader_env.empty() ? std::string(kDefaultLeader) : env.leader_env;
    cmd_.token_file = env.token_file_env;
    cmd_.token_env = env.token_env;
    cmd_.tls = env.tls_env;
  }

  absl::StatusOr<ParsedCommand> Parse(const std::vector<std::string>& args) {
    absl::StatusOr<Words> words = SplitWords(args);
    if (!words.ok()) return words.status();
    ReusableApp& reusable = AppFor(words->command, &Hooks);
    reusable.parser = this;
    app_ = reusable.app.get();
    std::vector<std::string> reversed(words->head.rbegin(), words->head.rend());
    bool help = false;
    try {
      app_->parse(reversed);  // CLI11 takes the words last first.
    } catch (const CLI::CallForHelp&) {
      help = true;
    } catch (const CLI::ParseError& error) {
      // Ours (a CLI::ValidationError from a callback above) or CLI11's.
      return UsageError(error.what());
    } catch (const std::exception& error) {
      return absl::InternalError(
          absl::StrCat("parsing the command line: ", error.what()));
    }
    return Finish(help, std::move(words->tail));
  }

 private:
  // Hooks that call the Parser using `reusable`.
  static AppHooks Hooks(ReusableApp& reusable) {
    return {[&reusable](const CommandSpec& command, CLI::App& app) {
              ThrowIfError(reusable.parser->StartCommand(command, &app));
            },
            [&reusable](const OptionSpec& option, const std::string& value) {
              ThrowIfError(reusable.parser->ApplyOption(option, value));
            }};
  }

  // The command's name was read (`app`: its App); or, once CLI11 is done
  // (`app` null), the command is a group's first one (a group alone with
  // --help) or was named after "--". Words before the name that name no
  // command are an error, as on a line without a command.
  absl::Status StartCommand(const CommandSpec& command, const CLI::App* app) {
    if (app != nullptr) {
      const std::vector<std::string> unknown = Leftovers();
      if (!unknown.empty()) return UnknownCommand(unknown[0]);
      const CLI::App& parent = *app->get_parent();
      if (parent.get_parent() != nullptr && !WordsOf(parent).empty()) {
        return GroupCommand(parent.get_name(), WordsOf(parent), false).status();
      }
    }
    command_ = &command;
    command_app_ = app;
    for (const auto& [option, value] : std::exchange(pending_, {})) {
      if (absl::Status applied = ApplyOption(*option, value); !applied.ok()) {
        return applied;
      }
    }
    return absl::OkStatus();
  }

  // The arguments CLI11 collected on `app` (a command's or group's App).
  std::vector<std::string> WordsOf(const CLI::App& app) const {
    return Restored(ArgsOf(app));
  }

  // The words the top App kept: those before the command name.
  std::vector<std::string> Leftovers() const {
    return Restored(app_->remaining());
  }

  absl::Status ApplyOption(const OptionSpec& option, const std::string& value) {
    if (command_ == nullptr) {
      pending_.emplace_back(&option, value);
      return absl::OkStatus();
    }
    if (!Accepts(option, command_->name)) {
      return UsageError(absl::StrCat("option --", option.name,
                                     " does not apply to '", command_->name,
                                     "'"));
    }
    if (!option.repeatable && !seen_.insert(option.name).second) {
      return UsageError(absl::StrCat("option --", option.name, " given twice"));
    }
    return option.store({option.name, value, env_}, cmd_);
  }

  // After CLI11: which command, its help, its arguments and the checks
  // that span options.
  absl::StatusOr<ParsedCommand> Finish(bool help,
                                       std::vector<std::string> tail) {
    if (command_ == nullptr) {
      // No command name was read: words that name none, a group without
      // its command, a command named after "--" (quarry -- status ID), or
      // nothing.
      const std::vector<std::string> unknown = Leftovers();
      if (!unknown.empty()) return UnknownCommand(unknown[0]);
      std::vector<std::string> words;
      for (const CLI::App* group : app_->get_subcommands()) {
        words.push_back(group->get_name());
        for (std::string& word : WordsOf(*group)) words.push_back(word);
      }
      words.insert(words.end(), tail.begin(), tail.end());
      if (words.empty()) {
        if (help) return cmd_;  // The general help.
        return UsageError("missing command; run 'quarry help' for usage");
      }
      absl::StatusOr<const CommandSpec*> command = TakeCommand(words, help);
      if (!command.ok()) return command.status();
      if (absl::Status started = StartCommand(**command, nullptr);
          !started.ok()) {
        return started;
      }
      tail = std::move(words);  // The command's arguments.
    }
    cmd_.command = command_->command;
    std::vector<std::string> positional;
    if (command_app_ != nullptr) positional = WordsOf(*command_app_);
    if (cmd_.command == Command::kSubmit) {
      cmd_.program_args = std::move(tail);
      for (const std::string& word : cmd_.program_args) {
        cmd_.spec.add_command(word);
      }
    } else {
      positional.insert(positional.end(), tail.begin(), tail.end());
    }

    if (help || cmd_.command == Command::kHelp) {
      if (cmd_.command != Command::kHelp) {
        cmd_.help_topic = cmd_.command;
      } else {
        absl::StatusOr<std::optional<Command>> topic = HelpTopic(positional);
        if (!topic.ok()) return topic.status();
        cmd_.help_topic = *topic;
      }
      cmd_.command = Command::kHelp;
      return cmd_;
    }
    if (absl::Status ok = ApplyPositionals(positional, cmd_); !ok.ok()) {
      return ok;
    }
    if (cmd_.command == Command::kHealth && cmd_.address.empty()) {
      cmd_.address = cmd_.leader;
    }
    if (cmd_.command == Command::kLogs && cmd_.json &&
        !cmd_.task_index.has_value()) {
      return UsageError("'logs --json' needs a TASK (or --attempt)");
    }
    if (cmd_.command == Command::kSubmit) {
      if (cmd_.spec.kind().empty()) {
        return UsageError("'submit' needs --kind KIND");
      }
      if (!cmd_.program_args.empty() && cmd_.spec.kind() != "exec") {
        return UsageError(absl::StrCat(
            "the words after '--' are the program of --kind exec; kind '",
            cmd_.spec.kind(), "' takes none"));
      }
      if (seen_.count("wait-timeout") > 0 && !cmd_.wait) {
        return UsageError("option --wait-timeout needs --wait");
      }
    }
    return cmd_;
  }

  const ParseEnv& env_;
  CLI::App* app_ = nullptr;  // This thread's, for this line's command.
  ParsedCommand cmd_;
  const CommandSpec* command_ = nullptr;  // Null until its name is read.
  const CLI::App* command_app_ = nullptr;
  std::vector<std::pair<const OptionSpec*, std::string>> pending_;
  std::set<absl::string_view> seen_;  // Options given (not repeatable ones).
};

}  // namespace

absl::Duration ParsedCommand::EffectiveTimeout() const {
  if (timeout.has_value()) return *timeout;
  if (command == Command::kCluster && wait_for.has_value()) {
    return kDefaultWaitForTimeout;
  }
  return kDefaultTimeout;
}

absl::StatusOr<ParsedCommand> ParseArgs(const std::vector<std::string>& args,
                                        const ParseEnv& env) {
  return Parser(env).Parse(args);
}

}  // namespace quarry::cli

#include "cli/args.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/ids.h"

namespace quarry::cli {
namespace {

using quarry::v1::JobState;

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& spec : AllCommands()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
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
  const std::string group = absl::StrCat(words[0], " ");
  const CommandSpec* first = nullptr;
  std::string verbs;  // "drain, ..."
  for (const CommandSpec& spec : AllCommands()) {
    if (!absl::StartsWith(spec.name, group)) continue;
    if (first == nullptr) first = &spec;
    absl::StrAppend(&verbs, verbs.empty() ? "" : ", ",
                    spec.name.substr(group.size()));
  }
  if (first == nullptr) {
    return UsageError(absl::StrCat("unknown command '", words[0],
                                   "'; run 'quarry help' for usage"));
  }
  if (words.size() > 1) {
    return UsageError(absl::StrCat("unknown '", words[0], "' command '",
                                   words[1], "' (want: ", verbs, ")"));
  }
  if (!help) {
    return UsageError(
        absl::StrCat("'", words[0], "' needs a command: ", verbs));
  }
  words.clear();
  return first;
}

const OptionSpec* FindOption(absl::string_view name) {
  for (const OptionSpec& spec : AllOptions()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

bool Accepts(const OptionSpec& option, Command command) {
  if (option.commands.empty()) return true;
  for (absl::string_view name : absl::StrSplit(option.commands, ' ')) {
    if (name == SpecOf(command).name) return true;
  }
  return false;
}

// "10", "0.5" (seconds) or an absl duration such as "90s" or "2m"; > 0.
absl::StatusOr<absl::Duration> ParseSeconds(absl::string_view option,
                                            absl::string_view value) {
  double seconds = 0;
  absl::Duration duration;
  if (absl::SimpleAtod(value, &seconds) && std::isfinite(seconds)) {
    duration = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(value, &duration)) {
    duration = absl::ZeroDuration();
  }
  if (duration <= absl::ZeroDuration() ||
      duration == absl::InfiniteDuration()) {
    return UsageError(absl::StrCat("option --", option, ": '", value,
                                   "' is not a positive number of seconds"));
  }
  return duration;
}

// An RFC 3339 time ("2026-11-21T10:00:00Z") or an age before `now` ("2h").
absl::StatusOr<absl::Time> ParseTimeOrAge(absl::string_view option,
                                          absl::string_view value,
                                          absl::Time now) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, value, &time, &error)) return time;
  absl::Duration age;
  if (absl::ParseDuration(value, &age) && age >= absl::ZeroDuration() &&
      age != absl::InfiniteDuration()) {
    return now - age;
  }
  return UsageError(absl::StrCat("option --", option, ": '", value,
                                 "' is neither an RFC 3339 time nor an age "
                                 "such as 2h"));
}

absl::StatusOr<int> ParseInt(absl::string_view option, absl::string_view value,
                             int min) {
  int number = 0;
  if (!absl::SimpleAtoi(value, &number) || number < min) {
    return UsageError(absl::StrCat("option --", option, ": '", value,
                                   "' is not an integer >= ", min));
  }
  return number;
}

// A byte count: digits with an optional binary suffix (K, M, G or KiB,
// MiB, GiB), e.g. 8M; at least 0.
absl::StatusOr<int64_t> ParseBytes(absl::string_view option,
                                   absl::string_view value) {
  absl::string_view digits = value;
  int shift = 0;
  for (const auto& [suffix, bits] :
       {std::pair<absl::string_view, int>{"KiB", 10},
        {"MiB", 20},
        {"GiB", 30},
        {"K", 10},
        {"M", 20},
        {"G", 30}}) {
    if (absl::ConsumeSuffix(&digits, suffix)) {
      shift = bits;
      break;
    }
  }
  int64_t number = 0;
  if (!absl::SimpleAtoi(digits, &number) || number < 0 ||
      number > (int64_t{1} << 40 >> shift)) {
    return UsageError(absl::StrCat("option --", option, ": '", value,
                                   "' is not a byte count such as 8M "
                                   "(0..1T)"));
  }
  return number << shift;
}

// Stores one option's value into `cmd`.
absl::Status ApplyOption(absl::string_view name, const std::string& value,
                         const ParseEnv& env, ParsedCommand& cmd) {
  if (name == "leader") {
    if (value.empty()) return UsageError("option --leader: empty address");
    cmd.leader = value;
  } else if (name == "json") {
    cmd.json = true;
  } else if (name == "timeout") {
    absl::StatusOr<absl::Duration> timeout = ParseSeconds(name, value);
    if (!timeout.ok()) return timeout.status();
    cmd.timeout = *timeout;
  } else if (name == "kind") {
    cmd.spec.set_kind(value);
  } else if (name == "input" || name == "output") {
    absl::StatusOr<std::string> path = AbsolutePath(value, env.cwd);
    if (!path.ok()) {
      return UsageError(
          absl::StrCat("option --", name, ": ", path.status().message()));
    }
    if (name == "input") {
      cmd.spec.add_inputs(*path);
    } else {
      cmd.spec.set_output_dir(*path);
    }
  } else if (name == "set") {
    const size_t eq = value.find('=');
    if (eq == std::string::npos || eq == 0) {
      return UsageError(absl::StrCat(
          "option --set: '", value, "' is not key=value with a non-empty key"));
    }
    const std::string key = value.substr(0, eq);
    if (!cmd.spec.mutable_settings()
             ->insert({key, value.substr(eq + 1)})
             .second) {
      return UsageError(
          absl::StrCat("option --set: key '", key, "' given twice"));
    }
  } else if (name == "overwrite") {
    cmd.spec.set_overwrite(true);
  } else if (name == "max-attempts") {
    absl::StatusOr<int> n = ParseInt(name, value, 1);
    if (!n.ok()) return n.status();
    cmd.spec.set_max_attempts(*n);
  } else if (name == "bytes-per-task") {
    absl::StatusOr<int64_t> bytes = ParseBytes(name, value);
    if (!bytes.ok()) return bytes.status();
    cmd.spec.set_bytes_per_task(*bytes);
  } else if (name == "wait") {
    cmd.wait = true;
  } else if (name == "wait-timeout") {
    absl::StatusOr<absl::Duration> timeout = ParseSeconds(name, value);
    if (!timeout.ok()) return timeout.status();
    cmd.wait_timeout = *timeout;
  } else if (name == "tasks") {
    cmd.include_tasks = true;
  } else if (name == "attempts") {
    cmd.include_attempts = true;
  } else if (name == "since" || name == "until") {
    absl::StatusOr<absl::Time> time = ParseTimeOrAge(name, value, env.now);
    if (!time.ok()) return time.status();
    (name == "since" ? cmd.ended_after : cmd.ended_before) = *time;
  } else if (name == "state") {
    absl::StatusOr<JobState> state = ParseJobState(value);
    if (!state.ok()) {
      return UsageError(
          absl::StrCat("option --state: ", state.status().message()));
    }
    cmd.state_filter = *state;
  } else if (name == "limit") {
    absl::StatusOr<int> n = ParseInt(name, value, 1);
    if (!n.ok()) return n.status();
    cmd.limit = *n;
  } else if (name == "page-token") {
    cmd.page_token = value;
  } else if (name == "wait-for") {
    absl::StatusOr<int> n = ParseInt(name, value, 0);
    if (!n.ok()) return n.status();
    cmd.wait_for = *n;
  } else if (name == "attempt") {
    if (!ParseAttemptId(value).has_value()) {
      return UsageError(absl::StrCat(
          "option --attempt: '", value,
          "' is not an attempt id (JOB_ID.TASK.N, e.g. job-000001.3.1)"));
    }
    cmd.attempt_id = value;
  } else if (name == "address") {
    if (absl::Status valid = ValidateHostPort(value, "option --address");
        !valid.ok()) {
      return UsageError(valid.message());
    }
    cmd.address = value;
  }
  return absl::OkStatus();
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

// Checks the positional arguments left after the command name.
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

}  // namespace

const std::vector<CommandSpec>& AllCommands() {
  static const auto* const kCommands = new std::vector<CommandSpec>{
      {Command::kSubmit, "submit", "--kind KIND [--input PATH ...] [OPTIONS]",
       "Submit a job and print its id (--wait: follow it to the end)"},
      {Command::kStatus, "status", "JOB_ID",
       "Show a job: state, task counts, times, error (--tasks: every task)"},
      {Command::kList, "list", "", "List jobs, newest first"},
      {Command::kResult, "result", "JOB_ID",
       "Show a job's output directory, its files and the result summary"},
      {Command::kCancel, "cancel", "JOB_ID",
       "Cancel a job and print its new state"},
      {Command::kCluster, "cluster", "",
       "Show cluster health, workers, slots and what each busy slot runs"},
      {Command::kHistory, "history", "[OPTIONS]",
       "List finished jobs from the execution history (leader with "
       "--history), newest first"},
      {Command::kWorkerDrain, "worker drain", "WORKER_ID",
       "Drain a worker: no new attempts; it leaves once its running ones "
       "end"},
      {Command::kLogs, "logs", "JOB_ID [TASK]",
       "Print the log of a task's last attempt (no TASK: of every task)"},
      {Command::kHealth, "health", "",
       "Check a leader or worker (gRPC health); exit 0 when SERVING"},
      {Command::kHelp, "help", "[COMMAND]",
       "Show this help, or the help of one command"},
  };
  return *kCommands;
}

const std::vector<OptionSpec>& AllOptions() {
  static const auto* const kOptions = new std::vector<OptionSpec>{
      {"leader", "HOST:PORT", "", false,
       "Leader address (default: $QUARRY_LEADER, else 127.0.0.1:7070)"},
      {"json", "", "", false, "Print the leader's response as JSON"},
      {"timeout", "SECONDS", "", false,
       "Deadline of each call to the leader (default 10; cluster --wait-for: "
       "30)"},
      {"help", "", "", false, "Show help (also -h); COMMAND --help: its help"},
      {"kind", "KIND", "submit history", false,
       "Job kind (see 'Job kinds' below); history: only jobs of KIND"},
      {"input", "PATH", "submit", true,
       "Input file or directory, relative to here (repeatable)"},
      {"output", "DIR", "submit", false,
       "Output directory, relative to here (created if absent)"},
      {"set", "KEY=VALUE", "submit", true,
       "Kind setting, e.g. --set pattern=error (repeatable)"},
      {"overwrite", "", "submit", false,
       "Allow a non-empty output directory (parts are replaced)"},
      {"max-attempts", "N", "submit", false,
       "Attempts per task before the job fails (default 3)"},
      {"bytes-per-task", "BYTES", "submit", false,
       "Pack small input files into tasks of up to BYTES (e.g. 8M); "
       "default: one task per file"},
      {"wait", "", "submit", false,
       "Follow the job to its end with a progress display on stderr"},
      {"wait-timeout", "SECONDS", "submit", false,
       "With --wait: give up (exit 4) after this long (default 86400)"},
      {"tasks", "", "status", false, "Also show every task"},
      {"attempts", "", "status", false,
       "Also show every finished attempt (from the execution history)"},
      {"state", "STATE", "list history", false,
       "Only jobs in STATE: pending|running|done|failed|cancelled"},
      {"since", "TIME", "history", false,
       "Only jobs that ended at or after TIME (RFC 3339, or an age: 2h)"},
      {"until", "TIME", "history", false,
       "Only jobs that ended before TIME (RFC 3339, or an age: 30m)"},
      {"limit", "N", "list history", false,
       "At most N jobs (default 50, max 1000)"},
      {"page-token", "TOKEN", "list history", false,
       "Continue after a previous page (its next page token)"},
      {"wait-for", "N", "cluster", false,
       "Poll until at least N workers are ALIVE (exit 4 after --timeout)"},
      {"attempt", "ATTEMPT_ID", "logs", false,
       "This attempt (e.g. job-000001.3.1) instead of the task's last one"},
      {"address", "HOST:PORT", "health", false,
       "The server to check, a leader or a worker (default: the leader)"},
  };
  return *kOptions;
}

const CommandSpec& SpecOf(Command command) {
  for (const CommandSpec& spec : AllCommands()) {
    if (spec.command == command) return spec;
  }
  return AllCommands().back();  // Unreachable: every Command has a spec.
}

absl::Duration ParsedCommand::EffectiveTimeout() const {
  if (timeout.has_value()) return *timeout;
  if (command == Command::kCluster && wait_for.has_value()) {
    return kDefaultWaitForTimeout;
  }
  return kDefaultTimeout;
}

absl::StatusOr<ParsedCommand> ParseArgs(const std::vector<std::string>& args,
                                        const ParseEnv& env) {
  // Split the words into options (with their values) and positionals.
  std::vector<std::pair<const OptionSpec*, std::string>> options;
  std::vector<std::string> positional;
  bool help = false;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (only_positional || arg.size() < 2 || arg[0] != '-') {
      positional.push_back(arg);
      continue;
    }
    if (arg == "--") {
      only_positional = true;
      continue;
    }
    if (arg == "-h" || arg == "--help") {
      help = true;
      continue;
    }
    const size_t eq = arg.find('=');
    const std::string name =
        absl::StartsWith(arg, "--") ? arg.substr(2, eq - 2) : "";
    const OptionSpec* spec = FindOption(name);
    if (spec == nullptr || spec->name == "help") {
      return UsageError(absl::StrCat("unknown option '", arg.substr(0, eq),
                                     "'; run 'quarry help' for usage"));
    }
    std::string value;
    if (spec->value_name.empty()) {
      if (eq != std::string::npos) {
        return UsageError(absl::StrCat("option --", name, " takes no value"));
      }
    } else if (eq != std::string::npos) {
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size() && !absl::StartsWith(args[i + 1], "--")) {
      value = args[++i];
    } else {
      return UsageError(absl::StrCat("option --", name, " needs a value (",
                                     spec->value_name, ")"));
    }
    options.emplace_back(spec, std::move(value));
  }

  ParsedCommand cmd;
  cmd.leader =
      env.leader_env.empty() ? std::string(kDefaultLeader) : env.leader_env;
  if (positional.empty()) {
    if (help) return cmd;  // General help.
    return UsageError("missing command; run 'quarry help' for usage");
  }
  absl::StatusOr<const CommandSpec*> command = TakeCommand(positional, help);
  if (!command.ok()) return command.status();
  cmd.command = (*command)->command;

  std::set<absl::string_view> seen;
  for (const auto& [spec, value] : options) {
    if (!Accepts(*spec, cmd.command)) {
      return UsageError(absl::StrCat("option --", spec->name,
                                     " does not apply to '", (*command)->name,
                                     "'"));
    }
    if (!spec->repeatable && !seen.insert(spec->name).second) {
      return UsageError(absl::StrCat("option --", spec->name, " given twice"));
    }
    if (absl::Status applied = ApplyOption(spec->name, value, env, cmd);
        !applied.ok()) {
      return applied;
    }
  }

  if (cmd.command == Command::kHelp || help) {
    if (cmd.command != Command::kHelp) {
      cmd.help_topic = cmd.command;
    } else if (!positional.empty()) {
      absl::StatusOr<const CommandSpec*> topic =
          TakeCommand(positional, /*help=*/true);
      if (!topic.ok()) return topic.status();
      if (!positional.empty()) {
        return UsageError(absl::StrCat("unexpected argument '", positional[0],
                                       "' for 'help'"));
      }
      cmd.help_topic = (*topic)->command;
    }
    cmd.command = Command::kHelp;
    return cmd;
  }
  if (absl::Status ok = ApplyPositionals(positional, cmd); !ok.ok()) return ok;
  if (cmd.command == Command::kHealth && cmd.address.empty()) {
    cmd.address = cmd.leader;
  }
  if (cmd.command == Command::kLogs && cmd.json &&
      !cmd.task_index.has_value()) {
    return UsageError("'logs --json' needs a TASK (or --attempt)");
  }
  if (cmd.command == Command::kSubmit) {
    if (cmd.spec.kind().empty()) {
      return UsageError("'submit' needs --kind KIND");
    }
    if (seen.count("wait-timeout") > 0 && !cmd.wait) {
      return UsageError("option --wait-timeout needs --wait");
    }
  }
  return cmd;
}

absl::StatusOr<JobState> ParseJobState(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (JobState state :
       {quarry::v1::JOB_STATE_PENDING, quarry::v1::JOB_STATE_RUNNING,
        quarry::v1::JOB_STATE_DONE, quarry::v1::JOB_STATE_FAILED,
        quarry::v1::JOB_STATE_CANCELLED}) {
    // "JOB_STATE_RUNNING" -> "running".
    if (lower == absl::AsciiStrToLower(
                     absl::StripPrefix(JobState_Name(state), "JOB_STATE_"))) {
      return state;
    }
  }
  return UsageError(
      absl::StrCat("unknown job state '", name,
                   "' (want pending, running, done, failed or cancelled)"));
}

absl::StatusOr<std::string> AbsolutePath(absl::string_view path,
                                         absl::string_view cwd) {
  if (path.empty()) return UsageError("empty path");
  if (path[0] == '/') return std::string(path);
  if (cwd.empty() || cwd[0] != '/') {
    return UsageError(absl::StrCat("cannot make '", path,
                                   "' absolute: working directory unknown"));
  }
  std::string absolute =
      (std::filesystem::path(std::string(cwd)) / std::string(path))
          .lexically_normal()
          .string();
  if (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
  return absolute;
}

}  // namespace quarry::cli

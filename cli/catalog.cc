// The catalogue of the `quarry` command line: every command, every option
// and how an option's value is stored; and the CLI11 App built from it.
#include "cli/catalog.h"

#include <CLI/CLI.hpp>
#include <map>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/usage.h"
#include "cli/values.h"

namespace quarry::cli {
namespace {

constexpr absl::string_view kToolHelp =
    "Submits jobs to a Quarry leader, follows them and shows their results\n"
    "and the health of the cluster.";

// Stores a parsed value in `target`, or passes its error on.
template <typename T, typename Target>
absl::Status Set(absl::StatusOr<T> value, Target& target) {
  if (!value.ok()) return value.status();
  target = *std::move(value);
  return absl::OkStatus();
}

// Calls `store` with a parsed value, or passes its error on.
template <typename T, typename Store>
absl::Status Then(absl::StatusOr<T> value, Store store) {
  if (!value.ok()) return value.status();
  store(*std::move(value));
  return absl::OkStatus();
}

// Stores a file path option's value, refusing an empty one.
absl::Status SetPath(const OptionValue& value, std::string& target) {
  if (value.text.empty()) return value.Error("empty path");
  target = std::string(value.text);
  return absl::OkStatus();
}

// Sets a flag's field.
absl::Status SetTrue(bool& flag) {
  flag = true;
  return absl::OkStatus();
}

// Adds `option` to `app`. Each occurrence calls hooks.on_option at once, in
// command-line order, rather than once at the end of the parse: ParseArgs
// counts repeats itself and reports the first error on the line.
CLI::Option* AddOption(CLI::App& app, const OptionSpec& option,
                       const AppHooks& hooks) {
  const std::string name = absl::StrCat("--", option.name);
  const std::string help(option.help);
  CLI::Option* added = nullptr;
  if (option.value_name.empty()) {
    added = app.add_flag_callback(
        name,
        [&option, on_option = hooks.on_option] {
          if (on_option) on_option(option, "");
        },
        help);
  } else {
    added = app.add_option_function<std::string>(
        name,
        [&option, on_option = hooks.on_option](const std::string& value) {
          if (on_option) on_option(option, value);
        },
        help);
    added->type_name(std::string(option.value_name));
  }
  added->trigger_on_parse();
  if (option.repeatable) {  // Its values all count; --help shows "PATH ...".
    added->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  }
  return added;
}

// A command's (or group's) App under `parent`, with ARGS.
CLI::App* AddCommandApp(CLI::App& parent, absl::string_view name,
                        absl::string_view help) {
  CLI::App* app = parent.add_subcommand(std::string(name), std::string(help));
  app->add_option(kArgs)->expected(0, -1)->allow_extra_args();  // Any number.
  return app;
}

}  // namespace

const std::vector<CommandSpec>& AllCommands() {
  static const auto* const kCommands = new std::vector<CommandSpec>{
      {Command::kSubmit, "submit",
       "--kind KIND [--input PATH ...] [OPTIONS] [-- PROGRAM ARG...]",
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
  using V = const OptionValue&;
  using C = ParsedCommand&;
  static const auto* const kOptions = new std::vector<OptionSpec>{
      {"leader", "HOST:PORT", "", false,
       "Leader address (default: $QUARRY_LEADER, else 127.0.0.1:7070)",
       [](V v, C c) {
         return v.text.empty()
                    ? v.Error("empty address")
                    : Set<std::string>(std::string(v.text), c.leader);
       }},
      {"token-file", "PATH", "", false,
       "Read the bearer token for the leader from PATH (mode 600; default: "
       "$QUARRY_TOKEN_FILE, else $QUARRY_TOKEN)",
       [](V v, C c) { return SetPath(v, c.token_file); }},
      {"tls-ca", "PATH", "", false,
       "Connect over TLS, trusting the CA certificate(s) in PATH (default: "
       "$QUARRY_TLS_CA; none: plaintext)",
       [](V v, C c) { return SetPath(v, c.tls.ca); }},
      {"tls-cert", "PATH", "", false,
       "Client certificate for mutual TLS (with --tls-key; default: "
       "$QUARRY_TLS_CERT)",
       [](V v, C c) { return SetPath(v, c.tls.cert); }},
      {"tls-key", "PATH", "", false,
       "Private key of --tls-cert (default: $QUARRY_TLS_KEY)",
       [](V v, C c) { return SetPath(v, c.tls.key); }},
      {"json", "", "", false, "Print the leader's response as JSON",
       [](V, C c) { return SetTrue(c.json); }},
      {"timeout", "SECONDS", "", false,
       "Deadline of each call to the leader (default 10; cluster --wait-for: "
       "30)",
       [](V v, C c) { return Set(ParseSeconds(v), c.timeout); }},
      {"help", "", "", false, "Show help (also -h); COMMAND --help: its help"},
      {"kind", "KIND", "submit history", false,
       "Job kind (see 'Job kinds' below); history: only jobs of KIND",
       [](V v, C c) {
         c.spec.set_kind(std::string(v.text));
         return absl::OkStatus();
       }},
      {"input", "PATH", "submit", true,
       "Input file or directory, relative to here (repeatable)",
       [](V v, C c) {
         return Then(ParsePath(v), [&c](std::string path) {
           c.spec.add_inputs(std::move(path));
         });
       }},
      {"output", "DIR", "submit", false,
       "Output directory, relative to here (created if absent)",
       [](V v, C c) {
         return Then(ParsePath(v), [&c](std::string path) {
           c.spec.set_output_dir(std::move(path));
         });
       }},
      {"set", "KEY=VALUE", "submit", true,
       "Kind setting, e.g. --set pattern=error (repeatable)",
       [](V v, C c) { return AddKeyValue(v, *c.spec.mutable_settings()); }},
      {"env", "KEY=VALUE", "submit", true,
       "exec: an environment variable for the command (repeatable)",
       [](V v, C c) { return AddKeyValue(v, *c.spec.mutable_env()); }},
      {"task-timeout", "SECONDS", "submit", false,
       "Stop and retry an attempt running longer than this (e.g. 30s)",
       [](V v, C c) {
         return Then(ParseSeconds(v), [&c](absl::Duration d) {
           const int64_t nanos = absl::ToInt64Nanoseconds(d);
           c.spec.mutable_task_timeout()->set_seconds(nanos / 1'000'000'000);
           c.spec.mutable_task_timeout()->set_nanos(
               static_cast<int32_t>(nanos % 1'000'000'000));
         });
       }},
      {"overwrite", "", "submit", false,
       "Allow a non-empty output directory (parts are replaced)",
       [](V, C c) {
         c.spec.set_overwrite(true);
         return absl::OkStatus();
       }},
      {"max-attempts", "N", "submit", false,
       "Attempts per task before the job fails (default 3)",
       [](V v, C c) {
         return Then(ParseInt(v, 1),
                     [&c](int n) { c.spec.set_max_attempts(n); });
       }},
      {"bytes-per-task", "BYTES", "submit", false,
       "Pack small input files into tasks of up to BYTES (e.g. 8M); "
       "default: one task per file",
       [](V v, C c) {
         return Then(ParseBytes(v),
                     [&c](int64_t n) { c.spec.set_bytes_per_task(n); });
       }},
      {"wait", "", "submit", false,
       "Follow the job to its end with a progress display on stderr",
       [](V, C c) { return SetTrue(c.wait); }},
      {"wait-timeout", "SECONDS", "submit", false,
       "With --wait: give up (exit 4) after this long (default 86400)",
       [](V v, C c) { return Set(ParseSeconds(v), c.wait_timeout); }},
      {"tasks", "N", "submit", false,
       "exec without --input: a job array of N tasks, {index} = 0..N-1 "
       "(1..1000000)",
       [](V v, C c) {
         return Then(ParseInt(v, 1), [&c](int n) {
           (*c.spec.mutable_settings())["tasks"] = absl::StrCat(n);
         });
       }},
      {"reduce", "SHELL_COMMAND", "submit", false,
       "exec: run once after every task is DONE via /bin/sh -c; {parts} "
       "(the part files, quoted) and {output} (the result file)",
       [](V v, C c) {
         c.spec.set_reduce(std::string(v.text));
         return absl::OkStatus();
       }},
      {"tasks", "", "status", false, "Also show every task",
       [](V, C c) { return SetTrue(c.include_tasks); }},
      {"attempts", "", "status", false,
       "Also show every finished attempt (from the execution history)",
       [](V, C c) { return SetTrue(c.include_attempts); }},
      {"state", "STATE", "list history", false,
       "Only jobs in STATE: pending|running|done|failed|cancelled",
       [](V v, C c) { return Set(ParseState(v), c.state_filter); }},
      {"since", "TIME", "history", false,
       "Only jobs that ended at or after TIME (RFC 3339, or an age: 2h)",
       [](V v, C c) { return Set(ParseTimeOrAge(v), c.ended_after); }},
      {"until", "TIME", "history", false,
       "Only jobs that ended before TIME (RFC 3339, or an age: 30m)",
       [](V v, C c) { return Set(ParseTimeOrAge(v), c.ended_before); }},
      {"limit", "N", "list history", false,
       "At most N jobs (default 50, max 1000)",
       [](V v, C c) { return Set(ParseInt(v, 1), c.limit); }},
      {"page-token", "TOKEN", "list history", false,
       "Continue after a previous page (its next page token)",
       [](V v, C c) {
         return Set<std::string>(std::string(v.text), c.page_token);
       }},
      {"wait-for", "N", "cluster", false,
       "Poll until at least N workers are ALIVE (exit 4 after --timeout)",
       [](V v, C c) { return Set(ParseInt(v, 0), c.wait_for); }},
      {"attempt", "ATTEMPT_ID", "logs", false,
       "This attempt (e.g. job-000001.3.1) instead of the task's last one",
       [](V v, C c) { return Set(ParseAttempt(v), c.attempt_id); }},
      {"address", "HOST:PORT", "health", false,
       "The server to check, a leader or a worker (default: the leader)",
       [](V v, C c) { return Set(ParseAddress(v), c.address); }},
  };
  return *kOptions;
}

const CommandSpec& SpecOf(Command command) {
  for (const CommandSpec& spec : AllCommands()) {
    if (spec.command == command) return spec;
  }
  return AllCommands().back();  // Unreachable: every Command has a spec.
}

const CommandSpec* FindCommand(absl::string_view name) {
  for (const CommandSpec& spec : AllCommands()) {
    if (spec.name == name) return &spec;
  }
  return nullptr;
}

const OptionSpec* FindOption(absl::string_view name,
                             absl::string_view command) {
  const OptionSpec* fallback = nullptr;
  for (const OptionSpec& spec : AllOptions()) {
    if (spec.name != name) continue;
    if (!command.empty() && Accepts(spec, command)) return &spec;
    // A command none accepts gets the flag, so the error is that the
    // option does not apply rather than that it needs a value.
    if (fallback == nullptr ||
        (!command.empty() && spec.value_name.empty())) {
      fallback = &spec;
    }
  }
  return fallback;
}

bool Accepts(const OptionSpec& option, absl::string_view command) {
  if (option.commands.empty()) return true;
  for (absl::string_view name : absl::StrSplit(option.commands, ' ')) {
    if (name == command) return true;
  }
  return false;
}

std::unique_ptr<CLI::App> BuildApp(const AppHooks& hooks,
                                   absl::string_view command_name) {
  auto top = std::make_unique<CLI::App>(std::string(kToolHelp), "quarry");
  // Set before the subcommands are added: they inherit these.
  top->formatter(MakeUsageFormatter());
  top->set_help_flag();  // Added back in the catalogue's place below.
  top->fallthrough();    // A command's App passes global options up.
  top->require_subcommand(0, 1);
  // Words before the command name are left over, not errors: ParseArgs
  // reports them as unknown commands.
  top->allow_extras();
  for (const OptionSpec& option : AllOptions()) {
    if (option.store == nullptr) {
      top->set_help_flag("-h,--help", std::string(option.help));
    } else if (FindOption(option.name, command_name) == &option) {
      // One twin per name: the spelling of the command on the line.
      CLI::Option* added = AddOption(*top, option, hooks);
      if (!option.commands.empty()) added->group("");  // A hidden twin.
    }
  }
  std::map<std::string, CLI::App*> groups;  // "worker" -> its App.
  for (const CommandSpec& command : AllCommands()) {
    CLI::App* parent = top.get();
    absl::string_view verb = command.name;
    if (const size_t space = verb.find(' '); space != verb.npos) {
      CLI::App*& group = groups[std::string(verb.substr(0, space))];
      if (group == nullptr) {
        group = AddCommandApp(*top, verb.substr(0, space), "");
      }
      parent = group;
      verb = verb.substr(space + 1);
    }
    CLI::App* app = AddCommandApp(*parent, verb, command.help);
    app->preparse_callback(
        [&command, app, on_command = hooks.on_command](size_t) {
          if (on_command) on_command(command, *app);
        });
    for (const OptionSpec& option : AllOptions()) {
      if (!option.commands.empty() && Accepts(option, command.name)) {
        AddOption(*app, option, hooks);
      }
    }
  }
  return top;
}

std::vector<std::string> ArgsOf(const CLI::App& app) {
  return app.get_option(kArgs)->results();
}

const CLI::App& CommandApp(const CLI::App& top, const CommandSpec& command) {
  const CLI::App* app = &top;
  for (absl::string_view name : absl::StrSplit(command.name, ' ')) {
    app = app->get_subcommand(std::string(name));
  }
  return *app;
}

}  // namespace quarry::cli

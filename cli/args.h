#ifndef QUARRY_CLI_ARGS_H_
#define QUARRY_CLI_ARGS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/tls.h"
#include "quarry/v1/types.pb.h"

// The command line of the `quarry` tool: the catalogue of its commands and
// options (catalog.cc), and ParseArgs, which parses argv with CLI11
// (args.cc) into a ParsedCommand. Pure: nothing here reads the process
// environment or prints.
namespace quarry::cli {

// The commands of the `quarry` tool.
enum class Command {
  kHelp,
  kSubmit,
  kStatus,
  kList,
  kResult,
  kCancel,
  kCluster,
  kWorkerDrain,
  kLogs,
  kHealth,
  kHistory
};

inline constexpr absl::string_view kDefaultLeader = "127.0.0.1:7070";
inline constexpr absl::Duration kDefaultTimeout = absl::Seconds(10);
inline constexpr absl::Duration kDefaultWaitForTimeout = absl::Seconds(30);
inline constexpr absl::Duration kDefaultWaitTimeout = absl::Hours(24);

// What the parser needs from the process environment, passed in so that
// parsing is a pure function.
struct ParseEnv {
  // $QUARRY_LEADER, or empty.
  std::string leader_env;
  // The working directory; relative --input/--output paths are made
  // absolute against it. Empty if unknown (then relative paths are errors).
  std::string cwd;
  // Ages (--since 2h) count back from here.
  absl::Time now = absl::Now();
  // $QUARRY_TOKEN and $QUARRY_TOKEN_FILE, or empty.
  std::string token_env;
  std::string token_file_env;
  // $QUARRY_TLS_CA, $QUARRY_TLS_CERT and $QUARRY_TLS_KEY, or empty.
  TlsFiles tls_env;
};

// A fully parsed and checked command line.
struct ParsedCommand {
  Command command = Command::kHelp;

  // Global options.
  std::string leader;  // HOST:PORT.
  // The bearer token for the leader: --token-file's content, else
  // $QUARRY_TOKEN_FILE's, else $QUARRY_TOKEN; read when the command runs.
  std::string token_file;  // --token-file or $QUARRY_TOKEN_FILE.
  std::string token_env;   // $QUARRY_TOKEN.
  // --tls-ca (dial over TLS), --tls-cert/--tls-key (client certificate),
  // each defaulting to $QUARRY_TLS_CA, ...; read when the command runs.
  TlsFiles tls;
  bool json = false;
  // --timeout; unset means the command's default (10 s, cluster --wait-for
  // 30 s).
  std::optional<absl::Duration> timeout;

  // help: the command whose help to show; nullopt for the general help.
  std::optional<Command> help_topic;

  // status, result, cancel, logs.
  std::string job_id;

  // logs: the task (nullopt: every task of the job) and one attempt of it
  // (empty: the task's current or last attempt). --attempt alone also
  // names the task.
  std::optional<int> task_index;
  std::string attempt_id;

  // health: the server to check (default: the leader).
  std::string address;

  // worker drain.
  std::string worker_id;

  // submit. Paths in spec.inputs and spec.output_dir are absolute.
  quarry::v1::JobSpec spec;
  bool wait = false;
  absl::Duration wait_timeout = kDefaultWaitTimeout;
  // submit: the words after "--", verbatim and in order: the program and
  // its arguments of the `exec` kind (`submit --kind exec ... -- PROGRAM
  // ARG...`), also in spec.command.
  std::vector<std::string> program_args;

  // status.
  bool include_tasks = false;
  bool include_attempts = false;
  // history: jobs that ended in [ended_after, ended_before).
  std::optional<absl::Time> ended_after;
  std::optional<absl::Time> ended_before;

  // list. JOB_STATE_UNSPECIFIED: every state; 0: the leader's default.
  quarry::v1::JobState state_filter = quarry::v1::JOB_STATE_UNSPECIFIED;
  int limit = 0;
  std::string page_token;

  // cluster: wait until at least this many workers are ALIVE.
  std::optional<int> wait_for;

  // The deadline of each unary call (and of the whole cluster --wait-for).
  absl::Duration EffectiveTimeout() const;
};

// One command of the catalogue below (drives parsing and --help).
struct CommandSpec {
  Command command;
  absl::string_view name;       // "submit", or "GROUP VERB": "worker drain".
  absl::string_view arguments;  // Positional synopsis, e.g. "JOB_ID".
  absl::string_view help;       // One line.
};

// One occurrence of an option on the command line, as its store function
// sees it.
struct OptionValue {
  absl::string_view name;  // Without the dashes: "limit".
  absl::string_view text;  // "20"; empty for a flag.
  const ParseEnv& env;

  // The usage error "option --NAME: MESSAGE".
  absl::Status Error(absl::string_view message) const;
};

// One option. Options are "--name VALUE" or "--name=VALUE"; flags (empty
// value_name) take no value.
struct OptionSpec {
  absl::string_view name;        // Without the dashes: "input".
  absl::string_view value_name;  // "PATH"; empty for a flag.
  // The commands that accept it, space-separated; empty: a global option
  // every command accepts.
  absl::string_view commands;
  bool repeatable = false;
  absl::string_view help;  // One line.
  // Checks one value and stores it in the command (INVALID_ARGUMENT that
  // names the option if the value is bad). Null for --help, which CLI11
  // handles.
  absl::Status (*store)(const OptionValue& value, ParsedCommand& cmd) = nullptr;
};

// Every command and every option, in --help order.
const std::vector<CommandSpec>& AllCommands();
const std::vector<OptionSpec>& AllOptions();
const CommandSpec& SpecOf(Command command);

// Parses the arguments after the program name. Global options may come
// before or after the command name; `--help`/`-h` anywhere asks for help on
// the command. Words after "--" are taken verbatim: the command's
// arguments, or for submit its program_args. Errors are INVALID_ARGUMENT
// with a one-line message meant for the user (a usage error). Keeps the
// CLI11 Apps it builds, per thread, for later calls (the result depends on
// the arguments and `env` only).
absl::StatusOr<ParsedCommand> ParseArgs(const std::vector<std::string>& args,
                                        const ParseEnv& env);

// "pending" (any case) -> JOB_STATE_PENDING, etc.
absl::StatusOr<quarry::v1::JobState> ParseJobState(absl::string_view name);

// `path` made absolute against `cwd` and lexically normalized
// ("./in/../data/" -> "/cwd/data"). Absolute paths are returned unchanged.
absl::StatusOr<std::string> AbsolutePath(absl::string_view path,
                                         absl::string_view cwd);

}  // namespace quarry::cli

#endif  // QUARRY_CLI_ARGS_H_

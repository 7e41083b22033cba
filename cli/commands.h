#ifndef QUARRY_CLI_COMMANDS_H_
#define QUARRY_CLI_COMMANDS_H_

#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cli/args.h"

namespace quarry::cli {

// Exit codes scripts can rely on (listed in --help).
enum ExitCode : int {
  kExitOk = 0,
  kExitJobFailed = 1,   // submit --wait: the job ended FAILED or CANCELLED.
  kExitNotServing = 1,  // health: the server answered, but not SERVING.
  kExitUsage = 2,       // Unknown command/option, missing value, bad key=value.
  kExitRefused = 3,     // The leader refused the request.
  kExitUnreachable =
      4,  // UNAVAILABLE or DEADLINE_EXCEEDED (or a wait timed out).
};

// The exit code for a failed call: 4 for UNAVAILABLE and DEADLINE_EXCEEDED
// (retry later), 3 for every other error (the leader said no), 0 for OK.
int ExitCodeForStatus(const absl::Status& status);

// "quarry: NOT_FOUND: job job-000099 not found" (one line, no newline).
std::string ErrorLine(const absl::Status& status);

// Where commands print and how they wait. Owned by the caller; a command
// uses it from its own thread (and, for the live progress bar, one ticker
// thread that only writes to `err` while the command waits).
struct CommandContext {
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
  // stderr is a terminal: submit --wait draws a live progress bar.
  bool err_is_tty = false;
  int terminal_width = 80;
  // How often the live progress bar is redrawn between events.
  absl::Duration redraw_interval = absl::Milliseconds(250);
  // Sleeps between polls and reconnects; tests make it return at once.
  std::function<void(absl::Duration)> sleep = [](absl::Duration d) {
    absl::SleepFor(d);
  };
  absl::TimeZone time_zone = absl::LocalTimeZone();
};

// Runs one parsed command against the leader it names and returns the exit
// code. Prints results on ctx.out, progress and errors on ctx.err.
int RunCommand(const ParsedCommand& cmd, CommandContext& ctx);

// The whole tool: parses `args` (argv without the program name), prints a
// usage error (exit 2) or runs the command.
int RunQuarry(const std::vector<std::string>& args, const ParseEnv& env,
              CommandContext& ctx);

}  // namespace quarry::cli

#endif  // QUARRY_CLI_COMMANDS_H_

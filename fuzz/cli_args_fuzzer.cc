// fuzz_cli_args: the `quarry` command line. After a first byte that picks
// the environment (working directory known or not, $QUARRY_LEADER set or
// not), the bytes split on NUL and newline are the arguments after the
// program name, as a shell would pass them. CHECKs what ParseArgs
// promises: no exception escapes, an error is INVALID_ARGUMENT with a
// non-empty one-line message, and a parsed command is complete (a help
// text for help, absolute paths and a kind for submit, ids where a
// command needs one); and parsing the same line again (ParseArgs reuses
// its CLI11 Apps) gives the same result.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "cli/args.h"
#include "cli/usage.h"
#include "glog/logging.h"
#include "google/protobuf/util/message_differencer.h"

namespace quarry::cli {
namespace {

void CheckParsed(const ParsedCommand& cmd) {
  CHECK(!cmd.leader.empty());
  CHECK(cmd.EffectiveTimeout() > absl::ZeroDuration());
  switch (cmd.command) {
    case Command::kHelp:
      CHECK(!UsageText(cmd.help_topic).empty());
      break;
    case Command::kSubmit:
      CHECK(!cmd.spec.kind().empty());
      for (const std::string& input : cmd.spec.inputs()) {
        CHECK(!input.empty() && input[0] == '/') << input;
      }
      CHECK(cmd.spec.output_dir().empty() || cmd.spec.output_dir()[0] == '/');
      CHECK(cmd.program_args.empty() || cmd.spec.kind() == "exec");
      CHECK_EQ(static_cast<size_t>(cmd.spec.command_size()),
               cmd.program_args.size());
      break;
    case Command::kStatus:
    case Command::kResult:
    case Command::kCancel:
    case Command::kLogs:
      CHECK(!cmd.job_id.empty());
      break;
    case Command::kWorkerDrain:
      CHECK(!cmd.worker_id.empty());
      break;
    default:
      break;
  }
  if (cmd.task_index.has_value()) CHECK_GE(*cmd.task_index, 0);
}

// The same outcome from two parses of one line.
void CheckSameOutcome(const absl::StatusOr<ParsedCommand>& a,
                      const absl::StatusOr<ParsedCommand>& b) {
  CHECK_EQ(a.status(), b.status());
  if (!a.ok()) return;
  CHECK(a->command == b->command);
  CHECK(a->help_topic == b->help_topic);
  CHECK_EQ(a->leader, b->leader);
  CHECK_EQ(a->job_id, b->job_id);
  CHECK_EQ(a->worker_id, b->worker_id);
  CHECK(a->task_index == b->task_index);
  CHECK_EQ(a->attempt_id, b->attempt_id);
  CHECK(a->program_args == b->program_args);
  CHECK(a->timeout == b->timeout);
  CHECK_EQ(a->json, b->json);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(a->spec, b->spec));
}

}  // namespace
}  // namespace quarry::cli

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quarry::cli;
  if (size == 0) return 0;
  ParseEnv env;
  env.cwd = (data[0] & 1) != 0 ? "/home/fuzz/work" : "";
  env.leader_env = (data[0] & 2) != 0 ? "leader.example:7070" : "";
  env.now = absl::FromUnixSeconds(1'800'000'000);
  const absl::string_view text(reinterpret_cast<const char*>(data) + 1,
                               size - 1);
  std::vector<std::string> args;
  if (!text.empty()) {
    args = absl::StrSplit(text, absl::ByAnyChar(absl::string_view("\0\n", 2)));
  }
  const absl::StatusOr<ParsedCommand> parsed = ParseArgs(args, env);
  CheckSameOutcome(parsed, ParseArgs(args, env));
  if (!parsed.ok()) {
    CHECK(absl::IsInvalidArgument(parsed.status())) << parsed.status();
    CHECK(!parsed.status().message().empty());
    CHECK(parsed.status().message().find('\n') == absl::string_view::npos)
        << parsed.status();
    return 0;
  }
  CheckParsed(*parsed);
  return 0;
}

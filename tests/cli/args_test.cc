#include "cli/args.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const ParseEnv kEnv = {"", "/home/user/work"};

absl::StatusOr<ParsedCommand> Parse(const std::vector<std::string>& args,
                                    const ParseEnv& env = kEnv) {
  return ParseArgs(args, env);
}

// Expects a usage error whose message contains `text`.
void ExpectUsageError(const std::vector<std::string>& args,
                      const std::string& text) {
  const absl::StatusOr<ParsedCommand> cmd = Parse(args);
  ASSERT_FALSE(cmd.ok()) << "parsed: " << ::testing::PrintToString(args);
  EXPECT_TRUE(absl::IsInvalidArgument(cmd.status())) << cmd.status();
  EXPECT_THAT(cmd.status().message(), HasSubstr(text));
}

TEST(ParseArgsTest, SubmitWithRepeatedInputsAndSettings) {
  const absl::StatusOr<ParsedCommand> cmd =
      Parse({"submit", "--kind", "grep", "--input", "a.txt", "--input=/data/b",
             "--input", "../c/", "--output", "out", "--set", "pattern=x=y",
             "--set=empty=", "--overwrite", "--max-attempts", "5", "--wait",
             "--wait-timeout", "60"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->command, Command::kSubmit);
  EXPECT_EQ(cmd->spec.kind(), "grep");
  EXPECT_THAT(cmd->spec.inputs(),
              ElementsAre("/home/user/work/a.txt", "/data/b", "/home/user/c"));
  EXPECT_EQ(cmd->spec.output_dir(), "/home/user/work/out");
  EXPECT_THAT(cmd->spec.settings(),
              UnorderedElementsAre(Pair("pattern", "x=y"), Pair("empty", "")));
  EXPECT_TRUE(cmd->spec.overwrite());
  EXPECT_EQ(cmd->spec.max_attempts(), 5);
  EXPECT_TRUE(cmd->wait);
  EXPECT_EQ(cmd->wait_timeout, absl::Seconds(60));
}

TEST(ParseArgsTest, SubmitDefaults) {
  const absl::StatusOr<ParsedCommand> cmd = Parse({"submit", "--kind", "noop"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_TRUE(cmd->spec.inputs().empty());
  EXPECT_EQ(cmd->spec.output_dir(), "");
  EXPECT_FALSE(cmd->wait);
  EXPECT_EQ(cmd->wait_timeout, kDefaultWaitTimeout);
  EXPECT_EQ(cmd->EffectiveTimeout(), kDefaultTimeout);
}

TEST(ParseArgsTest, BadSettingsAreUsageErrors) {
  ExpectUsageError({"submit", "--kind", "grep", "--set", "pattern"},
                   "'pattern' is not key=value");
  ExpectUsageError({"submit", "--kind", "grep", "--set", "=x"},
                   "'=x' is not key=value with a non-empty key");
  ExpectUsageError({"submit", "--kind", "grep", "--set", "a=1", "--set", "a=2"},
                   "key 'a' given twice");
}

TEST(ParseArgsTest, BytesPerTaskTakesBinarySuffixes) {
  for (const auto& [text, bytes] :
       std::vector<std::pair<std::string, int64_t>>{{"0", 0},
                                                    {"4096", 4096},
                                                    {"8M", 8 << 20},
                                                    {"8MiB", 8 << 20},
                                                    {"64K", 64 << 10},
                                                    {"1G", int64_t{1} << 30}}) {
    const absl::StatusOr<ParsedCommand> cmd =
        Parse({"submit", "--kind", "wordcount", "--bytes-per-task", text});
    ASSERT_TRUE(cmd.ok()) << text << ": " << cmd.status();
    EXPECT_EQ(cmd->spec.bytes_per_task(), bytes) << text;
  }
  for (const std::string bad : {"-1", "8X", "M", "2000G", ""}) {
    ExpectUsageError({"submit", "--kind", "wordcount", "--bytes-per-task", bad},
                     "is not a byte count");
  }
}

TEST(ParseArgsTest, GlobalOptionsBeforeOrAfterTheCommand) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"--leader", "h:1", "--json", "--timeout", "2.5", "status", "job-7"},
           {"status", "job-7", "--json", "--timeout=2.5", "--leader=h:1"},
           {"--json", "status", "--leader", "h:1", "job-7", "--timeout",
            "2.5"}}) {
    const absl::StatusOr<ParsedCommand> cmd = Parse(args);
    ASSERT_TRUE(cmd.ok()) << cmd.status();
    EXPECT_EQ(cmd->command, Command::kStatus);
    EXPECT_EQ(cmd->job_id, "job-7");
    EXPECT_EQ(cmd->leader, "h:1");
    EXPECT_TRUE(cmd->json);
    EXPECT_EQ(cmd->EffectiveTimeout(), absl::Milliseconds(2500));
  }
}

TEST(ParseArgsTest, LeaderDefaultsToEnvironmentThenLocalhost) {
  EXPECT_EQ(Parse({"list"})->leader, "127.0.0.1:7070");
  const ParseEnv env = {"leader.example:9000", "/"};
  EXPECT_EQ(Parse({"list"}, env)->leader, "leader.example:9000");
  EXPECT_EQ(Parse({"list", "--leader", "h:2"}, env)->leader, "h:2");
}

TEST(ParseArgsTest, TimeoutAcceptsSecondsOrDurations) {
  EXPECT_EQ(Parse({"list", "--timeout", "90s"})->EffectiveTimeout(),
            absl::Seconds(90));
  EXPECT_EQ(Parse({"list", "--timeout", "2m"})->EffectiveTimeout(),
            absl::Minutes(2));
  ExpectUsageError({"list", "--timeout", "0"}, "not a positive number");
  ExpectUsageError({"list", "--timeout", "soon"}, "not a positive number");
  ExpectUsageError({"list", "--timeout", "-3"}, "not a positive number");
}

TEST(ParseArgsTest, UnknownCommandsAndOptions) {
  ExpectUsageError({}, "missing command");
  ExpectUsageError({"frobnicate"}, "unknown command 'frobnicate'");
  ExpectUsageError({"list", "--frobnicate"}, "unknown option '--frobnicate'");
  ExpectUsageError({"list", "--frob=1"}, "unknown option '--frob'");
  ExpectUsageError({"list", "-x"}, "unknown option '-x'");
  ExpectUsageError({"status", "job-1", "--kind", "grep"},
                   "option --kind does not apply to 'status'");
}

TEST(ParseArgsTest, MissingAndUnexpectedValues) {
  ExpectUsageError({"submit", "--kind", "grep", "--input"},
                   "option --input needs a value (PATH)");
  ExpectUsageError({"submit", "--kind", "--input", "a"},
                   "option --kind needs a value (KIND)");
  ExpectUsageError({"list", "--json=yes"}, "option --json takes no value");
  ExpectUsageError({"status"}, "'status' needs a JOB_ID");
  ExpectUsageError({"cancel", "job-1", "job-2"}, "unexpected argument 'job-2'");
  ExpectUsageError({"list", "extra"}, "unexpected argument 'extra'");
  ExpectUsageError({"submit", "--input", "a"}, "'submit' needs --kind");
  ExpectUsageError({"list", "--limit", "0"}, "'0' is not an integer >= 1");
  ExpectUsageError({"list", "--limit", "ten"}, "'ten' is not an integer");
  ExpectUsageError({"list", "--limit", "1", "--limit", "2"},
                   "option --limit given twice");
  ExpectUsageError({"submit", "--kind", "noop", "--wait-timeout", "5"},
                   "--wait-timeout needs --wait");
  ExpectUsageError({"submit", "--kind", "grep", "--input", ""}, "empty path");
}

TEST(ParseArgsTest, DoubleDashEndsOptions) {
  const absl::StatusOr<ParsedCommand> cmd = Parse({"status", "--", "--odd-id"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->job_id, "--odd-id");
}

TEST(ParseArgsTest, SubmitKeepsTheWordsAfterDoubleDashVerbatim) {
  const absl::StatusOr<ParsedCommand> cmd =
      Parse({"submit", "--kind", "exec", "--input", "in", "--output", "out",
             "--", "prog", "-x", "--output", "{input}", "--", "--help", "-h",
             "++", "", "--kind=y"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->command, Command::kSubmit);
  EXPECT_EQ(cmd->spec.output_dir(), "/home/user/work/out");
  EXPECT_THAT(cmd->program_args,
              ElementsAre("prog", "-x", "--output", "{input}", "--", "--help",
                          "-h", "++", "", "--kind=y"));

  EXPECT_TRUE(Parse({"submit", "--kind", "noop"})->program_args.empty());
  EXPECT_TRUE(Parse({"submit", "--kind", "noop", "--"})->program_args.empty());
  // Only the exec kind runs a program: others refuse one, naming the kind.
  ExpectUsageError({"submit", "--kind", "noop", "--", "prog"},
                   "the words after '--' are the program of --kind exec; "
                   "kind 'noop' takes none");
  // Before "--", a word is still an argument submit does not take.
  ExpectUsageError({"submit", "--kind", "exec", "prog", "--", "x"},
                   "unexpected argument 'prog' for 'submit'");
  // Other commands take the words after "--" as their arguments.
  ExpectUsageError({"status", "job-1", "--", "-x"},
                   "unexpected argument '-x' for 'status'");
}

// submit --tasks N (a job array) and status --tasks (a flag) share a name.
TEST(ParseArgsTest, TasksTakesACountInSubmitAndIsAFlagInStatus) {
  absl::StatusOr<ParsedCommand> cmd =
      Parse({"submit", "--kind", "exec", "--tasks", "1000", "--output", "o",
             "--reduce", "cat {parts} > {output}", "--", "echo", "{index}"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_THAT(cmd->spec.settings(), ElementsAre(Pair("tasks", "1000")));
  EXPECT_EQ(cmd->spec.reduce(), "cat {parts} > {output}");
  EXPECT_THAT(cmd->spec.command(), ElementsAre("echo", "{index}"));
  cmd = Parse({"--tasks=7", "submit", "--kind", "noop"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_THAT(cmd->spec.settings(), ElementsAre(Pair("tasks", "7")));
  cmd = Parse({"--tasks", "7", "submit", "--kind", "noop"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_THAT(cmd->spec.settings(), ElementsAre(Pair("tasks", "7")));
  ExpectUsageError({"submit", "--kind", "exec", "--tasks", "0", "--", "x"},
                   "--tasks");
  ExpectUsageError({"submit", "--kind", "exec", "--tasks", "--", "x"},
                   "option --tasks needs a value (N)");
  ExpectUsageError({"status", "--tasks=3", "job-1"},
                   "option --tasks takes no value");
  cmd = Parse({"status", "--tasks", "job-1"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_TRUE(cmd->include_tasks);
  EXPECT_EQ(cmd->job_id, "job-1");
  // An option in the daemons' spelling, with its value, before the command.
  cmd = Parse({"--token_file", "/t", "status", "--tasks", "job-1"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->token_file, "/t");
  EXPECT_TRUE(cmd->include_tasks);
  EXPECT_EQ(cmd->job_id, "job-1");
}

TEST(ParseArgsTest, TlsOptionsOverrideTheEnvironmentInEitherSpelling) {
  ParseEnv env = kEnv;
  env.tls_env.ca = "/env/ca.pem";
  env.tls_env.cert = "/env/client.pem";
  absl::StatusOr<ParsedCommand> cmd = Parse({"cluster"}, env);
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->tls.ca, "/env/ca.pem");
  EXPECT_EQ(cmd->tls.cert, "/env/client.pem");
  EXPECT_EQ(cmd->tls.key, "");
  cmd = Parse({"--tls-ca", "/a/ca.pem", "cluster", "--tls_cert=/a/c.pem",
               "--tls-key", "/a/c.key"},
              env);
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->tls.ca, "/a/ca.pem");
  EXPECT_EQ(cmd->tls.cert, "/a/c.pem");
  EXPECT_EQ(cmd->tls.key, "/a/c.key");
  ExpectUsageError({"--tls-ca=", "cluster"}, "empty path");
}

// Rules of today's parser that CLI11 alone does not have (args.cc keeps
// them).
TEST(ParseArgsTest, WordRules) {
  // A command's options may come before its name, too.
  absl::StatusOr<ParsedCommand> cmd = Parse({"--tasks", "status", "job-1"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_TRUE(cmd->include_tasks);
  ExpectUsageError({"--kind", "grep", "status", "job-1"},
                   "option --kind does not apply to 'status'");
  ExpectUsageError({"--limit", "1", "list", "--limit", "2"},
                   "option --limit given twice");
  // "--name=" gives the empty value; it does not take the next word.
  cmd = Parse({"list", "--page-token=", "--limit", "5"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->page_token, "");
  EXPECT_EQ(cmd->limit, 5);
  ExpectUsageError({"list", "--leader=", "--json"},
                   "option --leader: empty address");
  // A value may start with one dash, not two.
  EXPECT_EQ(Parse({"list", "--page-token", "-x"})->page_token, "-x");
  ExpectUsageError({"list", "--page-token", "--x"},
                   "option --page-token needs a value (TOKEN)");
  // "++" is a word like any other (CLI11 would end the command there).
  EXPECT_EQ(Parse({"status", "++"})->job_id, "++");
  ExpectUsageError({"list", "++"}, "unexpected argument '++' for 'list'");
  // Errors come in the order of the line, after the command is known.
  ExpectUsageError({"--timeout", "0", "frobnicate"},
                   "unknown command 'frobnicate'");
  ExpectUsageError({"status", "--timeout", "0", "--limit", "x"},
                   "option --timeout: '0' is not a positive number");
}

TEST(ParseArgsTest, StatusListAndClusterOptions) {
  EXPECT_TRUE(Parse({"status", "job-1", "--tasks"})->include_tasks);

  const absl::StatusOr<ParsedCommand> list = Parse(
      {"list", "--state", "Running", "--limit", "20", "--page-token", "t1"});
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ(list->state_filter, quarry::v1::JOB_STATE_RUNNING);
  EXPECT_EQ(list->limit, 20);
  EXPECT_EQ(list->page_token, "t1");

  const absl::StatusOr<ParsedCommand> cluster =
      Parse({"cluster", "--wait-for", "3"});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EXPECT_EQ(cluster->wait_for, 3);
  EXPECT_EQ(cluster->EffectiveTimeout(), kDefaultWaitForTimeout);
  EXPECT_EQ(Parse({"cluster", "--wait-for", "3", "--timeout", "5"})
                ->EffectiveTimeout(),
            absl::Seconds(5));
  EXPECT_EQ(Parse({"cluster"})->EffectiveTimeout(), kDefaultTimeout);
}

TEST(ParseArgsTest, HelpForms) {
  EXPECT_EQ(Parse({"help"})->command, Command::kHelp);
  EXPECT_FALSE(Parse({"help"})->help_topic.has_value());
  EXPECT_FALSE(Parse({"--help"})->help_topic.has_value());
  EXPECT_FALSE(Parse({"-h"})->help_topic.has_value());
  EXPECT_EQ(Parse({"help", "submit"})->help_topic, Command::kSubmit);
  // COMMAND --help needs none of the command's required arguments.
  const absl::StatusOr<ParsedCommand> cmd = Parse({"submit", "--help"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->command, Command::kHelp);
  EXPECT_EQ(cmd->help_topic, Command::kSubmit);
  EXPECT_EQ(Parse({"status", "-h"})->help_topic, Command::kStatus);
  ExpectUsageError({"help", "nope"}, "unknown command 'nope'");
}

TEST(ParseArgsTest, WorkerDrain) {
  absl::StatusOr<ParsedCommand> cmd =
      Parse({"worker", "drain", "worker-1", "--json"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->command, Command::kWorkerDrain);
  EXPECT_EQ(cmd->worker_id, "worker-1");
  EXPECT_TRUE(cmd->json);
  EXPECT_EQ(cmd->EffectiveTimeout(), kDefaultTimeout);
  cmd = Parse({"--timeout", "3", "worker", "drain", "--", "-odd"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->worker_id, "-odd");

  ExpectUsageError({"worker"}, "'worker' needs a command: drain");
  ExpectUsageError({"worker", "frob", "w1"},
                   "unknown 'worker' command 'frob' (want: drain)");
  ExpectUsageError({"worker", "drain"}, "'worker drain' needs a WORKER_ID");
  ExpectUsageError({"worker", "drain", "a", "b"}, "unexpected argument 'b'");
  ExpectUsageError({"worker", "drain", "a", "--tasks"},
                   "option --tasks does not apply to 'worker drain'");
  ExpectUsageError({"drain", "w1"}, "unknown command 'drain'");

  EXPECT_EQ(Parse({"help", "worker", "drain"})->help_topic,
            Command::kWorkerDrain);
  EXPECT_EQ(Parse({"help", "worker"})->help_topic, Command::kWorkerDrain);
  EXPECT_EQ(Parse({"worker", "drain", "--help"})->help_topic,
            Command::kWorkerDrain);
  EXPECT_EQ(Parse({"worker", "--help"})->help_topic, Command::kWorkerDrain);
  ExpectUsageError({"help", "worker", "drain", "x"},
                   "unexpected argument 'x' for 'help'");
}

TEST(ParseArgsTest, LogsOfATaskAnAttemptOrEveryTask) {
  absl::StatusOr<ParsedCommand> cmd = Parse({"logs", "job-000001", "3"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->command, Command::kLogs);
  EXPECT_EQ(cmd->job_id, "job-000001");
  EXPECT_EQ(cmd->task_index, 3);
  EXPECT_EQ(cmd->attempt_id, "");

  cmd = Parse({"logs", "job-000001"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_FALSE(cmd->task_index.has_value());

  // --attempt names the task too, with or without TASK.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{
           {"logs", "job-000001", "--attempt", "job-000001.3.1"},
           {"logs", "job-000001", "3", "--attempt=job-000001.3.1"}}) {
    cmd = Parse(args);
    ASSERT_TRUE(cmd.ok()) << cmd.status();
    EXPECT_EQ(cmd->task_index, 3);
    EXPECT_EQ(cmd->attempt_id, "job-000001.3.1");
  }
  cmd = Parse({"--json", "logs", "job-000001", "0"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_TRUE(cmd->json);

  ExpectUsageError({"logs"}, "'logs' needs a JOB_ID");
  ExpectUsageError({"logs", "job-000001", "x"},
                   "'logs': TASK must be a task index (0, 1, ...), got 'x'");
  ExpectUsageError({"logs", "job-000001", "-1"}, "unknown option '-1'");
  ExpectUsageError({"logs", "job-000001", "1", "2"},
                   "unexpected argument '2' for 'logs'");
  ExpectUsageError({"logs", "job-000001", "--attempt", "job-000001.3"},
                   "option --attempt: 'job-000001.3' is not an attempt id");
  ExpectUsageError({"logs", "job-000001", "2", "--attempt", "job-000001.3.1"},
                   "option --attempt: job-000001.3.1 is not an attempt of "
                   "job-000001 task 2");
  ExpectUsageError({"logs", "job-000002", "--attempt", "job-000001.3.1"},
                   "is not an attempt of job-000002");
  ExpectUsageError({"--json", "logs", "job-000001"},
                   "'logs --json' needs a TASK (or --attempt)");
  ExpectUsageError({"status", "job-000001", "--attempt", "job-000001.3.1"},
                   "option --attempt does not apply to 'status'");
}

TEST(ParseArgsTest, HealthChecksTheLeaderOrAnAddress) {
  absl::StatusOr<ParsedCommand> cmd =
      Parse({"health"}, {"leader.example:7070", "/"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->command, Command::kHealth);
  EXPECT_EQ(cmd->address, "leader.example:7070");
  cmd = Parse({"health", "--address", "worker-1:7100", "--timeout", "3"});
  ASSERT_TRUE(cmd.ok()) << cmd.status();
  EXPECT_EQ(cmd->address, "worker-1:7100");
  EXPECT_EQ(cmd->EffectiveTimeout(), absl::Seconds(3));
  ExpectUsageError({"health", "--address", "nohost"},
                   "option --address \"nohost\" is not HOST:PORT");
  ExpectUsageError({"health", "extra"}, "unexpected argument 'extra'");
}

TEST(ParseJobStateTest, AcceptsNamesInAnyCase) {
  EXPECT_EQ(*ParseJobState("pending"), quarry::v1::JOB_STATE_PENDING);
  EXPECT_EQ(*ParseJobState("RUNNING"), quarry::v1::JOB_STATE_RUNNING);
  EXPECT_EQ(*ParseJobState("Done"), quarry::v1::JOB_STATE_DONE);
  EXPECT_EQ(*ParseJobState("failed"), quarry::v1::JOB_STATE_FAILED);
  EXPECT_EQ(*ParseJobState("cancelled"), quarry::v1::JOB_STATE_CANCELLED);
  for (const char* bad : {"", "unspecified", "job_state_done", "canceled"}) {
    const absl::StatusOr<quarry::v1::JobState> state = ParseJobState(bad);
    EXPECT_TRUE(absl::IsInvalidArgument(state.status())) << bad;
  }
  EXPECT_THAT(ParseJobState("nope").status().message(),
              HasSubstr("want pending, running, done, failed or cancelled"));
}

TEST(AbsolutePathTest, MakesRelativePathsAbsolute) {
  EXPECT_EQ(*AbsolutePath("in", "/w"), "/w/in");
  EXPECT_EQ(*AbsolutePath("./in/../data/", "/w"), "/w/data");
  EXPECT_EQ(*AbsolutePath("..", "/w/x"), "/w");
  EXPECT_EQ(*AbsolutePath(".", "/"), "/");
  EXPECT_EQ(*AbsolutePath("/abs/./kept/", "/w"), "/abs/./kept/");
  EXPECT_FALSE(AbsolutePath("in", "").ok());
  EXPECT_FALSE(AbsolutePath("", "/w").ok());
}

TEST(CatalogTest, EveryCommandHasASpecAndEveryOptionAValidCommand) {
  for (const CommandSpec& command : AllCommands()) {
    EXPECT_EQ(SpecOf(command.command).name, command.name);
  }
  for (const OptionSpec& option : AllOptions()) {
    EXPECT_FALSE(option.help.empty()) << option.name;
  }
}

}  // namespace
}  // namespace quarry::cli

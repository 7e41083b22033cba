// Runs the `quarry` commands end to end against an in-process fake leader
// (a real gRPC server on 127.0.0.1:0 serving scripted answers).
#include "cli/commands.h"

#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "cli/args.h"
#include "cli/watch.h"
#include "common/server_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/command_fixture.h"

namespace quarry::cli {
namespace {

namespace v1 = quarry::v1;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using quarry::cli::testing::CommandsTest;
using quarry::cli::testing::kDeadLeader;
using quarry::cli::testing::kJobId;
using quarry::cli::testing::MakeJob;
using quarry::cli::testing::Outcome;

TEST_F(CommandsTest, SubmitPrintsJobIdAndSendsAbsolutePaths) {
  const Outcome result =
      Run({"submit", "--kind", "grep", "--input", "in", "--input", "/abs/x",
           "--output", "out", "--set", "pattern=err", "--max-attempts", "4"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "job-000001\n");
  EXPECT_EQ(result.err, "");
  const v1::SubmitJobRequest request = jobs_.last_submit();
  EXPECT_THAT(request.spec().inputs(), ElementsAre("/home/user/in", "/abs/x"));
  EXPECT_EQ(request.spec().output_dir(), "/home/user/out");
  EXPECT_EQ(request.spec().settings().at("pattern"), "err");
  EXPECT_EQ(request.spec().max_attempts(), 4);
}

TEST_F(CommandsTest, SubmitJsonPrintsTheResponse) {
  const Outcome result = Run({"--json", "submit", "--kind", "noop"});
  ASSERT_EQ(result.code, 0) << result.err;
  v1::SubmitJobResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(result.out, &response).ok())
      << result.out;
  EXPECT_EQ(response.job_id(), kJobId);
  EXPECT_THAT(result.out, HasSubstr("\"jobId\": \"job-000001\""));
}

TEST_F(CommandsTest, SubmitRefusedExits3) {
  const Outcome result = Run({"submit", "--kind", "bogus"});
  EXPECT_EQ(result.code, kExitRefused);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err,
            "quarry: INVALID_ARGUMENT: spec.kind: unknown kind bogus\n");
}

TEST_F(CommandsTest, SubmitWaitDoneExits0) {
  jobs_.AddStream(
      {{MakeJob(v1::JOB_STATE_PENDING, 0), MakeJob(v1::JOB_STATE_RUNNING, 1),
        MakeJob(v1::JOB_STATE_DONE, 2)}});
  const Outcome result = Run({"submit", "--kind", "noop", "--wait"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "job-000001\n");
  EXPECT_THAT(result.err, StartsWith("job-000001 PENDING 0/2 tasks"));
  EXPECT_THAT(result.err,
              HasSubstr("\njob-000001 RUNNING 1/2 tasks  1 running  0 failed"));
  EXPECT_THAT(result.err,
              HasSubstr("\njob-000001 DONE 2/2 tasks  0 running  0 failed"));
  EXPECT_THAT(result.err, Not(HasSubstr("\r")));
}

TEST_F(CommandsTest, SubmitWaitFailedExits1WithTheJobError) {
  jobs_.AddStream({{MakeJob(v1::JOB_STATE_RUNNING, 0),
                    MakeJob(v1::JOB_STATE_FAILED, 1, "task 1: boom")}});
  const Outcome result = Run({"submit", "--kind", "noop", "--wait"});
  EXPECT_EQ(result.code, kExitJobFailed);
  EXPECT_THAT(result.err,
              EndsWith("\nquarry: job job-000001 FAILED: task 1: boom\n"));
}

TEST_F(CommandsTest, SubmitWaitCancelledExits1) {
  jobs_.AddStream({{MakeJob(v1::JOB_STATE_CANCELLED, 0, "cancelled by user")}});
  const Outcome result = Run({"submit", "--kind", "noop", "--wait"});
  EXPECT_EQ(result.code, kExitJobFailed);
  EXPECT_THAT(result.err,
              HasSubstr("quarry: job job-000001 CANCELLED: cancelled by user"));
}

TEST_F(CommandsTest, SubmitWaitReconnectsWhenTheStreamBreaks) {
  jobs_.AddStream({{MakeJob(v1::JOB_STATE_RUNNING, 0)},
                   grpc::Status(grpc::StatusCode::UNAVAILABLE, "leader died")});
  jobs_.SetJob(MakeJob(v1::JOB_STATE_RUNNING, 1));
  jobs_.AddStream(
      {{MakeJob(v1::JOB_STATE_RUNNING, 1), MakeJob(v1::JOB_STATE_DONE, 2)}});
  const Outcome result = Run({"submit", "--kind", "noop", "--wait"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(jobs_.watch_calls(), 2);
  EXPECT_THAT(result.err, HasSubstr("job-000001 DONE 2/2"));
}

TEST_F(CommandsTest, SubmitWaitEndsWhenGetJobShowsTheEnd) {
  // The stream ends early (as on a leader shutdown); GetJob shows DONE.
  jobs_.AddStream({{MakeJob(v1::JOB_STATE_RUNNING, 0)}});
  jobs_.SetJob(MakeJob(v1::JOB_STATE_DONE, 2));
  const Outcome result = Run({"submit", "--kind", "noop", "--wait"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(jobs_.watch_calls(), 1);
}

TEST_F(CommandsTest, SubmitWaitGivesUpAfterBoundedRetries) {
  jobs_.SetJob(MakeJob(v1::JOB_STATE_RUNNING, 0));  // Never ends.
  const Outcome result = Run({"submit", "--kind", "noop", "--wait"});
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_EQ(jobs_.watch_calls(), kMaxWatchRetries + 1);
  EXPECT_THAT(
      result.err,
      HasSubstr("quarry: UNAVAILABLE: lost job job-000001 after 10 retries"));
}

TEST_F(CommandsTest, SubmitWaitUnknownJobExits3) {
  jobs_.AddStream(
      {{},
       grpc::Status(grpc::StatusCode::NOT_FOUND, "job job-000001 not found")});
  const Outcome result = Run({"submit", "--kind", "noop", "--wait"});
  EXPECT_EQ(result.code, kExitRefused);
  EXPECT_THAT(result.err,
              EndsWith("quarry: NOT_FOUND: job job-000001 not found\n"));
}

TEST_F(CommandsTest, SubmitWaitOnATerminalDrawsABar) {
  ctx_.err_is_tty = true;
  ctx_.terminal_width = 100;
  ctx_.redraw_interval = absl::Milliseconds(1);
  jobs_.AddStream(
      {{MakeJob(v1::JOB_STATE_RUNNING, 1), MakeJob(v1::JOB_STATE_DONE, 2)}});
  const Outcome result = Run({"submit", "--kind", "noop", "--wait"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.err,
              StartsWith("\rjob-000001 RUNNING [" + std::string(20, '#') +
                         std::string(20, '.')));
  // The live line is cleared, then the final state line stays.
  EXPECT_THAT(result.err, HasSubstr("\r\x1b[Kjob-000001 DONE 2/2 tasks"));
  EXPECT_THAT(result.err, EndsWith("\n"));
}

TEST_F(CommandsTest, StatusShowsTheJobOrNotFound) {
  jobs_.SetJob(MakeJob(v1::JOB_STATE_RUNNING, 1));
  Outcome result = Run({"status", kJobId});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("State:    RUNNING\n"));

  result = Run({"status", "job-000099"});
  EXPECT_EQ(result.code, kExitRefused);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "quarry: NOT_FOUND: job job-000099 not found\n");
}

TEST_F(CommandsTest, StatusJsonRoundTrips) {
  jobs_.SetJob(MakeJob(v1::JOB_STATE_RUNNING, 1));
  const Outcome result = Run({"status", kJobId, "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  v1::GetJobResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(result.out, &response).ok());
  EXPECT_EQ(response.job().state(), v1::JOB_STATE_RUNNING);
  EXPECT_THAT(result.out, HasSubstr("\"failed\": 0"));  // Zeros are printed.
}

TEST_F(CommandsTest, ListSendsTheFilterAndShowsThePageToken) {
  const Outcome result = Run({"list", "--state", "DONE", "--limit", "5"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(jobs_.last_list().state(), v1::JOB_STATE_DONE);
  EXPECT_EQ(jobs_.last_list().page_size(), 5);
  EXPECT_THAT(result.out, HasSubstr("job-000001  DONE"));
  EXPECT_THAT(result.out, HasSubstr("Next page: --page-token page-2\n"));
}

TEST_F(CommandsTest, ResultAndCancel) {
  Outcome result = Run({"result", kJobId});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("/out/part-00000  3 lines"));

  result = Run({"cancel", kJobId});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "job-000001 CANCELLED\n");

  result = Run({"cancel", "job-000002"});
  EXPECT_EQ(result.code, kExitRefused);
  EXPECT_EQ(result.err,
            "quarry: FAILED_PRECONDITION: job job-000002 is already DONE\n");
}

TEST_F(CommandsTest, ClusterWaitForPollsUntilWorkersAreAlive) {
  cluster_.set_alive_on_call(3);
  const Outcome result = Run({"cluster", "--wait-for", "1"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(cluster_.calls(), 3);
  EXPECT_THAT(result.out, HasSubstr("Cluster:  HEALTHY\n"));
  EXPECT_THAT(result.out, HasSubstr("worker-1  127.0.0.1:7101  ALIVE"));
}

TEST_F(CommandsTest, ClusterWaitForTimesOutWithExit4) {
  cluster_.set_alive_on_call(0);  // Never.
  ctx_.sleep = [](absl::Duration d) {
    absl::SleepFor(d);
  };  // Polls 100 ms apart.
  const Outcome result =
      Run({"cluster", "--wait-for", "1", "--timeout", "0.2"});
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_THAT(result.err, StartsWith("quarry: DEADLINE_EXCEEDED: fewer than 1 "
                                     "workers ALIVE after 200ms (0 ALIVE)"));
}

TEST_F(CommandsTest, WorkerDrainPrintsTheNewStatus) {
  Outcome result = Run({"worker", "drain", "worker-1"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "worker-1 DRAINING\n");
  EXPECT_EQ(result.err, "");
  EXPECT_THAT(cluster_.drained(), ElementsAre("worker-1"));

  result = Run({"worker", "drain", "worker-1", "--json"});
  ASSERT_EQ(result.code, 0) << result.err;
  v1::DrainWorkerResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(result.out, &response).ok())
      << result.out;
  EXPECT_EQ(response.worker().status(), v1::WORKER_STATUS_DRAINING);
  EXPECT_THAT(result.out, HasSubstr("\"status\": \"WORKER_STATUS_DRAINING\""));

  result = Run({"worker", "drain", "worker-9"});
  EXPECT_EQ(result.code, kExitRefused);
  EXPECT_EQ(result.out, "");
  EXPECT_EQ(result.err, "quarry: NOT_FOUND: worker worker-9 not found\n");

  result = Run({"worker", "drain", "worker-1"}, kDeadLeader);
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_THAT(result.err,
              StartsWith("quarry: UNAVAILABLE: leader 127.0.0.1:1"));

  result = Run({"worker", "drain"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_EQ(result.err, "quarry: 'worker drain' needs a WORKER_ID\n");
}

TEST_F(CommandsTest, UnreachableLeaderExits4) {
  Outcome result = Run({"status", kJobId}, kDeadLeader);
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_THAT(result.err,
              StartsWith("quarry: UNAVAILABLE: leader 127.0.0.1:1: "));
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1);

  ctx_.sleep = [](absl::Duration d) {
    absl::SleepFor(d);
  };  // Polls 100 ms apart.
  result = Run({"cluster", "--wait-for", "1", "--timeout", "0.2"}, kDeadLeader);
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_THAT(result.err, HasSubstr("leader 127.0.0.1:1"));
}

TEST_F(CommandsTest, SlowLeaderExits4) {
  const Outcome result = Run({"result", "job-hang", "--timeout", "0.1"});
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_THAT(result.err, StartsWith("quarry: DEADLINE_EXCEEDED: leader "));
}

TEST_F(CommandsTest, UsageErrorsExit2OnOneLine) {
  const Outcome result = Run({"frobnicate"});
  EXPECT_EQ(result.code, kExitUsage);
  EXPECT_EQ(
      result.err,
      "quarry: unknown command 'frobnicate'; run 'quarry help' for usage\n");
}

TEST_F(CommandsTest, HelpListsEveryCommandAndOption) {
  const Outcome result = Run({"--help"});
  EXPECT_EQ(result.code, 0);
  for (const CommandSpec& command : AllCommands()) {
    EXPECT_THAT(result.out, HasSubstr("  " + std::string(command.name) + " "));
  }
  for (const OptionSpec& option : AllOptions()) {
    EXPECT_THAT(result.out, HasSubstr("  --" + std::string(option.name)));
  }
  EXPECT_THAT(result.out, HasSubstr("Exit codes:"));
  const Outcome drain = Run({"worker", "drain", "--help"});
  EXPECT_EQ(drain.code, 0);
  EXPECT_THAT(drain.out, StartsWith("Usage: quarry worker drain WORKER_ID\n"));
  const Outcome submit = Run({"submit", "--help"});
  EXPECT_EQ(submit.code, 0);
  EXPECT_THAT(submit.out, StartsWith("Usage: quarry submit --kind KIND"));
  EXPECT_THAT(submit.out, HasSubstr("wordcount"));
}

TEST(ExitCodeTest, MapsStatusCodes) {
  EXPECT_EQ(ExitCodeForStatus(absl::OkStatus()), kExitOk);
  for (const absl::Status& refused :
       {absl::InvalidArgumentError(""), absl::NotFoundError(""),
        absl::FailedPreconditionError(""), absl::AlreadyExistsError(""),
        absl::PermissionDeniedError(""), absl::InternalError("")}) {
    EXPECT_EQ(ExitCodeForStatus(refused), kExitRefused) << refused;
  }
  EXPECT_EQ(ExitCodeForStatus(absl::UnavailableError("")), kExitUnreachable);
  EXPECT_EQ(ExitCodeForStatus(absl::DeadlineExceededError("")),
            kExitUnreachable);
  EXPECT_EQ(ErrorLine(absl::NotFoundError("job x\nnot found")),
            "quarry: NOT_FOUND: job x not found");
}

}  // namespace
}  // namespace quarry::cli

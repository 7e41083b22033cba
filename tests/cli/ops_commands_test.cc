// `quarry logs` and `quarry health` against an in-process fake leader.
#include "cli/ops_commands.h"

#include <google/protobuf/util/json_util.h>
#include <grpcpp/health_check_service_interface.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/command_fixture.h"

namespace quarry::cli {
namespace {

namespace v1 = quarry::v1;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using quarry::cli::testing::CommandsTest;
using quarry::cli::testing::kDeadLeader;
using quarry::cli::testing::kJobId;
using quarry::cli::testing::MakeJob;
using quarry::cli::testing::Outcome;

using OpsCommandsTest = CommandsTest;

TEST_F(OpsCommandsTest, LogsPrintsOneTasksLog) {
  const Outcome result = Run({"logs", kJobId, "0"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "T1 attempt job-000001.0.1 started\nT2 ended\n");
  EXPECT_EQ(result.err, "");
  const v1::GetAttemptLogRequest request = jobs_.last_log();
  EXPECT_EQ(request.job_id(), kJobId);
  EXPECT_EQ(request.task_index(), 0);
  EXPECT_EQ(request.attempt_id(), "");
}

TEST_F(OpsCommandsTest, LogsOfAnAttemptSendsItsId) {
  const Outcome result = Run({"logs", kJobId, "--attempt", "job-000001.0.7"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, StartsWith("T1 attempt job-000001.0.7 started\n"));
  EXPECT_EQ(jobs_.last_log().attempt_id(), "job-000001.0.7");
  EXPECT_EQ(jobs_.last_log().task_index(), 0);
}

TEST_F(OpsCommandsTest, LogsNotesARunningOrTruncatedLog) {
  const Outcome result = Run({"logs", kJobId, "2"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, StartsWith("T1 attempt job-000001.2.1 started\n"));
  EXPECT_EQ(result.err,
            "quarry: the log of attempt job-000001.2.1 was cut by worker w1 "
            "at its size bound (--attempt_log_max_bytes)\n"
            "quarry: attempt job-000001.2.1 still runs: this is its log so "
            "far\n");
}

TEST_F(OpsCommandsTest, LogsOfAGoneWorkerExitsNonZeroWithTheReason) {
  Outcome result = Run({"logs", kJobId, "1"});
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_EQ(result.out, "");
  // The leader's own UNAVAILABLE reads "leader HOST:PORT: <its reason>".
  EXPECT_EQ(result.err, "quarry: UNAVAILABLE: leader " + leader_ +
                            ": worker w2 that ran attempt job-000001.1.1 is "
                            "gone (DEAD); its log is lost\n");
  result = Run({"logs", "job-000042", "0"});
  EXPECT_EQ(result.code, kExitRefused);
  EXPECT_EQ(result.err, "quarry: NOT_FOUND: job job-000042 not found\n");
  result = Run({"logs", kJobId, "0"}, kDeadLeader);
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_THAT(result.err,
              StartsWith("quarry: UNAVAILABLE: leader 127.0.0.1:1"));
}

TEST_F(OpsCommandsTest, LogsJsonPrintsTheResponse) {
  const Outcome result = Run({"--json", "logs", kJobId, "0"});
  ASSERT_EQ(result.code, 0) << result.err;
  v1::GetAttemptLogResponse response;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(result.out, &response).ok())
      << result.out;
  EXPECT_EQ(response.log().attempt_id(), "job-000001.0.1");
  EXPECT_EQ(response.worker_address(), "127.0.0.1:7101");
  EXPECT_TRUE(response.log().finished());
}

TEST_F(OpsCommandsTest, LogsOfEveryTaskGoesOnPastErrors) {
  jobs_.SetJob(MakeJob(v1::JOB_STATE_RUNNING, 1));
  const Outcome result = Run({"logs", kJobId});
  EXPECT_EQ(result.code, kExitUnreachable);  // Task 1's worker is gone.
  EXPECT_EQ(result.out,
            "==> task 0: attempt job-000001.0.1 on worker w1 (127.0.0.1:7101) "
            "<==\n"
            "T1 attempt job-000001.0.1 started\nT2 ended\n\n"
            "==> task 2: attempt job-000001.2.1 on worker w1 (127.0.0.1:7101) "
            "<==\n"
            "T1 attempt job-000001.2.1 started\nT2 ended\n\n"
            "==> task 3: no attempt yet <==\n\n");
  EXPECT_THAT(result.err,
              HasSubstr(": worker w2 that ran attempt job-000001.1.1 is gone "
                        "(DEAD); its log is lost\n"));
  EXPECT_THAT(result.err, HasSubstr("job-000001.2.1 still runs"));
}

TEST_F(OpsCommandsTest, HealthOfAServingServerExits0) {
  Outcome result = Run({"health"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, leader_ + " SERVING\n");
  result = Run({"health", "--address", leader_}, kDeadLeader);
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, leader_ + " SERVING\n");
  result = Run({"--json", "health"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_THAT(result.out, HasSubstr("\"status\": \"SERVING\""));
}

TEST_F(OpsCommandsTest, HealthOfANotServingServerExits1) {
  server_.server->GetHealthCheckService()->SetServingStatus(false);
  const Outcome result = Run({"health"});
  EXPECT_EQ(result.code, kExitNotServing);
  EXPECT_EQ(result.out, leader_ + " NOT_SERVING\n");
  EXPECT_EQ(result.err,
            "quarry: " + leader_ + " is NOT_SERVING, not SERVING\n");
}

TEST_F(OpsCommandsTest, HealthOfNothingExits4) {
  const Outcome result = Run({"health", "--timeout", "2"}, kDeadLeader);
  EXPECT_EQ(result.code, kExitUnreachable);
  EXPECT_EQ(result.out, "");
  EXPECT_THAT(result.err, StartsWith("quarry: UNAVAILABLE: 127.0.0.1:1: "));
}

}  // namespace
}  // namespace quarry::cli

// The exec kind end to end: real leader and worker processes (workers
// started with --allow_exec) running the user's own commands.
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/job_kinds.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/exec_fixture.h"
#include "tests/testing/rpc.h"

namespace quarry::testing {
namespace {

using ::testing::HasSubstr;

namespace fs = std::filesystem;

TEST_F(ExecTest, PerFileCommandWritingOutputMatchesALocalRun) {
  StartExecWorkers(2, 4);
  const std::string in = cluster_->dir() + "/in";
  const std::vector<std::string> files = WriteInputs(in, 200);
  const std::string out = cluster_->dir() + "/out";
  const std::string script = R"(tr a-z A-Z < "$1" > "$2")";
  RunToDone(Exec({"sh", "-c", script, "sh", "{input}", "{output}"}, in, out));
  for (size_t i = 0; i < files.size(); ++i) {
    ASSERT_EQ(ReadFile(absl::StrCat(out, "/", PartFileName(i))),
              RunLocally({"sh", "-c", R"(tr a-z A-Z < "$1")", "sh", files[i]}))
        << files[i];
  }
}

TEST_F(ExecTest, StdoutIsTheOutputWithoutAnOutputPlaceholder) {
  StartExecWorkers(2, 2);
  const std::string in = cluster_->dir() + "/in";
  const std::vector<std::string> files = WriteInputs(in, 20);
  const std::string out = cluster_->dir() + "/out";
  RunToDone(Exec({"sha256sum", "{input}"}, in, out));
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(ReadFile(absl::StrCat(out, "/", PartFileName(i))),
              RunLocally({"sha256sum", files[i]}));
  }
}

TEST_F(ExecTest, JobArrayRunsEveryIndexWithItsEnvironment) {
  StartExecWorkers(2, 4);
  const std::string out = cluster_->dir() + "/out";
  JobSpec spec =
      Exec({"sh", "-c", "echo {index} $QUARRY_TASK_INDEX $GREETING"}, "", out);
  (*spec.mutable_settings())["tasks"] = "50";
  (*spec.mutable_env())["GREETING"] = "hi";
  RunToDone(spec);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(ReadFile(absl::StrCat(out, "/", PartFileName(i))),
              absl::StrCat(i, " ", i, " hi\n"));
  }
}

TEST_F(ExecTest, AFailingCommandFailsTheJobWithItsExitStatusAndStderr) {
  StartExecWorkers(1, 2);
  JobSpec spec = Exec({"sh", "-c", "echo boom >&2; exit 3"}, "", "");
  spec.set_max_attempts(2);
  EXPECT_THAT(RunToFailure(spec), HasSubstr("exit status 3: boom"));

  spec = Exec({"sh", "-c", "kill -SEGV $$"}, "", "");
  spec.set_max_attempts(1);
  EXPECT_THAT(RunToFailure(spec), HasSubstr("killed by SIGSEGV"));

  spec = Exec({"/no/such/program"}, "", "");
  spec.set_max_attempts(1);
  EXPECT_THAT(RunToFailure(spec), HasSubstr("/no/such/program"));
}

TEST_F(ExecTest, ACommandOverItsLimitsFailsTheJobNamingTheLimit) {
  StartExecWorkers(1, 1);
  JobSpec spec = Exec({"sh", "-c", "while :; do :; done"}, "", "");
  (*spec.mutable_settings())["cpu_time"] = "1s";
  (*spec.mutable_settings())["memory"] = "256M";
  spec.set_max_attempts(1);
  EXPECT_THAT(RunToFailure(spec),
              HasSubstr("cpu_time limit of 1s exceeded (killed by SIGXCPU)"));

  // When stdout is the output, max_output bounds it too.
  spec = Exec({"yes"}, "", cluster_->dir() + "/out");
  (*spec.mutable_settings())["max_output"] = "1K";
  spec.set_max_attempts(1);
  EXPECT_THAT(RunToFailure(spec),
              HasSubstr("max_output limit of 1K exceeded (stdout; killed by "
                        "SIGTERM)"));
}

TEST_F(ExecTest, ARootWorkerRunsCommandsAsNobody) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  StartExecWorkers(1, 1);
  const std::string out = cluster_->dir() + "/out";
  JobSpec spec = Exec({"id", "-u"}, "", out);
  RunToDone(spec);
  const struct passwd* nobody = getpwnam("nobody");
  ASSERT_NE(nobody, nullptr);
  EXPECT_EQ(ReadFile(out + "/" + PartFileName(0)),
            absl::StrCat(nobody->pw_uid, "\n"));
}

TEST_F(ExecTest, AJobWaitsWithAReasonUntilAWorkerAllowsExec) {
  StartWorkers(1, 2);  // No --allow_exec.
  const std::string shared = cluster_->dir() + "/shared";
  fs::create_directories(shared);
  chmod(shared.c_str(), 0777);  // The command may run as nobody.
  const std::string marker = shared + "/ran";
  absl::StatusOr<std::string> id =
      cluster_->Submit(Exec({"touch", marker}, "", ""));
  ASSERT_TRUE(id.ok()) << id.status();
  // The job waits, PENDING, and says why (polling GetJob, bounded).
  absl::StatusOr<quarry::v1::Job> job = cluster_->WaitForWaitingReason(*id);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->waiting_reason(),
            "waiting: no ALIVE worker offers kind exec");
  EXPECT_EQ(job->state(), quarry::v1::JOB_STATE_PENDING);
  EXPECT_FALSE(fs::exists(marker));

  // A worker that allows exec runs it.
  ASSERT_TRUE(cluster_->StartWorker("worker-exec", 1, {"--allow_exec"}).ok());
  absl::StatusOr<quarry::v1::Job> done = cluster_->WaitForJob(*id);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), quarry::v1::JOB_STATE_DONE) << done->error();
  EXPECT_EQ(done->waiting_reason(), "");
  EXPECT_TRUE(fs::exists(marker));
}

TEST_F(ExecTest, CancelTimeoutAndAKilledWorkerLeaveNoProcessRunning) {
  StartExecWorkers(2, 2);
  // Each task starts two background sleeps and waits for them.
  const std::string duration = absl::StrCat(7000 + getpid() % 1000, ".25");
  auto spec = [&](int tasks) {
    JobSpec job = Exec(
        {"sh", "-c",
         absl::StrCat("sleep ", duration, " & sleep ", duration, " & wait")},
        "", "");
    (*job.mutable_settings())["tasks"] = absl::StrCat(tasks);
    (*job.mutable_settings())["kill_grace"] = "1s";
    job.set_max_attempts(1);
    return job;
  };

  // Cancel.
  absl::StatusOr<std::string> id = cluster_->Submit(spec(2));
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(WaitForSleeps(duration, 4)) << CountSleeps(duration);
  quarry::v1::CancelJobRequest cancel;
  cancel.set_job_id(*id);
  quarry::v1::CancelJobResponse cancelled;
  ASSERT_TRUE(cluster_->jobs()
                  .CancelJob(ContextWithDeadline().get(), cancel, &cancelled)
                  .ok());
  EXPECT_TRUE(WaitForSleeps(duration, 0)) << CountSleeps(duration);

  // A task timeout.
  JobSpec timed = spec(1);
  timed.mutable_task_timeout()->set_seconds(1);
  EXPECT_THAT(RunToFailure(timed), HasSubstr("timed out"));
  EXPECT_TRUE(WaitForSleeps(duration, 0)) << CountSleeps(duration);

  // kill -9 of the worker running the command.
  id = cluster_->Submit(spec(1));
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(WaitForSleeps(duration, 2)) << CountSleeps(duration);
  for (const char* worker : {"worker-1", "worker-2"}) {
    cluster_->worker(worker).Signal(SIGKILL);
    ASSERT_TRUE(cluster_->worker(worker).Wait(absl::Seconds(10)).ok());
  }
  EXPECT_TRUE(WaitForSleeps(duration, 0)) << CountSleeps(duration);
}

}  // namespace
}  // namespace quarry::testing

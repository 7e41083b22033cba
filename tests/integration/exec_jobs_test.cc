// The exec kind's job shapes end to end, with real leader and worker
// processes: job arrays with a reduce command, packets of files, workers
// that restrict the programs they run, and a worker killed mid-job.
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

TEST_F(ExecTest, AJobArrayOfAThousandTasksAndAReduceGiveTheResult) {
  StartExecWorkers(2, 4);
  const std::string out = cluster_->dir() + "/out";
  JobSpec spec = Exec({"sh", "-c", "echo $(({index} * 3))"}, "", out);
  (*spec.mutable_settings())["tasks"] = "1000";
  spec.set_reduce("cat {parts} | awk '{{s += $1}} END {{print s}}' > {output}");
  const quarry::v1::Job job = RunToDone(spec);
  EXPECT_EQ(job.task_count(), 1001);
  // 3 * (0 + 1 + ... + 999).
  EXPECT_EQ(ReadFile(out + "/result"), "1498500\n");
  EXPECT_EQ(ReadFile(out + "/" + PartFileName(999)), "2997\n");
  EXPECT_FALSE(fs::exists(out + "/" + std::string(kResultFileName)));
}

TEST_F(ExecTest, AReduceQuotesPathsWithSpacesAndQuotesAndItsStdoutIsTheResult) {
  StartExecWorkers(1, 2);
  const std::string out = cluster_->dir() + "/out dir 'it's' $(x)";
  JobSpec spec = Exec({"sh", "-c", "echo part {index}"}, "", out);
  (*spec.mutable_settings())["tasks"] = "3";
  spec.set_reduce("printf '%s\\n' {parts} | wc -l; cat {parts}");
  RunToDone(spec);
  EXPECT_EQ(ReadFile(out + "/result"), "3\npart 0\npart 1\npart 2\n");
}

TEST_F(ExecTest, AFailingReduceFailsTheJobWithItsStatus) {
  StartExecWorkers(1, 2);
  JobSpec spec = Exec({"true"}, "", cluster_->dir() + "/out");
  (*spec.mutable_settings())["tasks"] = "2";
  spec.set_reduce("echo cannot merge >&2; exit 4");
  spec.set_max_attempts(1);
  EXPECT_THAT(RunToFailure(spec), HasSubstr("exit status 4: cannot merge"));
}

TEST_F(ExecTest, APacketRunsTheCommandOncePerFileInOrder) {
  StartExecWorkers(1, 2);
  const std::string in = cluster_->dir() + "/in";
  const std::vector<std::string> files = WriteInputs(in, 12);
  const std::string out = cluster_->dir() + "/out";
  JobSpec spec = Exec({"sh", "-c", "echo {name}; cat {input}"}, in, out);
  spec.set_bytes_per_task(1 << 20);  // All twelve small files: one task.
  const quarry::v1::Job job = RunToDone(spec);
  EXPECT_EQ(job.task_count(), 1);
  std::string expected;
  for (const std::string& file : files) {
    absl::StrAppend(&expected, fs::path(file).filename().string(), "\n",
                    ReadFile(file));
  }
  EXPECT_EQ(ReadFile(out + "/" + PartFileName(0)), expected);
}

TEST_F(ExecTest, AWorkerRunsOnlyTheProgramsOfItsExecAllowList) {
  ASSERT_TRUE(cluster_
                  ->StartWorker("worker-1", 2,
                                {"--allow_exec", "--exec_allow=/usr/bin/s*"})
                  .ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok());
  const std::string out = cluster_->dir() + "/out";
  RunToDone(Exec({"seq", "3"}, "", out));  // /usr/bin/seq matches.
  EXPECT_EQ(ReadFile(out + "/" + PartFileName(0)), "1\n2\n3\n");

  JobSpec refused = Exec({"/bin/echo", "hi"}, "", "");
  refused.set_max_attempts(1);
  EXPECT_THAT(RunToFailure(refused),
              HasSubstr("program /bin/echo is not allowed on this worker "
                        "(--exec_allow)"));
}

TEST_F(ExecTest, AKilledWorkerLeavesNoProcessAndTheOutputOfACleanRun) {
  StartExecWorkers(2, 2);
  const std::string in = cluster_->dir() + "/in";
  const std::vector<std::string> files = WriteInputs(in, 24);
  const std::string out = cluster_->dir() + "/out";
  // A duration unique to this test marks its commands in the process table.
  const std::string nap = absl::StrCat("0.5", 1000 + getpid() % 1000);
  const std::string script =
      absl::StrCat("sleep ", nap, "; tr a-z A-Z < \"$1\" > \"$2\"");
  absl::StatusOr<std::string> id = cluster_->Submit(
      Exec({"sh", "-c", script, "sh", "{input}", "{output}"}, in, out));
  ASSERT_TRUE(id.ok()) << id.status();
  // Kill worker-2 while it runs commands (polling the process table).
  ASSERT_TRUE(WaitForSleeps(nap, 4)) << CountSleeps(nap);
  cluster_->worker("worker-2").Signal(SIGKILL);
  ASSERT_TRUE(cluster_->worker("worker-2").Wait(absl::Seconds(10)).ok());

  absl::StatusOr<quarry::v1::Job> job = cluster_->WaitForJob(*id);
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_EQ(job->state(), quarry::v1::JOB_STATE_DONE) << job->error();
  for (size_t i = 0; i < files.size(); ++i) {
    ASSERT_EQ(ReadFile(absl::StrCat(out, "/", PartFileName(i))),
              RunLocally({"sh", "-c", R"(tr a-z A-Z < "$1")", "sh", files[i]}))
        << files[i];
  }
  EXPECT_TRUE(WaitForSleeps(nap, 0)) << CountSleeps(nap);
}

}  // namespace
}  // namespace quarry::testing

// Operations with real processes: `quarry health` against a real leader and
// worker, and `quarry logs` fetching attempt logs from a live worker
// through the leader, saying clearly that the log is lost once that worker
// is killed, and serving it again once the worker is back on its
// --attempt_log_dir.
#include <signal.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/test_corpus.h"
#include "tests/testing/local_cluster.h"

namespace quarry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kExitNotServingOrFailed = 1;
constexpr int kExitUnreachable = 4;

struct CliRun {
  int code = -1;
  std::string output;  // stdout and stderr, merged.
};

// Runs the real `quarry` binary against the cluster's leader.
CliRun Quarry(const LocalCluster& cluster, std::vector<std::string> args) {
  args.insert(args.begin(),
              {CliBinary(), "--leader=" + cluster.leader_address()});
  CliRun run;
  absl::StatusOr<int> code = RunCommand(args, &run.output, absl::Seconds(30));
  EXPECT_TRUE(code.ok()) << code.status();
  run.code = code.ok() ? *code : -1;
  return run;
}

// The address the worker registered with.
std::string WorkerAddress(LocalCluster& cluster, const std::string& id) {
  absl::StatusOr<quarry::v1::GetClusterResponse> state = cluster.GetCluster();
  EXPECT_TRUE(state.ok()) << state.status();
  if (!state.ok()) return "";
  for (const auto& worker : state->workers()) {
    if (worker.id() == id) return worker.address();
  }
  ADD_FAILURE() << "worker " << id << " is not registered";
  return "";
}

// Waits (bounded) until the leader shows worker `id` DEAD.
void WaitForDead(LocalCluster& cluster, const std::string& id) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    absl::StatusOr<quarry::v1::GetClusterResponse> state = cluster.GetCluster();
    if (state.ok()) {
      for (const auto& worker : state->workers()) {
        if (worker.id() == id &&
            worker.status() == quarry::v1::WORKER_STATUS_DEAD) {
          return;
        }
      }
    }
    absl::SleepFor(absl::Milliseconds(10));  // GetCluster has no watch.
  }
  ADD_FAILURE() << "worker " << id << " not DEAD in time\n"
                << cluster.LogTails();
}

using OpsTest = ClusterFixture;

TEST_F(OpsTest, HealthChecksARealLeaderAndWorker) {
  ASSERT_TRUE(cluster_->StartWorker("w-health", 1).ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok());
  const std::string worker = WorkerAddress(*cluster_, "w-health");

  CliRun run = Quarry(*cluster_, {"health"});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_EQ(run.output, cluster_->leader_address() + " SERVING\n");
  run = Quarry(*cluster_, {"health", "--address", worker});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_EQ(run.output, worker + " SERVING\n");

  cluster_->worker("w-health").Signal(SIGKILL);
  ASSERT_TRUE(cluster_->worker("w-health").Wait(absl::Seconds(10)).ok());
  run = Quarry(*cluster_, {"health", "--address", worker, "--timeout", "3"});
  EXPECT_EQ(run.code, kExitUnreachable) << run.output;
  EXPECT_THAT(run.output, HasSubstr("quarry: UNAVAILABLE: " + worker + ": "));
  EXPECT_NE(run.code, kExitNotServingOrFailed);
}

TEST_F(OpsTest, LogsComeFromTheWorkerAndGoAndComeBackWithIt) {
  ASSERT_TRUE(cluster_->StartWorker("w-logs", 2).ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok());
  const std::vector<std::string> files =
      WriteCorpus(cluster_->dir() + "/in", 2);

  quarry::v1::JobSpec spec;
  spec.set_kind("wordcount");
  spec.add_inputs(cluster_->dir() + "/in");
  spec.set_output_dir(cluster_->dir() + "/out");
  const std::string job = RunToDone(spec).id();
  ASSERT_FALSE(job.empty());

  CliRun run = Quarry(*cluster_, {"logs", job, "1"});
  EXPECT_EQ(run.code, 0) << run.output;
  const std::string attempt = job + ".1.1";
  EXPECT_THAT(run.output, HasSubstr(" attempt " + attempt + " started: job " +
                                    job + " task 1 (kind wordcount)"));
  EXPECT_THAT(run.output, HasSubstr(" input 1/1: " + files[1] + " ("));
  EXPECT_THAT(run.output, HasSubstr(" commit granted by the leader\n"));
  EXPECT_THAT(
      run.output,
      HasSubstr(
          " committed " +
          std::to_string(ReadFile(cluster_->dir() + "/out/part-00001").size()) +
          " bytes to " + cluster_->dir() + "/out/part-00001\n"));
  EXPECT_THAT(run.output, HasSubstr(" attempt ended DONE\n"));

  // Every task, the reduce step included.
  run = Quarry(*cluster_, {"logs", job});
  EXPECT_EQ(run.code, 0) << run.output;
  for (int task = 0; task < 3; ++task) {
    EXPECT_THAT(run.output,
                HasSubstr(absl::StrCat("==> task ", task, ": attempt ", job,
                                       ".", task, ".1 on worker w-logs (")));
  }
  EXPECT_THAT(run.output, HasSubstr("(kind wordcount, reduce step)"));

  // The worker writes finished logs to its --attempt_log_dir within a
  // second; wait for that before killing it.
  const std::string log_dir = cluster_->dir() + "/attempt-logs-w-logs";
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline &&
         !absl::StrContains(ReadFile(log_dir + "/segment-000001.log"),
                            job + ".2.1")) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  cluster_->worker("w-logs").Signal(SIGKILL);
  ASSERT_TRUE(cluster_->worker("w-logs").Wait(absl::Seconds(10)).ok());
  WaitForDead(*cluster_, "w-logs");
  run = Quarry(*cluster_, {"logs", job, "1"});
  EXPECT_EQ(run.code, kExitUnreachable) << run.output;
  EXPECT_THAT(run.output, HasSubstr("worker w-logs that ran attempt " +
                                    attempt + " is gone"));
  EXPECT_THAT(run.output, HasSubstr("its log is lost"));
  EXPECT_THAT(run.output, Not(HasSubstr("attempt ended DONE")));

  // Restarted with the same id and directory, the worker serves it again.
  ASSERT_TRUE(cluster_->StartWorker("w-logs", 2).ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok());
  run = Quarry(*cluster_, {"logs", job, "1"});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(" attempt ended DONE\n"));
}

TEST_F(OpsTest, LogsOfAnEarlierFailedAttempt) {
  ASSERT_TRUE(cluster_->StartWorker("w-a", 1).ok());
  ASSERT_TRUE(cluster_->StartWorker("w-b", 1).ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(2).ok());
  quarry::v1::JobSpec spec;
  spec.set_kind("flaky");
  spec.add_inputs(WriteCorpus(cluster_->dir() + "/in", 1)[0]);
  spec.set_output_dir(cluster_->dir() + "/out");
  (*spec.mutable_settings())["fail_attempts"] = "1";
  const std::string job = RunToDone(spec).id();
  ASSERT_FALSE(job.empty());

  // The task's last attempt succeeded; its first one failed, on whichever
  // worker: the leader asks them all.
  CliRun run = Quarry(*cluster_, {"logs", job, "0"});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(" attempt " + job + ".0.2 started"));
  EXPECT_THAT(run.output, HasSubstr(" attempt ended DONE\n"));
  run = Quarry(*cluster_, {"logs", job, "--attempt", job + ".0.1"});
  EXPECT_EQ(run.code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr(" attempt " + job + ".0.1 started"));
  EXPECT_THAT(run.output, HasSubstr(" attempt ended FAILED: "));
  run = Quarry(*cluster_, {"logs", job, "--attempt", job + ".0.3"});
  EXPECT_EQ(run.code, 3) << run.output;
  EXPECT_THAT(run.output, HasSubstr(job + ".0.3 never ran"));
}

}  // namespace
}  // namespace quarry::testing

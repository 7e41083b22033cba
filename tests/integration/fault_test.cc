// Fault tolerance with real processes: workers killed with SIGKILL while a
// job runs; the output must still be exactly right.
#include <signal.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/job_kinds.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_corpus.h"
#include "tests/testing/local_cluster.h"

namespace quarry::testing {
namespace {

using quarry::v1::JobSpec;

quarry::v1::GetJobResponse GetJobWithTasks(LocalCluster& cluster,
                                           const std::string& id) {
  quarry::v1::GetJobRequest request;
  request.set_job_id(id);
  request.set_include_tasks(true);
  quarry::v1::GetJobResponse response;
  grpc::Status status =
      cluster.jobs().GetJob(ContextWithDeadline().get(), request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return response;
}

// No attempt id sits in two slots, and a DEAD worker holds no slot.
void ExpectConsistentCluster(const quarry::v1::GetClusterResponse& cluster) {
  std::set<std::string> seen;
  for (const auto& worker : cluster.workers()) {
    for (const auto& slot : worker.slot_states()) {
      if (slot.attempt_id().empty()) continue;
      EXPECT_NE(worker.status(), quarry::v1::WORKER_STATUS_DEAD)
          << worker.id() << " is DEAD but holds " << slot.attempt_id();
      EXPECT_TRUE(seen.insert(slot.attempt_id()).second)
          << slot.attempt_id() << " is in two slots";
    }
  }
}

TEST(FaultTest, KilledWorkerTasksAreRedispatchedAndOutputIsExact) {
  auto started = LocalCluster::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  LocalCluster& cluster = **started;
  ASSERT_TRUE(cluster.StartWorker("worker-1", 8).ok());
  ASSERT_TRUE(cluster.StartWorker("worker-2", 4).ok());
  ASSERT_TRUE(cluster.WaitForAliveWorkers(2).ok());

  const std::vector<std::string> files = WriteCorpus(cluster.dir() + "/in", 8);
  JobSpec spec;
  spec.set_kind("wordcount");
  spec.add_inputs(cluster.dir() + "/in");
  spec.set_output_dir(cluster.dir() + "/out");
  (*spec.mutable_settings())["delay_ms"] = "1500";
  absl::StatusOr<std::string> id = cluster.Submit(spec);
  ASSERT_TRUE(id.ok()) << id.status();

  // Wait (bounded) until worker-2 runs attempts, then kill it.
  std::map<int, std::string> on_victim;  // task index -> attempt id
  const absl::Time wait_deadline = absl::Now() + absl::Seconds(20);
  while (on_victim.empty() && absl::Now() < wait_deadline) {
    const quarry::v1::GetJobResponse now = GetJobWithTasks(cluster, *id);
    for (const auto& task : now.tasks()) {
      if (task.worker_id() == "worker-2" &&
          task.status() == quarry::v1::EXECUTION_STATUS_RUNNING) {
        on_victim[task.index()] = task.attempt_id();
      }
    }
  }
  ASSERT_FALSE(on_victim.empty()) << cluster.LogTails();
  const absl::Time killed_at = absl::Now();
  cluster.worker("worker-2").Signal(SIGKILL);

  // Measure kill -> every lost task re-dispatched (polling the API; the
  // loop is bounded and polls without sleeping to time it finely).
  absl::Duration redispatched = absl::InfiniteDuration();
  while (absl::Now() - killed_at < absl::Seconds(10)) {
    bool all_moved = true;
    const quarry::v1::GetJobResponse now = GetJobWithTasks(cluster, *id);
    for (const auto& task : now.tasks()) {
      auto lost = on_victim.find(task.index());
      if (lost == on_victim.end()) continue;
      all_moved &= task.attempt_id() != lost->second &&
                   task.worker_id() == "worker-1";
    }
    if (all_moved) {
      redispatched = absl::Now() - killed_at;
      break;
    }
  }
  LOG(INFO) << "kill -9 of worker-2 -> its " << on_victim.size()
            << " tasks re-dispatched to worker-1 in " << redispatched;
  EXPECT_LT(redispatched, absl::Seconds(5));  // Sanity only; see the log.
  absl::StatusOr<quarry::v1::GetClusterResponse> state = cluster.GetCluster();
  ASSERT_TRUE(state.ok());
  ExpectConsistentCluster(*state);
  for (const auto& worker : state->workers()) {
    if (worker.id() == "worker-2") {
      EXPECT_EQ(worker.status(), quarry::v1::WORKER_STATUS_DEAD);
    }
  }

  absl::StatusOr<quarry::v1::Job> job = cluster.WaitForJob(*id);
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_EQ(job->state(), quarry::v1::JOB_STATE_DONE) << job->error();
  EXPECT_EQ(ReadFile(cluster.dir() + "/out/result.tsv"), ReferenceWordCount(files));
  for (size_t i = 0; i < files.size(); ++i) {
    EXPECT_EQ(ReadFile(cluster.dir() + "/out/" +
                       PartFileName(static_cast<int32_t>(i))),
              ReferencePart(files[i]))
        << files[i];
  }
  EXPECT_THAT(ListDir(cluster.dir() + "/out"),
              ::testing::ElementsAreArray(ExpectedParts(8, {"result.tsv"})));
  std::set<std::string> attempts;
  const quarry::v1::GetJobResponse final_state = GetJobWithTasks(cluster, *id);
  for (const auto& task : final_state.tasks()) {
    EXPECT_TRUE(attempts.insert(task.attempt_id()).second);
  }
  EXPECT_GE(job->attempts_started(), 9 + static_cast<int>(on_victim.size()));
}

}  // namespace
}  // namespace quarry::testing

// Durable state with real processes and a real Redis: the leader killed
// with SIGKILL mid-job and restarted, Redis restarted mid-job, Redis down
// when the leader starts. Every job must still finish with exactly the
// right output, each output committed once.
#include <map>
#include <random>
#include <string>
#include <vector>

#include <glog/logging.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_corpus.h"
#include "tests/testing/local_cluster.h"
#include "tests/testing/test_servers.h"

namespace quarry::testing {
namespace {

using quarry::v1::JobSpec;

class DurableStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto redis = TestServer::Start(TestServer::Kind::kRedis);
    ASSERT_TRUE(redis.ok()) << redis.status();
    redis_ = *std::move(redis);
  }

  void StartCluster(int workers = 2) {
    auto cluster = LocalCluster::Start({"--store=" + redis_->url(),
                                        "--cluster_name=durable"});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    for (int i = 1; i <= workers; ++i) {
      ASSERT_TRUE(cluster_->StartWorker(absl::StrCat("w", i), 4).ok());
    }
    ASSERT_TRUE(cluster_->WaitForAliveWorkers(workers).ok());
  }

  JobSpec Wordcount(const std::vector<std::string>& inputs, int delay_ms) {
    JobSpec spec;
    spec.set_kind("wordcount");
    for (const std::string& input : inputs) spec.add_inputs(input);
    spec.set_output_dir(cluster_->dir() + "/out");
    (*spec.mutable_settings())["delay_ms"] = absl::StrCat(delay_ms);
    return spec;
  }

  // Follows the job until at least `done` tasks are DONE.
  void WaitForDone(const std::string& job_id, int done) {
    quarry::v1::WatchJobRequest request;
    request.set_job_id(job_id);
    auto context = ContextWithDeadline(absl::Seconds(60));
    auto stream = cluster_->jobs().WatchJob(context.get(), request);
    quarry::v1::JobEvent event;
    while (stream->Read(&event)) {
      if (event.job().task_counts().done() >= done) {
        context->TryCancel();
        break;
      }
    }
    stream->Finish();
    ASSERT_GE(event.job().task_counts().done(), done) << cluster_->LogTails();
  }

  // Follows the job to its end, through leader restarts and store
  // outages (calls answer UNAVAILABLE meanwhile).
  quarry::v1::Job WaitForEnd(const std::string& job_id,
                             absl::Duration timeout = absl::Seconds(90)) {
    const absl::Time deadline = absl::Now() + timeout;
    absl::Status last;
    while (absl::Now() < deadline) {
      absl::StatusOr<quarry::v1::Job> job =
          cluster_->WaitForJob(job_id, deadline - absl::Now());
      if (job.ok()) return *job;
      last = job.status();
      absl::SleepFor(absl::Milliseconds(50));  // The leader is not back yet.
    }
    ADD_FAILURE() << "job " << job_id << " did not end: " << last << "\n"
                  << cluster_->LogTails();
    return {};
  }

  // The output is exactly the reference: one part per input plus
  // result.tsv, nothing else.
  void ExpectExactOutput(const std::vector<std::string>& inputs) {
    const std::string out = cluster_->dir() + "/out";
    EXPECT_EQ(ListDir(out), ExpectedParts(inputs.size(), {"result.tsv"}));
    EXPECT_EQ(ReadFile(out + "/result.tsv"), ReferenceWordCount(inputs));
    for (size_t i = 0; i < inputs.size(); ++i) {
      char name[32];
      std::snprintf(name, sizeof(name), "/part-%05zu", i);
      ASSERT_EQ(ReadFile(out + name), ReferencePart(inputs[i])) << name;
    }
  }

  // How often each output path was committed, from the workers' logs
  // (complete once the cluster is shut down).
  std::map<std::string, int> Commits() {
    std::map<std::string, int> commits;
    for (const std::string& name : ListDir(cluster_->dir())) {
      if (!absl::StartsWith(name, "worker-")) continue;
      for (absl::string_view line : absl::StrSplit(
               ReadFile(cluster_->dir() + "/" + name), '\n')) {
        // "attempt <id> committed <path> (<n> bytes)"
        const size_t at = line.find(" committed ");
        if (at == absl::string_view::npos) continue;
        absl::string_view rest = line.substr(at + 11);
        ++commits[std::string(rest.substr(0, rest.find(' ')))];
      }
    }
    return commits;
  }

  void ExpectEachOutputCommittedOnce(size_t outputs) {
    ASSERT_TRUE(cluster_->Shutdown().ok());
    const std::map<std::string, int> commits = Commits();
    EXPECT_EQ(commits.size(), outputs);
    for (const auto& [path, count] : commits) {
      EXPECT_EQ(count, 1) << path << " was committed " << count << " times";
    }
  }

  std::unique_ptr<TestServer> redis_;
  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(DurableStateTest, LeaderKilledMidJobRestartsAndTheJobFinishesOnce) {
  StartCluster();
  const std::vector<std::string> inputs =
      WriteCorpus(cluster_->dir() + "/in", 500);
  auto id = cluster_->Submit(Wordcount(inputs, 15));
  ASSERT_TRUE(id.ok()) << id.status();
  const int seed = static_cast<int>(absl::ToUnixMicros(absl::Now()) % 100000);
  std::mt19937 rng(seed);
  const int kill_after = std::uniform_int_distribution<int>(20, 450)(rng);
  LOG(INFO) << "seed " << seed << ": kill -9 the leader after " << kill_after
            << " tasks are done";
  WaitForDone(*id, kill_after);

  cluster_->KillLeader();
  ASSERT_TRUE(cluster_->RestartLeader().ok());
  const quarry::v1::Job job = WaitForEnd(*id);
  ASSERT_EQ(job.state(), quarry::v1::JOB_STATE_DONE)
      << job.error() << cluster_->LogTails();
  ExpectExactOutput(inputs);
  // Attempts running at the kill were adopted; only those whose start had
  // not reached a worker (at most one batch per slot) may run again.
  EXPECT_LE(job.attempts_started(), 501 + 8) << "seed " << seed;
  LOG(INFO) << "attempts started: " << job.attempts_started()
            << " for 501 tasks";
  ExpectEachOutputCommittedOnce(501);
}

TEST_F(DurableStateTest, RedisRestartMidJobIsRiddenOut) {
  StartCluster();
  const std::vector<std::string> inputs =
      WriteCorpus(cluster_->dir() + "/in", 200);
  auto id = cluster_->Submit(Wordcount(inputs, 15));
  ASSERT_TRUE(id.ok()) << id.status();
  WaitForDone(*id, 40);

  ASSERT_TRUE(redis_->Stop().ok());
  // While Redis is down the API says so, and no call crashes the leader.
  quarry::v1::GetJobRequest request;
  request.set_job_id(*id);
  quarry::v1::GetJobResponse response;
  grpc::Status status = cluster_->jobs().GetJob(ContextWithDeadline().get(),
                                                request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(status.error_message(), ::testing::HasSubstr("Redis"));
  JobSpec another = Wordcount(inputs, 0);
  another.set_output_dir(cluster_->dir() + "/another");
  auto refused = cluster_->Submit(another);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable)
      << refused.status();

  ASSERT_TRUE(redis_->Restart().ok());
  const quarry::v1::Job job = WaitForEnd(*id);
  ASSERT_EQ(job.state(), quarry::v1::JOB_STATE_DONE) << job.error();
  ExpectExactOutput(inputs);
  ExpectEachOutputCommittedOnce(201);
}

TEST_F(DurableStateTest, LeaderStartingWhileRedisIsDownWaitsForIt) {
  ASSERT_TRUE(redis_->Stop().ok());
  auto cluster = LocalCluster::Start({"--store=" + redis_->url()});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  cluster_ = *std::move(cluster);
  // It listens, and answers UNAVAILABLE with the reason.
  auto state = cluster_->GetCluster();
  EXPECT_EQ(state.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(state.status().message(),
              ::testing::HasSubstr("cannot load state from the store"));
  ASSERT_TRUE(cluster_->StartWorker("w1", 2).ok());

  ASSERT_TRUE(redis_->Restart().ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok());
  const std::vector<std::string> inputs =
      WriteCorpus(cluster_->dir() + "/in", 5);
  auto id = cluster_->Submit(Wordcount(inputs, 0));
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(WaitForEnd(*id).state(), quarry::v1::JOB_STATE_DONE);
  ExpectExactOutput(inputs);
}

}  // namespace
}  // namespace quarry::testing

// Plugin kinds end to end: real leader and worker processes, the worker
// loading the example byte-histogram plugin (and refusing a plugin of the
// wrong ABI version) from --plugin_dir.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/job_kinds.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/testing/local_cluster.h"
#include "tests/testing/rpc.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace quarry::testing {
namespace {

namespace fs = std::filesystem;
using quarry::v1::JobSpec;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKind[] = "byte-histogram";

// What byte-histogram writes for these counts: "BYTE\tCOUNT\n" for every
// value 0..255, or only for those counted at least `min_count` times.
std::string Histogram(const std::map<int, int>& counts, int min_count = 0) {
  std::string out;
  for (int value = 0; value < 256; ++value) {
    auto it = counts.find(value);
    const int count = it == counts.end() ? 0 : it->second;
    if (count >= min_count) absl::StrAppend(&out, value, "\t", count, "\n");
  }
  return out;
}

class PluginTest : public ClusterFixture {
 protected:
  // A plugin directory only the operator can write, with the example
  // plugin and one of the wrong ABI version.
  std::string PluginDir() {
    const std::string dir = cluster_->dir() + "/plugins";
    if (fs::exists(dir)) return dir;
    fs::create_directory(dir);
    chmod(dir.c_str(), 0755);
    for (const std::string& plugin : {std::string(QUARRY_BYTE_HISTOGRAM_PLUGIN),
                                      std::string(QUARRY_BAD_ABI_PLUGIN)}) {
      const std::string to = dir + "/" + fs::path(plugin).filename().string();
      fs::copy_file(plugin, to);
      chmod(to.c_str(), 0755);
    }
    return dir;
  }

  void StartPluginWorker(const std::string& id) {
    ASSERT_TRUE(
        cluster_->StartWorker(id, 2, {"--plugin_dir=" + PluginDir()}).ok());
  }

  JobSpec HistogramJob(const std::string& output) {
    JobSpec spec;
    spec.set_kind(kKind);
    spec.add_inputs(cluster_->dir() + "/in");
    spec.set_output_dir(cluster_->dir() + "/" + output);
    return spec;
  }

  // The error of submitting `spec`, which must be refused.
  absl::Status Refusal(const JobSpec& spec) {
    absl::StatusOr<std::string> id = cluster_->Submit(spec);
    EXPECT_FALSE(id.ok()) << "accepted as " << *id;
    return id.status();
  }

  // Polls GetCluster (bounded) until `worker_id` has `status`.
  bool WaitForWorkerStatus(const std::string& worker_id,
                           quarry::v1::WorkerStatus status) {
    const absl::Time deadline = absl::Now() + absl::Seconds(15);
    while (absl::Now() < deadline) {
      absl::StatusOr<quarry::v1::GetClusterResponse> state =
          cluster_->GetCluster();
      if (state.ok()) {
        for (const quarry::v1::Worker& worker : state->workers()) {
          if (worker.id() == worker_id && worker.status() == status) {
            return true;
          }
        }
      }
      absl::SleepFor(absl::Milliseconds(20));  // Poll interval.
    }
    return false;
  }
};

TEST_F(PluginTest, WorkerServesPluginKindsAndRefusesABadPlugin) {
  StartPluginWorker("worker-1");
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok());

  // The worker started, refused bad_abi.so with a line naming it, and
  // advertises the plugin's kind beside the built-in ones.
  EXPECT_THAT(ReadFile(cluster_->dir() + "/worker-worker-1.log"),
              HasSubstr("bad_abi.so refused: ABI version 99"));
  absl::StatusOr<quarry::v1::GetClusterResponse> state = cluster_->GetCluster();
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_EQ(state->workers_size(), 1);
  const quarry::v1::Worker& worker = state->workers(0);
  EXPECT_THAT(worker.kinds(), Contains(kKind));
  EXPECT_THAT(worker.kinds(), Contains("wordcount"));
  EXPECT_THAT(worker.kinds(), Not(Contains("broken")));
  ASSERT_EQ(worker.plugin_kinds_size(), 1);
  EXPECT_EQ(worker.plugin_kinds(0).name(), kKind);
  EXPECT_TRUE(worker.plugin_kinds(0).has_reduce());

  // `quarry cluster` lists it too.
  std::string output;
  absl::StatusOr<int> code = RunCommand(
      {CliBinary(), "--leader=" + cluster_->leader_address(), "cluster"},
      &output);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0) << output;
  EXPECT_THAT(output, HasSubstr(kKind));
}

TEST_F(PluginTest, ByteHistogramJobWritesExactPartsAndResult) {
  StartPluginWorker("worker-1");
  StartPluginWorker("worker-2");
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(2).ok());
  const std::string in = cluster_->dir() + "/in";
  WriteFile(in + "/a.txt", "aab");
  WriteFile(in + "/b.bin", std::string("\0\xff\xff", 3));
  WriteFile(in + "/c.txt", "");

  const quarry::v1::Job job = RunToDone(HistogramJob("out"));
  EXPECT_EQ(job.task_count(), 4);  // Three maps and the reduce.
  const std::string out = cluster_->dir() + "/out/";
  EXPECT_EQ(ReadFile(out + PartFileName(0)), Histogram({{'a', 2}, {'b', 1}}));
  EXPECT_EQ(ReadFile(out + PartFileName(1)), Histogram({{0, 1}, {255, 2}}));
  EXPECT_EQ(ReadFile(out + PartFileName(2)), Histogram({}));
  const std::map<int, int> total = {{0, 1}, {'a', 2}, {'b', 1}, {255, 2}};
  EXPECT_EQ(ReadFile(out + std::string(kResultFileName)), Histogram(total));

  // A setting of the plugin's, validated by the leader, used by the plugin.
  JobSpec filtered = HistogramJob("filtered");
  (*filtered.mutable_settings())["min_count"] = "2";
  RunToDone(filtered);
  EXPECT_EQ(ReadFile(cluster_->dir() + "/filtered/result.tsv"),
            "97\t2\n255\t2\n");

  // Bad settings are refused at submission, naming the setting.
  (*filtered.mutable_settings())["min_count"] = "-1";
  absl::Status refused = Refusal(filtered);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()), HasSubstr("settings.min_count"));
  JobSpec unknown_setting = HistogramJob("bogus");
  (*unknown_setting.mutable_settings())["bogus"] = "1";
  refused = Refusal(unknown_setting);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("settings.bogus: unknown setting for kind "
                        "byte-histogram (accepted: min_count, delay_ms)"));
}

TEST_F(PluginTest, UnknownKindIsRefusedListingTheKnownOnes) {
  StartPluginWorker("worker-1");
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok());
  JobSpec spec = HistogramJob("out");
  spec.set_kind("nosuch");
  absl::Status refused = Refusal(spec);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("kind \"nosuch\" is unknown"));
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("byte-histogram, exec, flaky, grep, linecount, noop, "
                        "sha256, sleep, wordcount"));
}

TEST_F(PluginTest, PluginKindIsKnownOnlyWhileARegisteredWorkerOffersIt) {
  StartWorkers(1, 2);  // No plugins.
  WriteFile(cluster_->dir() + "/in/a.txt", "abc");
  absl::Status refused = Refusal(HistogramJob("out"));
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.message()),
              HasSubstr("kind \"byte-histogram\" is unknown"));
  EXPECT_THAT(std::string(refused.message()), HasSubstr("(one of: exec,"));

  // A worker offering it registers, then dies: still registered (DEAD),
  // so the kind is known; the job waits with a reason.
  StartPluginWorker("worker-plugins");
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(2).ok());
  cluster_->worker("worker-plugins").Signal(SIGKILL);
  ASSERT_TRUE(cluster_->worker("worker-plugins").Wait(absl::Seconds(10)).ok());
  ASSERT_TRUE(
      WaitForWorkerStatus("worker-plugins", quarry::v1::WORKER_STATUS_DEAD));
  absl::StatusOr<std::string> id = cluster_->Submit(HistogramJob("out"));
  ASSERT_TRUE(id.ok()) << id.status();
  absl::StatusOr<quarry::v1::Job> job = cluster_->WaitForWaitingReason(*id);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->waiting_reason(),
            "waiting: no ALIVE worker offers kind byte-histogram");
  EXPECT_EQ(job->state(), quarry::v1::JOB_STATE_PENDING);

  // A worker offering it comes: the job runs.
  StartPluginWorker("worker-plugins-2");
  absl::StatusOr<quarry::v1::Job> done = cluster_->WaitForJob(*id);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), quarry::v1::JOB_STATE_DONE) << done->error();
  EXPECT_EQ(ReadFile(cluster_->dir() + "/out/result.tsv"),
            Histogram({{'a', 1}, {'b', 1}, {'c', 1}}));
}

}  // namespace
}  // namespace quarry::testing

// The /metrics endpoints of a real leader and two real workers, scraped
// over HTTP while a job runs and after it ends.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/local_cluster.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/test_servers.h"

namespace quarry::testing {
namespace {

constexpr int kTasks = 16;
constexpr int kSleepMs = 300;
constexpr int kSlotsPerWorker = 2;
const std::vector<std::string> kWorkers = {"worker-1", "worker-2"};

// The value of sample `key` (e.g. `quarry_leader_slots`); -1 when absent,
// so a missing sample fails every comparison with a real count.
double Value(const MetricSamples& samples, const std::string& key) {
  return samples.Get(key).value_or(-1);
}

std::string Rpc(const std::string& what, const std::string& method) {
  return absl::StrCat("quarry_rpc_duration_seconds_", what,
                      "{method=\"/quarry.v1.", method, "\"}");
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string leader_port_file =
        scratch_.path() + "/leader.metrics.port";
    auto cluster =
        LocalCluster::Start({"--metrics_listen=127.0.0.1:0",
                             "--metrics_port_file=" + leader_port_file});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    absl::StatusOr<int> port = WaitForPortFile(
        leader_port_file, cluster_->leader(), absl::Seconds(20));
    ASSERT_TRUE(port.ok()) << port.status();
    leader_port_ = *port;

    // worker-1 is configured by flags, worker-2 by the environment.
    const std::string port_file_1 = scratch_.path() + "/worker-1.metrics.port";
    const std::string port_file_2 = scratch_.path() + "/worker-2.metrics.port";
    ASSERT_TRUE(cluster_
                    ->StartWorker("worker-1", kSlotsPerWorker,
                                  {"--metrics_listen=127.0.0.1:0",
                                   "--metrics_port_file=" + port_file_1})
                    .ok());
    ASSERT_TRUE(cluster_
                    ->StartWorker("worker-2", kSlotsPerWorker, {},
                                  {"QUARRY_METRICS_LISTEN=127.0.0.1:0",
                                   "QUARRY_METRICS_PORT_FILE=" + port_file_2})
                    .ok());
    for (const auto& [id, file] : {std::pair{kWorkers[0], port_file_1},
                                   std::pair{kWorkers[1], port_file_2}}) {
      port = WaitForPortFile(file, cluster_->worker(id), absl::Seconds(20));
      ASSERT_TRUE(port.ok()) << port.status() << cluster_->LogTails();
      worker_ports_.push_back(*port);
    }
    ASSERT_TRUE(cluster_->WaitForAliveWorkers(2).ok());
  }

  void TearDown() override {
    if (cluster_ != nullptr) {
      absl::Status stopped = cluster_->Shutdown();
      EXPECT_TRUE(stopped.ok()) << stopped;
    }
  }

  MetricSamples Scrape(int port) {
    absl::StatusOr<MetricSamples> samples = ScrapeMetrics(port);
    EXPECT_TRUE(samples.ok()) << samples.status();
    return samples.ok() ? *samples : MetricSamples();
  }

  TempDir scratch_;
  std::unique_ptr<LocalCluster> cluster_;
  int leader_port_ = 0;
  std::vector<int> worker_ports_;
};

TEST_F(MetricsTest, IdleClusterShowsWorkersAndSlots) {
  // Registration reaches the leader before its metrics are scraped, but the
  // workers' first heartbeat may still be on its way: wait for both ages.
  absl::StatusOr<MetricSamples> leader =
      ScrapeUntil(leader_port_, [](const MetricSamples& samples) {
        return samples.Count("quarry_leader_worker_heartbeat_age_seconds") == 2;
      });
  ASSERT_TRUE(leader.ok()) << leader.status();
  EXPECT_EQ(Value(*leader, "quarry_leader_ready"), 1);
  EXPECT_EQ(Value(*leader, "quarry_leader_store_backlog"), 0);
  EXPECT_EQ(Value(*leader, "quarry_leader_workers{status=\"alive\"}"), 2);
  EXPECT_EQ(Value(*leader, "quarry_leader_workers{status=\"dead\"}"), 0);
  EXPECT_EQ(Value(*leader, "quarry_leader_slots"), 2 * kSlotsPerWorker);
  EXPECT_EQ(Value(*leader, "quarry_leader_slots_busy"), 0);
  EXPECT_EQ(Value(*leader, "quarry_leader_worker_queued"), 0);
  EXPECT_EQ(Value(*leader, "quarry_leader_queue_depth"), 0);
  EXPECT_EQ(leader->Sum("quarry_leader_tasks"), 0);
  for (const std::string& id : kWorkers) {
    const double age = Value(
        *leader,
        absl::StrCat("quarry_leader_worker_heartbeat_age_seconds{worker=\"", id,
                     "\"}"));
    EXPECT_GE(age, 0) << id;
    EXPECT_LT(age, 5) << id;  // Heartbeats come every 500 ms.
  }
  EXPECT_GE(Value(*leader, Rpc("count", "ClusterService/RegisterWorker")), 2);
  for (int port : worker_ports_) {
    const MetricSamples worker = Scrape(port);
    EXPECT_EQ(Value(worker, "quarry_worker_slots"), kSlotsPerWorker);
    EXPECT_EQ(Value(worker, "quarry_worker_slots_busy"), 0);
    EXPECT_EQ(Value(worker, "quarry_worker_queued"), 0);
    EXPECT_EQ(Value(worker, "quarry_worker_attempts_started_total"), 0);
    EXPECT_GE(Value(worker, "quarry_worker_registrations_total"), 1);
  }
}

TEST_F(MetricsTest, ValuesFollowARunningJobAndAddUp) {
  quarry::v1::JobSpec spec;
  spec.set_kind("sleep");
  (*spec.mutable_settings())["ms"] = absl::StrCat(kSleepMs);
  (*spec.mutable_settings())["tasks"] = absl::StrCat(kTasks);
  absl::StatusOr<std::string> id = cluster_->Submit(spec);
  ASSERT_TRUE(id.ok()) << id.status();

  // While the job runs (4 waves of 300 ms on 4 slots), every leader scrape
  // must account for each task exactly once, and the counts only grow. Wait
  // until the leader has shown the job midway and each worker busy.
  bool leader_midway = false;
  std::vector<bool> worker_busy(kWorkers.size(), false);
  double last_done = 0;
  double last_started = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline &&
         !(leader_midway && worker_busy[0] && worker_busy[1])) {
    const MetricSamples leader = Scrape(leader_port_);
    const double active =
        Value(leader, "quarry_leader_jobs{state=\"pending\"}") +
        Value(leader, "quarry_leader_jobs{state=\"running\"}");
    const double done = Value(leader, "quarry_leader_tasks{state=\"done\"}");
    const double started =
        Value(leader, "quarry_leader_attempts_started_total");
    ASSERT_GE(started, last_started);
    last_started = started;
    if (active == 1) {
      ASSERT_EQ(leader.Sum("quarry_leader_tasks"), kTasks);
      ASSERT_GE(done, last_done);
      last_done = done;
      if (done >= 1 && done < kTasks &&
          Value(leader, "quarry_leader_slots_busy") > 0 && started > done) {
        leader_midway = true;
      }
    }
    for (size_t i = 0; i < kWorkers.size(); ++i) {
      const MetricSamples worker = Scrape(worker_ports_[i]);
      worker_busy[i] =
          worker_busy[i] ||
          (Value(worker, "quarry_worker_slots_busy") >= 1 &&
           Value(worker, "quarry_worker_attempts_started_total") >= 1);
    }
  }
  EXPECT_TRUE(leader_midway) << "never saw the job midway\n"
                             << cluster_->LogTails();
  EXPECT_TRUE(worker_busy[0] && worker_busy[1])
      << worker_busy[0] << worker_busy[1] << "\n"
      << cluster_->LogTails();

  absl::StatusOr<quarry::v1::Job> job = cluster_->WaitForJob(*id);
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_EQ(job->state(), quarry::v1::JOB_STATE_DONE) << job->error();

  // A read of an unknown job is an RPC error, not a store error.
  quarry::v1::GetJobRequest unknown;
  unknown.set_job_id("job-999999");
  quarry::v1::GetJobResponse ignored;
  EXPECT_EQ(cluster_->jobs()
                .GetJob(ContextWithDeadline().get(), unknown, &ignored)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);

  // The end: the job has left the gauges and is in the counters. The leader
  // frees a slot when it hears the attempt ended: wait for the last one.
  absl::StatusOr<MetricSamples> leader =
      ScrapeUntil(leader_port_, [](const MetricSamples& samples) {
        return samples.Get("quarry_leader_slots_busy") == 0.0;
      });
  ASSERT_TRUE(leader.ok()) << leader.status();
  EXPECT_EQ(leader->Sum("quarry_leader_jobs"), 0);
  EXPECT_EQ(leader->Sum("quarry_leader_tasks"), 0);
  EXPECT_EQ(Value(*leader, "quarry_leader_queue_depth"), 0);
  EXPECT_EQ(Value(*leader, "quarry_leader_jobs_submitted_total"), 1);
  EXPECT_EQ(Value(*leader, "quarry_leader_jobs_finished_total{state=\"done\"}"),
            1);
  EXPECT_EQ(
      Value(*leader, "quarry_leader_jobs_finished_total{state=\"failed\"}"), 0);
  EXPECT_EQ(Value(*leader, "quarry_leader_attempts_started_total"), kTasks);
  EXPECT_EQ(Value(*leader, "quarry_leader_attempts_failed_total"), 0);
  EXPECT_EQ(Value(*leader, "quarry_leader_attempts_retried_total"), 0);
  EXPECT_GT(Value(*leader, "quarry_leader_tick_duration_seconds_count"), 0);
  EXPECT_EQ(Value(*leader, Rpc("count", "JobService/SubmitJob")), 1);
  EXPECT_GE(Value(*leader, Rpc("count", "ClusterService/ReportWorkerState")),
            1);
  EXPECT_GT(Value(*leader, Rpc("sum", "ClusterService/ReportWorkerState")), 0);
  EXPECT_EQ(Value(*leader,
                  "quarry_rpc_errors_total{code=\"NOT_FOUND\","
                  "method=\"/quarry.v1.JobService/GetJob\"}"),
            1);
  EXPECT_EQ(Value(*leader, "quarry_leader_store_errors_total{op=\"read\"}"), 0);
  EXPECT_EQ(Value(*leader, "quarry_leader_store_errors_total{op=\"write\"}"),
            0);

  double started = 0, done = 0, timed = 0, seconds = 0;
  for (int port : worker_ports_) {
    const MetricSamples worker = Scrape(port);
    EXPECT_EQ(Value(worker, "quarry_worker_slots_busy"), 0);
    EXPECT_EQ(
        Value(worker,
              "quarry_worker_attempts_finished_total{outcome=\"failed\"}"),
        0);
    EXPECT_GE(Value(worker, Rpc("count", "WorkerService/StartTasks")), 1);
    EXPECT_GE(Value(worker, "quarry_worker_reports_sent_total"), 1);
    EXPECT_EQ(Value(worker, "quarry_worker_reports_failed_total"), 0);
    started += Value(worker, "quarry_worker_attempts_started_total");
    done += Value(worker,
                  "quarry_worker_attempts_finished_total{outcome=\"done\"}");
    timed +=
        Value(worker,
              "quarry_worker_attempt_duration_seconds_count{outcome=\"done\"}");
    seconds += Value(
        worker, "quarry_worker_attempt_duration_seconds_sum{outcome=\"done\"}");
  }
  EXPECT_EQ(started, kTasks);
  EXPECT_EQ(done, kTasks);
  EXPECT_EQ(timed, kTasks);
  EXPECT_GE(seconds, kTasks * kSleepMs / 1000.0);
}

// A Redis outage: API reads and the controller's writes fail and are
// counted, the backlog shows until Redis is back.
TEST(MetricsStoreTest, StoreOutageIsCountedAndShown) {
  absl::StatusOr<std::unique_ptr<TestServer>> redis =
      TestServer::Start(TestServer::Kind::kRedis);
  ASSERT_TRUE(redis.ok()) << redis.status();
  TempDir scratch;
  const std::string port_file = scratch.path() + "/leader.metrics.port";
  auto cluster = LocalCluster::Start({"--store=" + (*redis)->url(),
                                      "--metrics_listen=127.0.0.1:0",
                                      "--metrics_port_file=" + port_file});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<int> port =
      WaitForPortFile(port_file, (*cluster)->leader(), absl::Seconds(20));
  ASSERT_TRUE(port.ok()) << port.status();
  ASSERT_TRUE((*cluster)->StartWorker("worker-1", 1).ok());
  ASSERT_TRUE((*cluster)->WaitForAliveWorkers(1).ok());
  absl::StatusOr<MetricSamples> before = ScrapeMetrics(*port);
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(Value(*before, "quarry_leader_ready"), 1);
  EXPECT_EQ(before->Sum("quarry_leader_store_errors_total"), 0);

  ASSERT_TRUE((*redis)->Kill().ok());
  quarry::v1::GetJobRequest request;
  request.set_job_id("job-000001");
  quarry::v1::GetJobResponse ignored;
  EXPECT_EQ((*cluster)
                ->jobs()
                .GetJob(ContextWithDeadline().get(), request, &ignored)
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // The worker's heartbeats change its record: the controller's writes
  // fail from the next one on.
  absl::StatusOr<MetricSamples> during =
      ScrapeUntil(*port, [](const MetricSamples& samples) {
        return samples.Get("quarry_leader_store_backlog") == 1.0 &&
               samples.Get("quarry_leader_store_errors_total{op=\"write\"}") >=
                   1.0;
      });
  ASSERT_TRUE(during.ok()) << during.status() << (*cluster)->LogTails();
  EXPECT_GE(Value(*during, "quarry_leader_store_errors_total{op=\"read\"}"), 1);

  ASSERT_TRUE((*redis)->Restart().ok());
  absl::StatusOr<MetricSamples> after =
      ScrapeUntil(*port, [](const MetricSamples& samples) {
        return samples.Get("quarry_leader_store_backlog") == 0.0;
      });
  ASSERT_TRUE(after.ok()) << after.status() << (*cluster)->LogTails();
  absl::Status stopped = (*cluster)->Shutdown();
  EXPECT_TRUE(stopped.ok()) << stopped;
}

}  // namespace
}  // namespace quarry::testing

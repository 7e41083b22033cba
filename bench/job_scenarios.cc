// The scenarios that run `noop` jobs: throughput, latency and reads.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/scenarios.h"
#include "common/status_util.h"

namespace quarry::bench {
namespace internal {

absl::StatusOr<std::unique_ptr<BenchCluster>> StartScenarioCluster(
    const BenchConfig& config, const std::string& name, int workers, int slots,
    const std::vector<std::string>& worker_flags) {
  ClusterOptions options = config.cluster;
  options.work_dir = absl::StrCat(config.cluster.work_dir, "/", name);
  options.worker_flags = worker_flags;
  std::error_code error;
  std::filesystem::create_directories(options.work_dir, error);
  if (error) return absl::InternalError(error.message());
  return BenchCluster::Start(options, workers, slots);
}

absl::StatusOr<double> RunJobToDone(BenchCluster& cluster,
                                    const quarry::v1::JobSpec& spec,
                                    absl::Duration timeout,
                                    std::string* job_id) {
  const double start = NowSeconds();
  absl::StatusOr<quarry::v1::SubmitJobResponse> submitted =
      cluster.Submit(spec);
  if (!submitted.ok()) return submitted.status();
  absl::StatusOr<quarry::v1::Job> job =
      cluster.WaitForJob(submitted->job_id(), timeout);
  const double seconds = NowSeconds() - start;
  if (!job.ok()) return job.status();
  if (job_id != nullptr) *job_id = submitted->job_id();
  if (job->state() != quarry::v1::JOB_STATE_DONE ||
      job->task_counts().done() != submitted->task_count()) {
    return absl::InternalError(absl::StrCat(
        "job ", job->id(), " ended ", quarry::v1::JobState_Name(job->state()),
        " with ", job->task_counts().done(), " of ", submitted->task_count(),
        " tasks done: ", job->error()));
  }
  return seconds;
}

quarry::v1::JobSpec NoopSpec(int tasks) {
  quarry::v1::JobSpec spec;
  spec.set_kind("noop");
  (*spec.mutable_settings())["tasks"] = absl::StrCat(tasks);
  return spec;
}

}  // namespace internal

namespace {

using internal::NoopSpec;
using internal::NowSeconds;
using internal::RunJobToDone;
using internal::StartScenarioCluster;

constexpr int kWorkers = 2;
constexpr int kSlots = 4;
constexpr double kThroughputTarget = 20'000;  // tasks/s
constexpr double kMedianTargetMs = 1;
constexpr double kP99TargetMs = 5;
constexpr double kReadsTarget = 20'000;  // GetJob/s
constexpr double kSlowdownTargetPct = 20;
constexpr int kReaderThreads = 8;

// Generous: a job that runs 20x slower than the target still finishes.
absl::Duration NoopTimeout(int tasks) {
  return absl::Seconds(30) + absl::Milliseconds(tasks);
}

// Nearest-rank percentile of sorted values.
double Percentile(const std::vector<double>& sorted, double p) {
  size_t rank = static_cast<size_t>(std::ceil(p / 100 * sorted.size()));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

absl::Status RunThroughput(const BenchConfig& config, Report& report) {
  absl::StatusOr<std::unique_ptr<BenchCluster>> cluster =
      StartScenarioCluster(config, "throughput", kWorkers, kSlots);
  if (!cluster.ok()) return cluster.status();
  std::vector<int> sizes = config.throughput_tasks;
  if (sizes.empty()) {
    sizes = config.smoke ? std::vector<int>{500}
                         : std::vector<int>{10'000, 100'000};
  }
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  for (int tasks : sizes) {
    const double cpu_start = (*cluster)->ClusterCpuSeconds();
    absl::StatusOr<double> seconds =
        RunJobToDone(**cluster, NoopSpec(tasks), NoopTimeout(tasks));
    if (!seconds.ok()) return seconds.status();
    const double cpu = (*cluster)->ClusterCpuSeconds() - cpu_start;
    const double rate = tasks / *seconds;
    // How much of the machine the cluster (leader, workers, this driver)
    // got: well under 1 means other work shared the cores.
    report.Emit(Figure("throughput")
                    .Add("tasks", tasks)
                    .Add("workers", kWorkers)
                    .Add("slots", kSlots)
                    .Add("seconds", *seconds)
                    .Add("tasks_per_s", rate)
                    .Add("cluster_cpu_s", cpu)
                    .Add("cpu_us_per_task", cpu / tasks * 1e6)
                    .Add("machine_share", cpu / (*seconds * cores)));
    report.AddRow("throughput", absl::StrCat(tasks, " noop tasks, tasks/s"),
                  absl::StrFormat("%.0f", rate), ">= 20000",
                  Verdict(rate >= kThroughputTarget));
  }
  return (*cluster)->Shutdown();
}

absl::Status RunLatency(const BenchConfig& config, Report& report) {
  absl::StatusOr<std::unique_ptr<BenchCluster>> cluster =
      StartScenarioCluster(config, "latency", kWorkers, kSlots);
  if (!cluster.ok()) return cluster.status();
  const int jobs = config.smoke ? 20 : 200;
  const int warmup = config.smoke ? 2 : 10;  // Connections, first-use paths.
  std::vector<double> millis;
  for (int i = 0; i < warmup + jobs; ++i) {
    absl::StatusOr<double> seconds =
        RunJobToDone(**cluster, NoopSpec(1), absl::Seconds(10));
    if (!seconds.ok()) return seconds.status();
    if (i >= warmup) millis.push_back(*seconds * 1000);
  }
  std::sort(millis.begin(), millis.end());
  const double median = Percentile(millis, 50);
  const double p99 = Percentile(millis, 99);
  double sum = 0;
  for (double value : millis) sum += value;
  report.Emit(Figure("latency")
                  .Add("jobs", jobs)
                  .Add("warmup_jobs", warmup)
                  .Add("workers", kWorkers)
                  .Add("slots", kSlots)
                  .Add("median_ms", median)
                  .Add("p99_ms", p99)
                  .Add("mean_ms", sum / millis.size())
                  .Add("min_ms", millis.front())
                  .Add("max_ms", millis.back()));
  report.AddRow("latency", "submit->DONE median, ms",
                absl::StrFormat("%.2f", median), "<= 1",
                Verdict(median <= kMedianTargetMs));
  report.AddRow("latency", "submit->DONE p99, ms", absl::StrFormat("%.2f", p99),
                "<= 5", Verdict(p99 <= kP99TargetMs));
  return (*cluster)->Shutdown();
}

namespace {

// What the reader threads measured.
struct ReadStats {
  int64_t calls = 0;
  int64_t errors = 0;
  double seconds = 0;
};

// `threads` client threads, each with its own connection, calling GetJob
// on one job as fast as they can from construction until Stop() (or
// `give_up`). Owned by the scenario's thread.
class GetJobReaders {
 public:
  GetJobReaders(const std::string& address, const std::string& job_id,
                int threads, absl::Time give_up)
      : start_(NowSeconds()) {
    for (int i = 0; i < threads; ++i) {
      readers_.emplace_back([this, address, job_id, give_up] {
        auto stub = quarry::v1::JobService::NewStub(NewPrivateChannel(address));
        quarry::v1::GetJobRequest request;
        request.set_job_id(job_id);
        quarry::v1::GetJobResponse response;
        int64_t mine = 0, failed = 0;
        while (!stop_.load(std::memory_order_relaxed) &&
               absl::Now() < give_up) {
          grpc::Status status = stub->GetJob(
              ContextWithDeadline(absl::Seconds(2)).get(), request, &response);
          ++(status.ok() ? mine : failed);
        }
        calls_ += mine;
        errors_ += failed;
      });
    }
  }
  ~GetJobReaders() { Stop(); }

  ReadStats Stop() {
    if (!stopped_) {
      seconds_ = NowSeconds() - start_;
      stop_ = true;
      for (std::thread& reader : readers_) reader.join();
      stopped_ = true;
    }
    return {calls_.load(), errors_.load(), seconds_};
  }

 private:
  const double start_;
  double seconds_ = 0;
  bool stopped_ = false;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> calls_{0}, errors_{0};
  std::vector<std::thread> readers_;
};

// Runs a no-op job of `tasks` tasks while `threads` client threads call
// GetJob on it as fast as they can; returns the job's seconds.
absl::StatusOr<double> RunJobUnderReads(BenchCluster& cluster, int tasks,
                                        int threads, ReadStats& stats) {
  const double start = NowSeconds();
  absl::StatusOr<quarry::v1::SubmitJobResponse> submitted =
      cluster.Submit(NoopSpec(tasks));
  if (!submitted.ok()) return submitted.status();
  GetJobReaders readers(cluster.leader_address(), submitted->job_id(), threads,
                        absl::Now() + NoopTimeout(tasks));
  // Measured from before the submission, like the job run alone.
  absl::StatusOr<quarry::v1::Job> job =
      cluster.WaitForJob(submitted->job_id(), NoopTimeout(tasks));
  const double end = NowSeconds();
  stats = readers.Stop();
  if (!job.ok()) return job.status();
  if (job->state() != quarry::v1::JOB_STATE_DONE) {
    return absl::InternalError(absl::StrCat(
        "job ", job->id(), " ended ", quarry::v1::JobState_Name(job->state())));
  }
  return end - start;
}

}  // namespace

absl::Status RunReads(const BenchConfig& config, Report& report) {
  absl::StatusOr<std::unique_ptr<BenchCluster>> cluster =
      StartScenarioCluster(config, "reads", kWorkers, kSlots);
  if (!cluster.ok()) return cluster.status();
  const int tasks = config.smoke ? 1'000 : 20'000;
  // The job alone, before and after the loaded run (their mean is the
  // reference), so that warm-up or a growing store does not bias it.
  absl::StatusOr<double> before =
      RunJobToDone(**cluster, NoopSpec(tasks), NoopTimeout(tasks));
  if (!before.ok()) return before.status();
  ReadStats stats;
  absl::StatusOr<double> loaded =
      RunJobUnderReads(**cluster, tasks, kReaderThreads, stats);
  if (!loaded.ok()) return loaded.status();
  std::string after_id;
  absl::StatusOr<double> after =
      RunJobToDone(**cluster, NoopSpec(tasks), NoopTimeout(tasks), &after_id);
  if (!after.ok()) return after.status();
  // The same readers on a finished job, nothing else running: what GetJob
  // costs alone on this machine.
  GetJobReaders idle_readers((*cluster)->leader_address(), after_id,
                             kReaderThreads, absl::Now() + absl::Seconds(30));
  absl::SleepFor(config.smoke ? absl::Milliseconds(200) : absl::Seconds(2));
  const ReadStats idle = idle_readers.Stop();
  if (stats.errors + idle.errors > 0) {
    return absl::InternalError(
        absl::StrCat(stats.errors + idle.errors, " GetJob calls failed"));
  }
  const double alone = (*before + *after) / 2;
  const double rate = stats.calls / stats.seconds;
  const double slowdown_pct = (*loaded / alone - 1) * 100;
  report.Emit(Figure("reads")
                  .Add("threads", kReaderThreads)
                  .Add("tasks", tasks)
                  .Add("workers", kWorkers)
                  .Add("slots", kSlots)
                  .Add("getjob_calls", static_cast<long long>(stats.calls))
                  .Add("getjob_per_s", rate)
                  .Add("getjob_idle_per_s", idle.calls / idle.seconds)
                  .Add("job_alone_s", alone)
                  .Add("job_alone_before_s", *before)
                  .Add("job_alone_after_s", *after)
                  .Add("job_with_reads_s", *loaded)
                  .Add("slowdown_pct", slowdown_pct));
  report.AddRow("reads", "GetJob/s, 8 threads, during a job",
                absl::StrFormat("%.0f", rate), ">= 20000",
                Verdict(rate >= kReadsTarget));
  report.AddRow("reads", "job slowdown under reads, %",
                absl::StrFormat("%.0f", slowdown_pct), "< 20",
                Verdict(slowdown_pct < kSlowdownTargetPct));
  return (*cluster)->Shutdown();
}

}  // namespace quarry::bench

#ifndef QUARRY_BENCH_SCENARIOS_H_
#define QUARRY_BENCH_SCENARIOS_H_

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bench/bench_cluster.h"
#include "bench/report.h"

namespace quarry::bench {

// What every scenario needs: the binaries, a scratch directory (each
// scenario works in <work_dir>/<scenario>), and the size.
struct BenchConfig {
  ClusterOptions cluster;  // work_dir is the run's scratch root.
  // Tiny sizes: check correctness only, finish in seconds.
  bool smoke = false;
  // Where the wordcount corpus is kept between runs.
  std::string cache_dir;
  // Job sizes of the throughput scenario; empty: the defaults.
  std::vector<int> throughput_tasks;
  // Size of the scale scenario; 0: the defaults.
  int scale_workers = 0;
  int scale_tasks = 0;
  // JobSpec.bytes_per_task of the wordcount job (0: one task per file).
  int64_t wordcount_bytes_per_task = 0;
  // Input files of the exec scenario.
  int exec_tasks = 10'000;
};

// Each scenario starts its own cluster, emits its figures into `report` and
// returns an error when a job did not end DONE or a result was wrong
// (never for a missed performance target).

// No-op jobs of 10,000 and 100,000 tasks on 2 workers x 4 slots.
absl::Status RunThroughput(const BenchConfig& config, Report& report);
// 200 single-task no-op jobs one after another: submit -> DONE latency.
absl::Status RunLatency(const BenchConfig& config, Report& report);
// Wordcount of a 256 MiB corpus vs. a single-threaded in-process count.
absl::Status RunWordcount(const BenchConfig& config, Report& report);
// GetJob rate of 8 client threads during a no-op job, and its slowdown.
absl::Status RunReads(const BenchConfig& config, Report& report);
// One job of 1,000,000 no-op tasks on 1,000 simulated workers x 8 slots:
// SubmitJob time, leader peak RSS, controller tick durations, tasks/s.
absl::Status RunScale(const BenchConfig& config, Report& report);
// `exec` of /bin/true {input} over 10,000 empty files on 2 workers x 4
// slots, next to `xargs -P8 -n1 /bin/true` and GNU `parallel -j8 /bin/true`
// over the same files.
absl::Status RunExec(const BenchConfig& config, Report& report);

// Scenario helpers shared by the scenario files.
namespace internal {

// Seconds on a monotonic clock.
inline double NowSeconds() {
  return std::chrono::duration<double>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Creates <work_dir>/<name> and starts a cluster logging there, its
// workers with `worker_flags` besides the usual ones.
absl::StatusOr<std::unique_ptr<BenchCluster>> StartScenarioCluster(
    const BenchConfig& config, const std::string& name, int workers, int slots,
    const std::vector<std::string>& worker_flags = {});

// Submits `spec`, follows it to the end and checks it is DONE with every
// task done. Returns the seconds from before SubmitJob to the DONE event.
absl::StatusOr<double> RunJobToDone(BenchCluster& cluster,
                                    const quarry::v1::JobSpec& spec,
                                    absl::Duration timeout,
                                    std::string* job_id = nullptr);

// A `noop` job of `tasks` tasks with no output directory.
quarry::v1::JobSpec NoopSpec(int tasks);

}  // namespace internal
}  // namespace quarry::bench

#endif  // QUARRY_BENCH_SCENARIOS_H_

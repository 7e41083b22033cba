// The wordcount scenario: a 256 MiB corpus through the cluster, checked
// against (and compared with) a single-threaded in-process count.
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "bench/corpus.h"
#include "bench/scenarios.h"

namespace quarry::bench {
namespace {

constexpr int kWorkers = 2;
constexpr int kSlots = 2;
constexpr double kRatioTarget = 1.6;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr int kRounds = 3;

std::string Join(const std::vector<double>& values) {
  return absl::StrJoin(values, ",", [](std::string* out, double value) {
    absl::StrAppendFormat(out, "%.3f", value);
  });
}

}  // namespace

absl::Status RunWordcount(const BenchConfig& config, Report& report) {
  const int files = config.smoke ? 4 : 256;
  const int64_t bytes_per_file = config.smoke ? 64 << 10 : 1 << 20;
  absl::StatusOr<std::vector<std::string>> corpus =
      EnsureCorpus(config.cache_dir, files, bytes_per_file);
  if (!corpus.ok()) return corpus.status();
  if (absl::Status warm = WarmPageCache(*corpus); !warm.ok()) return warm;
  const double mib = TotalBytes(*corpus) / kMiB;

  absl::StatusOr<std::unique_ptr<BenchCluster>> cluster =
      internal::StartScenarioCluster(config, "wordcount", kWorkers, kSlots);
  if (!cluster.ok()) return cluster.status();
  quarry::v1::JobSpec spec;
  spec.set_kind("wordcount");
  for (const std::string& path : *corpus) spec.add_inputs(path);
  spec.set_output_dir(config.cluster.work_dir + "/wordcount/out");
  spec.set_overwrite(true);
  spec.set_bytes_per_task(config.wordcount_bytes_per_task);
  // The same job with one task per file, for comparison.
  quarry::v1::JobSpec per_file = spec;
  per_file.set_bytes_per_task(0);
  per_file.set_output_dir(config.cluster.work_dir + "/wordcount/per-file");
  // Rounds of (baseline, cluster), the best of each kept: on a machine
  // shared with other work, one run of either can be slowed by a burst of
  // someone else's load, and the two are never measured at the same time.
  const int rounds = config.smoke ? 1 : kRounds;
  std::vector<double> cluster_runs, baseline_runs, per_file_runs;
  double worker_cpu = 0, baseline_cpu = 0;  // Of the best runs.
  absl::StatusOr<WordCounts> want;
  std::string job_id, per_file_job_id;
  for (int round = 0; round < rounds; ++round) {
    const double baseline_start = internal::NowSeconds();
    const double baseline_cpu_start = ProcessCpuSeconds(getpid());
    want = CountWords(*corpus);
    baseline_runs.push_back(internal::NowSeconds() - baseline_start);
    if (baseline_runs.back() <=
        *std::min_element(baseline_runs.begin(), baseline_runs.end())) {
      baseline_cpu = ProcessCpuSeconds(getpid()) - baseline_cpu_start;
    }
    if (!want.ok()) return want.status();
    const double cpu_start = (*cluster)->WorkersCpuSeconds();
    absl::StatusOr<double> seconds = internal::RunJobToDone(
        **cluster, spec, absl::Seconds(30) + absl::Seconds(mib), &job_id);
    if (!seconds.ok()) return seconds.status();
    cluster_runs.push_back(*seconds);
    if (*seconds <=
        *std::min_element(cluster_runs.begin(), cluster_runs.end())) {
      worker_cpu = (*cluster)->WorkersCpuSeconds() - cpu_start;
    }
    if (config.wordcount_bytes_per_task > 0) {
      seconds = internal::RunJobToDone(**cluster, per_file,
                                       absl::Seconds(30) + absl::Seconds(mib),
                                       &per_file_job_id);
      if (!seconds.ok()) return seconds.status();
      per_file_runs.push_back(*seconds);
    }
  }
  absl::StatusOr<quarry::v1::GetJobResultResponse> result =
      (*cluster)->GetJobResult(job_id);
  if (!result.ok()) return result.status();
  absl::Status same = absl::OkStatus();
  double per_file_seconds = 0;
  if (!per_file_runs.empty()) {
    per_file_seconds =
        *std::min_element(per_file_runs.begin(), per_file_runs.end());
    absl::StatusOr<quarry::v1::GetJobResultResponse> per_file_result =
        (*cluster)->GetJobResult(per_file_job_id);
    if (!per_file_result.ok()) return per_file_result.status();
    absl::StatusOr<WordCounts> got =
        ReadResultTsv(per_file_result->result_path());
    if (!got.ok()) return got.status();
    same = CompareCounts(*want, *got);
  }
  if (absl::Status status = (*cluster)->Shutdown(); !status.ok()) return status;
  const double seconds =
      *std::min_element(cluster_runs.begin(), cluster_runs.end());
  const double baseline_seconds =
      *std::min_element(baseline_runs.begin(), baseline_runs.end());
  absl::StatusOr<WordCounts> got = ReadResultTsv(result->result_path());
  if (!got.ok()) return got.status();
  if (same.ok()) same = CompareCounts(*want, *got);

  const double rate = mib / seconds;
  const double baseline_rate = mib / baseline_seconds;
  const double ratio = rate / baseline_rate;
  report.Emit(
      Figure("wordcount")
          .Add("files", files)
          .Add("bytes_per_task",
               static_cast<long long>(config.wordcount_bytes_per_task))
          .Add("map_tasks", result->files_size() - 1)
          .Add("mib", mib)
          .Add("workers", kWorkers)
          .Add("slots", kSlots)
          .Add("rounds", rounds)
          .Add("seconds", seconds)
          .Add("all_seconds", Join(cluster_runs))
          .Add("mib_per_s", rate)
          .Add("baseline_seconds", baseline_seconds)
          .Add("all_baseline_seconds", Join(baseline_runs))
          .Add("baseline_mib_per_s", baseline_rate)
          .Add("workers_cpu_s", worker_cpu)
          .Add("baseline_cpu_s", baseline_cpu)
          .Add("ratio", ratio)
          .Add("per_file_seconds", per_file_seconds)
          .Add("all_per_file_seconds", Join(per_file_runs))
          .Add("per_file_ratio",
               per_file_seconds > 0 ? baseline_seconds / per_file_seconds : 0.0)
          .Add("distinct_words", static_cast<long long>(want->size()))
          .Add("result_matches_baseline", same.ok()));
  report.AddRow("wordcount", "cluster MiB/s", absl::StrFormat("%.1f", rate), "",
                "");
  report.AddRow("wordcount", "baseline MiB/s (1 thread)",
                absl::StrFormat("%.1f", baseline_rate), "", "");
  report.AddRow("wordcount", "cluster / baseline",
                absl::StrFormat("%.2f", ratio), ">= 1.6",
                Verdict(ratio >= kRatioTarget));
  if (per_file_seconds > 0) {
    report.AddRow("wordcount", "  same, one task per file",
                  absl::StrFormat("%.2f", baseline_seconds / per_file_seconds),
                  "", "");
  }
  return same;
}

}  // namespace quarry::bench

// The scale scenario: one job of a million no-op tasks on a thousand
// simulated workers (quarry-sim-workers), measuring what a big cluster
// costs the leader.
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/scenarios.h"

namespace quarry::bench {
namespace {

constexpr int kSlots = 8;
constexpr double kSubmitTargetS = 2;
constexpr double kRssTargetMiB = 1024;
constexpr double kTickP99TargetMs = 50;

// A thousand workers probed every 100 ms would be 10,000 probes a second:
// a cluster this big runs with slower failure detection.
const std::vector<std::string> kLeaderFlags = {
    "--probe_interval=1s", "--suspect_after=3s", "--dead_after=6s"};

// VmHWM (peak resident set) of process `pid`, in MiB.
absl::StatusOr<double> PeakRssMiB(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    int64_t kib = 0;
    if (line.rfind("VmHWM:", 0) == 0 &&
        std::istringstream(line.substr(6)) >> kib) {
      return kib / 1024.0;
    }
  }
  return absl::NotFoundError(absl::StrCat("no VmHWM for process ", pid));
}

struct TickFigures {
  int64_t ticks = 0;
  double p50_ms = 0, p99_ms = 0, max_ms = 0;
  // The same steps' CPU time (their real time minus waiting for a core).
  double cpu_p50_ms = 0, cpu_p99_ms = 0, cpu_max_ms = 0;
};

// The last "controller tick durations: ticks=N p50=Xms p99=Yms max=Zms"
// line of the leader's log (written when its controller stops).
absl::StatusOr<TickFigures> ReadTickFigures(const std::string& log) {
  std::ifstream in(log);
  const std::regex pattern(
      R"(controller tick durations: ticks=(\d+) p50=([0-9.]+)ms )"
      R"(p99=([0-9.]+)ms max=([0-9.]+)ms .*on CPU: ticks=\d+ )"
      R"(p50=([0-9.]+)ms p99=([0-9.]+)ms max=([0-9.]+)ms)");
  std::string line;
  std::smatch match;
  std::optional<TickFigures> last;
  while (std::getline(in, line)) {
    if (!std::regex_search(line, match, pattern)) continue;
    TickFigures figures;
    if (absl::SimpleAtoi(match[1].str(), &figures.ticks) &&
        absl::SimpleAtod(match[2].str(), &figures.p50_ms) &&
        absl::SimpleAtod(match[3].str(), &figures.p99_ms) &&
        absl::SimpleAtod(match[4].str(), &figures.max_ms) &&
        absl::SimpleAtod(match[5].str(), &figures.cpu_p50_ms) &&
        absl::SimpleAtod(match[6].str(), &figures.cpu_p99_ms) &&
        absl::SimpleAtod(match[7].str(), &figures.cpu_max_ms)) {
      last = figures;
    }
  }
  if (!last.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("no controller tick durations in ", log));
  }
  return *last;
}

}  // namespace

absl::Status RunScale(const BenchConfig& config, Report& report) {
  const int workers = config.scale_workers > 0 ? config.scale_workers
                      : config.smoke           ? 20
                                               : 1000;
  const int tasks = config.scale_tasks > 0 ? config.scale_tasks
                    : config.smoke         ? 1000
                                           : 1'000'000;
  ClusterOptions options = config.cluster;
  options.work_dir = absl::StrCat(config.cluster.work_dir, "/scale");
  std::error_code error;
  std::filesystem::create_directories(options.work_dir, error);
  if (error) return absl::InternalError(error.message());
  absl::StatusOr<std::unique_ptr<BenchCluster>> cluster =
      BenchCluster::StartSimulated(options, workers, kSlots, kLeaderFlags);
  if (!cluster.ok()) return cluster.status();

  const double start = internal::NowSeconds();
  absl::StatusOr<quarry::v1::SubmitJobResponse> submitted =
      (*cluster)->Submit(internal::NoopSpec(tasks));
  const double submit_seconds = internal::NowSeconds() - start;
  if (!submitted.ok()) return submitted.status();
  absl::StatusOr<quarry::v1::Job> job = (*cluster)->WaitForJob(
      submitted->job_id(), absl::Seconds(60) + absl::Milliseconds(tasks));
  const double seconds = internal::NowSeconds() - start;
  if (!job.ok()) return job.status();
  if (job->state() != quarry::v1::JOB_STATE_DONE ||
      job->task_counts().done() != tasks) {
    return absl::InternalError(absl::StrCat(
        "job ", job->id(), " ended ", quarry::v1::JobState_Name(job->state()),
        " with ", job->task_counts().done(), " of ", tasks, " tasks done"));
  }
  absl::StatusOr<double> rss = PeakRssMiB((*cluster)->leader_pid());
  if (!rss.ok()) return rss.status();
  // The leader logs its tick durations when it stops; stop it first, so
  // that the workers' departure is not part of them.
  if (absl::Status stopped = (*cluster)->StopLeader(); !stopped.ok()) {
    return stopped;
  }
  absl::StatusOr<TickFigures> ticks = ReadTickFigures((*cluster)->leader_log());
  if (!ticks.ok()) return ticks.status();
  if (absl::Status status = (*cluster)->Shutdown(); !status.ok()) return status;

  const double rate = tasks / seconds;
  report.Emit(Figure("scale")
                  .Add("workers", workers)
                  .Add("slots", kSlots)
                  .Add("tasks", tasks)
                  .Add("submit_s", submit_seconds)
                  .Add("seconds", seconds)
                  .Add("tasks_per_s", rate)
                  .Add("leader_peak_rss_mib", *rss)
                  .Add("ticks", static_cast<long long>(ticks->ticks))
                  .Add("tick_p50_ms", ticks->p50_ms)
                  .Add("tick_p99_ms", ticks->p99_ms)
                  .Add("tick_max_ms", ticks->max_ms)
                  .Add("tick_cpu_p50_ms", ticks->cpu_p50_ms)
                  .Add("tick_cpu_p99_ms", ticks->cpu_p99_ms)
                  .Add("tick_cpu_max_ms", ticks->cpu_max_ms));
  const std::string size = absl::StrCat(workers, "x", kSlots, ", ", tasks);
  report.AddRow("scale", absl::StrCat("SubmitJob s (", size, " tasks)"),
                absl::StrFormat("%.2f", submit_seconds), "<= 2",
                Verdict(submit_seconds <= kSubmitTargetS));
  report.AddRow("scale", "leader peak RSS, MiB", absl::StrFormat("%.0f", *rss),
                "<= 1024", Verdict(*rss <= kRssTargetMiB));
  report.AddRow("scale", "controller tick p50, ms",
                absl::StrFormat("%.2f", ticks->p50_ms), "", "");
  report.AddRow("scale", "controller tick p99, ms",
                absl::StrFormat("%.2f", ticks->p99_ms), "<= 50",
                Verdict(ticks->p99_ms <= kTickP99TargetMs));
  report.AddRow("scale", "controller tick p99 on CPU, ms",
                absl::StrFormat("%.2f", ticks->cpu_p99_ms), "", "");
  report.AddRow("scale", "tasks/s", absl::StrFormat("%.0f", rate), "", "");
  return absl::OkStatus();
}

}  // namespace quarry::bench

// The exec scenario: the user's own program once per input file, through
// the cluster (the `exec` kind) and, over the same files in the same run,
// through `xargs -P8` and GNU `parallel -j8`.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "bench/scenarios.h"
#include "common/job_kinds.h"
#include "tests/testing/subprocess.h"

namespace quarry::bench {
namespace {

constexpr int kWorkers = 2;
constexpr int kSlots = 4;
constexpr int kParallelism = kWorkers * kSlots;  // xargs -P8, parallel -j8.
constexpr double kXargsRatioTarget = 1.5;        // xargs tasks/s over Quarry's.
constexpr char kProgram[] = "/bin/true";
constexpr double kNone = std::numeric_limits<double>::quiet_NaN();  // null.

// Generous: a fork+exec costs ~1 ms on a typical machine but ~8 ms on a
// VM with slow page-table updates, and the cores may be shared.
absl::Duration ExecTimeout(int tasks) {
  return absl::Seconds(120) + absl::Milliseconds(100) * tasks;
}

// The 1-minute load average: how busy the machine was around a run.
double LoadAverage() {
  double load = kNone;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}

// Creates `count` empty files <dir>/in-NNNNN and writes their paths to
// `list`, one a line.
absl::Status MakeInputs(const std::string& dir, int count,
                        const std::string& list) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error)
    return absl::InternalError(absl::StrCat(dir, ": ", error.message()));
  std::ofstream out(list);
  for (int i = 0; i < count; ++i) {
    const std::string path = absl::StrFormat("%s/in-%05d", dir, i);
    const int fd =
        open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
      return absl::InternalError(
          absl::StrCat("cannot create ", path, ": ", strerror(errno)));
    }
    close(fd);
    out << path << '\n';
  }
  out.close();
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", list));
  return absl::OkStatus();
}

// Runs `command` (found through PATH) with stdin from `list` and HOME set
// to `home` (so that nothing is written to the real home), through /bin/sh
// without any quoting of the arguments. Returns the exit code and puts
// stdout and stderr in *output.
absl::StatusOr<int> RunWithStdin(const std::string& list,
                                 const std::string& home,
                                 const std::vector<std::string>& command,
                                 absl::Duration timeout, std::string* output) {
  std::vector<std::string> argv = {
      "/bin/sh", "-c", R"(export HOME="$1"; shift; exec "$@" <"$0")", list,
      home};
  argv.insert(argv.end(), command.begin(), command.end());
  return testing::RunCommand(argv, output, timeout);
}

// CPU time of this process's children that it has waited for.
double ChildrenCpuSeconds() {
  struct rusage usage;
  if (getrusage(RUSAGE_CHILDREN, &usage) != 0) return kNone;
  auto seconds = [](const struct timeval& time) {
    return time.tv_sec + time.tv_usec / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

struct ToolRun {
  double seconds = kNone;
  double cpu_seconds = kNone;  // The tool's and its children's.
};

// Runs `command` over the list of inputs and times it; an error unless it
// exited 0.
absl::StatusOr<ToolRun> TimeTool(const std::string& list,
                                 const std::string& home,
                                 const std::vector<std::string>& command,
                                 int tasks) {
  std::string output;
  const double cpu_start = ChildrenCpuSeconds();
  const double start = internal::NowSeconds();
  absl::StatusOr<int> code =
      RunWithStdin(list, home, command, ExecTimeout(tasks), &output);
  ToolRun run;
  run.seconds = internal::NowSeconds() - start;
  run.cpu_seconds = ChildrenCpuSeconds() - cpu_start;
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::InternalError(absl::StrCat(command[0], " exited with ", *code,
                                            ": ", output.substr(0, 2000)));
  }
  return run;
}

// The first line of `parallel --version` if `parallel` is GNU parallel
// (moreutils has another program of that name); "" if it is not there.
std::string GnuParallelVersion(const std::string& home) {
  std::string output;
  absl::StatusOr<int> code =
      RunWithStdin("/dev/null", home, {"parallel", "--will-cite", "--version"},
                   absl::Seconds(30), &output);
  if (!code.ok() || *code != 0 || !absl::StartsWith(output, "GNU parallel")) {
    return "";
  }
  return output.substr(0, output.find('\n'));
}

// Milliseconds each task holds one of the 8 slots (or processes).
double SlotMsPerTask(double seconds, int tasks) {
  return seconds * kParallelism / tasks * 1000;
}

}  // namespace

absl::Status RunExec(const BenchConfig& config, Report& report) {
  const int tasks = config.smoke ? 20 : config.exec_tasks;
  if (tasks < 1) return absl::InvalidArgumentError("--exec_tasks must be >= 1");
  const std::string dir = config.cluster.work_dir + "/exec";
  const std::string inputs = dir + "/inputs";
  const std::string list = dir + "/inputs.txt";
  const std::string home = dir + "/home";
  if (absl::Status made = MakeInputs(inputs, tasks, list); !made.ok()) {
    return made;
  }
  std::error_code error;
  std::filesystem::create_directories(home, error);
  if (error) return absl::InternalError(error.message());

  const double load_before = LoadAverage();
  // The baselines first, with no cluster running.
  const std::string p = absl::StrCat(kParallelism);
  absl::StatusOr<ToolRun> xargs = TimeTool(
      list, home, {"xargs", "-d", "\n", "-P", p, "-n1", kProgram}, tasks);
  if (!xargs.ok()) return xargs.status();
  const std::string parallel_version = GnuParallelVersion(home);
  ToolRun parallel;
  if (!parallel_version.empty()) {
    absl::StatusOr<ToolRun> run = TimeTool(
        list, home, {"parallel", "--will-cite", "-j", p, kProgram}, tasks);
    if (!run.ok()) return run.status();
    parallel = *run;
  }

  absl::StatusOr<std::unique_ptr<BenchCluster>> cluster =
      internal::StartScenarioCluster(config, "exec", kWorkers, kSlots,
                                     {"--allow_exec"});
  if (!cluster.ok()) return cluster.status();
  quarry::v1::JobSpec spec;
  spec.set_kind(std::string(kExecKind));
  spec.add_command(kProgram);
  spec.add_command("{input}");
  spec.add_inputs(inputs);  // The directory: one task per file.
  BenchCluster& c = **cluster;
  const double cpu_start = c.ClusterCpuSeconds();
  const double leader_start = ProcessCpuSeconds(c.leader_pid());
  const double workers_start = c.WorkersCpuSeconds();
  const double children_start = c.WorkersChildrenCpuSeconds();
  absl::StatusOr<double> seconds =
      internal::RunJobToDone(c, spec, ExecTimeout(tasks));
  if (!seconds.ok()) return seconds.status();
  const double cpu = c.ClusterCpuSeconds() - cpu_start;
  const double leader_cpu = ProcessCpuSeconds(c.leader_pid()) - leader_start;
  const double workers_cpu = c.WorkersCpuSeconds() - workers_start;
  // The attempts' processes (shim and program), reaped by the workers.
  const double commands_cpu = c.WorkersChildrenCpuSeconds() - children_start;
  if (absl::Status status = (*cluster)->Shutdown(); !status.ok()) return status;

  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const double rate = tasks / *seconds;
  const double xargs_rate = tasks / xargs->seconds;
  const double parallel_rate = tasks / parallel.seconds;  // NaN if absent.
  auto ms_per_task = [tasks](double seconds) { return seconds / tasks * 1e3; };
  const double xargs_ratio = xargs_rate / rate;
  report.Emit(
      Figure("exec")
          .Add("tasks", tasks)
          .Add("command", absl::StrCat(kProgram, " {input}"))
          .Add("workers", kWorkers)
          .Add("slots", kSlots)
          .Add("seconds", *seconds)
          .Add("tasks_per_s", rate)
          .Add("slot_ms_per_task", SlotMsPerTask(*seconds, tasks))
          .Add("cluster_cpu_s", cpu)
          .Add("cpu_us_per_task", cpu / tasks * 1e6)
          .Add("machine_share", cpu / (*seconds * cores))
          .Add("leader_cpu_ms_per_task", ms_per_task(leader_cpu))
          .Add("workers_cpu_ms_per_task", ms_per_task(workers_cpu))
          .Add("commands_cpu_ms_per_task", ms_per_task(commands_cpu))
          .Add("total_cpu_ms_per_task",
               ms_per_task(leader_cpu + workers_cpu + commands_cpu))
          .Add("xargs_seconds", xargs->seconds)
          .Add("xargs_tasks_per_s", xargs_rate)
          .Add("xargs_slot_ms_per_task", SlotMsPerTask(xargs->seconds, tasks))
          .Add("xargs_cpu_ms_per_task", ms_per_task(xargs->cpu_seconds))
          .Add("xargs_over_quarry", xargs_ratio)
          .Add("parallel", parallel_version.empty()
                               ? std::string("not installed")
                               : parallel_version)
          .Add("parallel_seconds", parallel.seconds)
          .Add("parallel_tasks_per_s", parallel_rate)
          .Add("parallel_slot_ms_per_task",
               SlotMsPerTask(parallel.seconds, tasks))
          .Add("parallel_cpu_ms_per_task", ms_per_task(parallel.cpu_seconds))
          .Add("quarry_over_parallel", rate / parallel_rate)
          .Add("loadavg_before", load_before)
          .Add("loadavg_after", LoadAverage()));
  report.AddRow("exec",
                absl::StrCat(tasks, " x /bin/true {input}, quarry tasks/s"),
                absl::StrFormat("%.0f", rate), "", "");
  report.AddRow("exec", "  xargs -P8 -n1, tasks/s",
                absl::StrFormat("%.0f", xargs_rate), "", "");
  report.AddRow("exec", "  parallel -j8, tasks/s",
                parallel_version.empty()
                    ? "not installed"
                    : absl::StrFormat("%.0f", parallel_rate),
                "", "");
  report.AddRow("exec", "xargs / quarry", absl::StrFormat("%.2f", xargs_ratio),
                "<= 1.5", Verdict(xargs_ratio <= kXargsRatioTarget));
  if (parallel_version.empty()) {
    report.AddRow("exec", "quarry / parallel", "not installed", "> 1", "");
  } else {
    report.AddRow("exec", "quarry / parallel",
                  absl::StrFormat("%.2f", rate / parallel_rate), "> 1",
                  Verdict(rate > parallel_rate));
  }
  return absl::OkStatus();
}

}  // namespace quarry::bench

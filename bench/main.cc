// quarry-bench: starts its own leader and workers on loopback, runs the
// benchmark scenarios through the gRPC API and prints one JSON line per
// figure on stdout, and a table against the targets on stderr.
//
//   quarry-bench [--scenarios=throughput,latency,wordcount,reads,scale,exec]
//                [--smoke] [--cache_dir=/tmp/quarry-bench-cache] [--keep_logs]
//                [--throughput_tasks=10000,100000] [--exec_tasks=10000]
//                [--leader_binary=PATH] [--worker_binary=PATH]
//
// Exit code 0 when every scenario ran and its results were correct (a
// missed performance target is reported, not an error); 1 otherwise; 2 for
// bad flags.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "bench/scenarios.h"
#include "tests/testing/subprocess.h"

ABSL_FLAG(std::string, scenarios,
          "throughput,latency,wordcount,reads,scale,exec",
          "comma-separated scenarios to run, in this order");
ABSL_FLAG(bool, smoke, false,
          "tiny sizes: only check that every scenario works (a few seconds)");
ABSL_FLAG(std::string, cache_dir, "/tmp/quarry-bench-cache",
          "where the wordcount corpus is kept between runs");
ABSL_FLAG(std::string, leader_binary, QUARRY_LEADER_BIN,
          "quarry-leader to run");
ABSL_FLAG(std::string, worker_binary, QUARRY_WORKER_BIN,
          "quarry-worker to run");
ABSL_FLAG(std::string, sim_workers_binary, QUARRY_SIM_WORKERS_BIN,
          "quarry-sim-workers to run (the scale scenario)");
ABSL_FLAG(std::vector<std::string>, throughput_tasks, {},
          "job sizes of the throughput scenario (default 10000,100000; "
          "500 with --smoke), e.g. for profiling");
ABSL_FLAG(int, scale_workers, 0,
          "simulated workers of the scale scenario (default 1000; 20 with "
          "--smoke)");
ABSL_FLAG(int, scale_tasks, 0,
          "tasks of the scale scenario's job (default 1000000; 1000 with "
          "--smoke)");
ABSL_FLAG(int64_t, wordcount_bytes_per_task, 8 << 20,
          "JobSpec.bytes_per_task of the wordcount job: its 1 MiB files are "
          "packed into tasks of up to this many bytes; 0: one task per "
          "file (with --smoke: 192 KiB)");
ABSL_FLAG(int, exec_tasks, 10'000,
          "input files of the exec scenario, one /bin/true each (20 with "
          "--smoke)");
ABSL_FLAG(bool, keep_logs, false,
          "keep the scratch directory with the process logs");

namespace {

using Scenario = std::function<absl::Status(const quarry::bench::BenchConfig&,
                                            quarry::bench::Report&)>;

const std::map<std::string, Scenario>& Scenarios() {
  static const auto* scenarios = new std::map<std::string, Scenario>{
      {"throughput", quarry::bench::RunThroughput},
      {"latency", quarry::bench::RunLatency},
      {"wordcount", quarry::bench::RunWordcount},
      {"reads", quarry::bench::RunReads},
      {"scale", quarry::bench::RunScale},
      {"exec", quarry::bench::RunExec},
  };
  return *scenarios;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Benchmarks a local Quarry cluster. --scenarios=throughput,latency,"
      "wordcount,reads,scale,exec --smoke --cache_dir=DIR");
  absl::ParseCommandLine(argc, argv);
  quarry::testing::InstallCleanupHandlers();

  std::vector<std::string> names =
      absl::StrSplit(absl::GetFlag(FLAGS_scenarios), ',', absl::SkipEmpty());
  for (const std::string& name : names) {
    if (Scenarios().count(name) == 0) {
      std::fprintf(stderr, "unknown scenario \"%s\"\n", name.c_str());
      return 2;
    }
  }

  std::string scratch = "/tmp/quarry-bench-XXXXXX";
  if (const char* base = getenv("TMPDIR"); base != nullptr) {
    scratch = std::string(base) + "/quarry-bench-XXXXXX";
  }
  if (mkdtemp(scratch.data()) == nullptr) {
    std::perror("mkdtemp");
    return 1;
  }
  quarry::bench::BenchConfig config;
  config.cluster.leader_binary = absl::GetFlag(FLAGS_leader_binary);
  config.cluster.worker_binary = absl::GetFlag(FLAGS_worker_binary);
  config.cluster.sim_workers_binary = absl::GetFlag(FLAGS_sim_workers_binary);
  config.cluster.work_dir = scratch;
  config.smoke = absl::GetFlag(FLAGS_smoke);
  config.cache_dir = absl::GetFlag(FLAGS_cache_dir);
  config.wordcount_bytes_per_task =
      config.smoke ? 192 << 10 : absl::GetFlag(FLAGS_wordcount_bytes_per_task);
  if (config.wordcount_bytes_per_task < 0) {
    std::fprintf(stderr, "--wordcount_bytes_per_task must be >= 0\n");
    return 2;
  }
  for (const std::string& size : absl::GetFlag(FLAGS_throughput_tasks)) {
    int tasks = 0;
    if (!absl::SimpleAtoi(size, &tasks) || tasks < 1) {
      std::fprintf(stderr, "bad --throughput_tasks entry \"%s\"\n",
                   size.c_str());
      return 2;
    }
    config.throughput_tasks.push_back(tasks);
  }

  config.scale_workers = absl::GetFlag(FLAGS_scale_workers);
  config.scale_tasks = absl::GetFlag(FLAGS_scale_tasks);
  if (config.scale_workers < 0 || config.scale_tasks < 0) {
    std::fprintf(stderr,
                 "--scale_workers and --scale_tasks must not be negative\n");
    return 2;
  }

  config.exec_tasks = absl::GetFlag(FLAGS_exec_tasks);
  if (config.exec_tasks < 1) {
    std::fprintf(stderr, "--exec_tasks must be >= 1\n");
    return 2;
  }

  quarry::bench::Report report;
  std::vector<std::string> failed;
  for (const std::string& name : names) {
    std::fprintf(stderr, "==> %s%s\n", name.c_str(),
                 config.smoke ? " (smoke)" : "");
    absl::Status status = Scenarios().at(name)(config, report);
    if (!status.ok()) {
      std::fprintf(stderr, "scenario %s FAILED: %s\n", name.c_str(),
                   std::string(status.ToString()).c_str());
      failed.push_back(name);
    }
  }
  report.PrintTable();
  if (absl::GetFlag(FLAGS_keep_logs) || !failed.empty()) {
    std::fprintf(stderr, "logs kept in %s\n", scratch.c_str());
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(scratch, ignored);
  }
  if (!failed.empty()) {
    std::fprintf(stderr, "failed: %s\n", absl::StrJoin(failed, ",").c_str());
    return 1;
  }
  return 0;
}

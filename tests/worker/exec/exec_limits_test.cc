// The exec kind's limits: read from settings, set on a ProcessSpec, and
// named in the error of a run they explain (no process is started here).

#include "worker/exec/exec_limits.h"

#include <signal.h>
#include <sys/wait.h>

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "worker/exec/process_runner.h"

namespace quarry::worker {
namespace {

ProcessResult Exited(int status, std::string stderr_tail = "") {
  ProcessResult result;
  result.wait_status = W_EXITCODE(status, 0);
  result.stderr_tail = std::move(stderr_tail);
  return result;
}

ProcessResult Killed(int signal, absl::Duration cpu_time = {}) {
  ProcessResult result;
  result.wait_status = signal;
  result.cpu_time = cpu_time;
  return result;
}

ExecLimits All() {
  ExecLimits limits;
  limits.memory_bytes = int64_t{512} << 20;
  limits.cpu_time = absl::Minutes(10);
  limits.max_output_bytes = int64_t{1} << 30;
  return limits;
}

TEST(ExecLimitsTest, ReadFromSettingsAndSetOnTheSpec) {
  google::protobuf::Map<std::string, std::string> settings;
  EXPECT_FALSE(ExecLimitsFromSettings(settings).any());
  settings["memory"] = "512m";
  settings["cpu_time"] = "1500ms";
  settings["max_output"] = "1G";
  const ExecLimits limits = ExecLimitsFromSettings(settings);
  EXPECT_EQ(limits.ToString(), "memory 512M, cpu_time 1.5s, max_output 1G");

  ProcessSpec spec;
  ApplyExecLimits(limits, /*stdout_is_output=*/false, &spec);
  EXPECT_EQ(spec.memory_bytes, rlim_t{512} << 20);
  EXPECT_EQ(spec.cpu_seconds, rlim_t{2});  // Rounded up.
  EXPECT_EQ(spec.file_bytes, rlim_t{1} << 30);
  EXPECT_FALSE(spec.max_stdout_bytes.has_value());
  ApplyExecLimits(limits, /*stdout_is_output=*/true, &spec);
  EXPECT_EQ(spec.max_stdout_bytes, uint64_t{1} << 30);

  ProcessSpec unlimited;
  ApplyExecLimits(ExecLimits(), true, &unlimited);
  EXPECT_FALSE(unlimited.memory_bytes || unlimited.cpu_seconds ||
               unlimited.file_bytes || unlimited.max_stdout_bytes);
}

TEST(ExecLimitsTest, CpuLimitNamedForSigxcpuOrSigkillAfterItsTime) {
  EXPECT_EQ(DescribeExecFailure(Killed(SIGXCPU), All()),
            "cpu_time limit of 10m exceeded (killed by SIGXCPU)");
  EXPECT_EQ(DescribeExecFailure(Killed(SIGKILL, absl::Seconds(601)), All()),
            "cpu_time limit of 10m exceeded (killed by SIGKILL)");
  EXPECT_EQ(DescribeExecFailure(Exited(152), All()),
            "cpu_time limit of 10m exceeded (exit status 152: a process "
            "killed by SIGXCPU)");
  // SIGKILL before the CPU time was used: not the CPU limit.
  EXPECT_EQ(DescribeExecFailure(Killed(SIGKILL, absl::Seconds(3)), All()),
            "killed by SIGKILL (memory limit 512M was set)");
  EXPECT_EQ(DescribeExecFailure(Killed(SIGXCPU), ExecLimits()),
            "killed by SIGXCPU");
}

TEST(ExecLimitsTest, OutputLimitNamedForSigxfszAndStdout) {
  EXPECT_EQ(DescribeExecFailure(Killed(SIGXFSZ), All()),
            "max_output limit of 1G exceeded (killed by SIGXFSZ)");
  EXPECT_EQ(DescribeExecFailure(Exited(153), All()),
            "max_output limit of 1G exceeded (exit status 153: a process "
            "killed by SIGXFSZ)");
  ProcessResult stopped = Killed(SIGTERM);
  stopped.stdout_limit_exceeded = true;
  stopped.stderr_tail = "writing\n";
  EXPECT_EQ(DescribeExecFailure(stopped, All()),
            "max_output limit of 1G exceeded (stdout; killed by SIGTERM): "
            "writing");
}

TEST(ExecLimitsTest, MemoryLimitMentionedForCrashesAndExitStatuses) {
  ExecLimits memory;
  memory.memory_bytes = int64_t{512} << 20;
  for (int signal : {SIGKILL, SIGSEGV, SIGBUS, SIGABRT}) {
    EXPECT_THAT(DescribeExecFailure(Killed(signal), memory),
                ::testing::EndsWith(" (memory limit 512M was set)"));
  }
  EXPECT_EQ(DescribeExecFailure(Killed(SIGTERM), memory), "killed by SIGTERM");
  EXPECT_EQ(DescribeExecFailure(Exited(1, "MemoryError\n"), memory),
            "exit status 1 (memory limit 512M was set): MemoryError");
  EXPECT_EQ(DescribeExecFailure(Exited(2, "x\n"), All()),
            "exit status 2 (memory limit 512M and max_output limit 1G were "
            "set): x");
  ExecLimits cpu_only;
  cpu_only.cpu_time = absl::Seconds(5);
  EXPECT_EQ(DescribeExecFailure(Exited(2, "x\n"), cpu_only),
            "exit status 2: x");
  EXPECT_EQ(DescribeExecFailure(Exited(0), All()), "");
}

TEST(ExecLimitsTest, StartErrorsMentionAMemoryLimit) {
  const absl::Status enomem = absl::ResourceExhaustedError(
      "cannot start \"big\": execve: Cannot allocate memory");
  EXPECT_EQ(DescribeExecStartError(enomem, All()).message(),
            "cannot start \"big\": execve: Cannot allocate memory (memory "
            "limit 512M was set)");
  EXPECT_EQ(DescribeExecStartError(enomem, ExecLimits()), enomem);
  const absl::Status missing = absl::NotFoundError("cannot start");
  EXPECT_EQ(DescribeExecStartError(missing, All()), missing);
}

}  // namespace
}  // namespace quarry::worker

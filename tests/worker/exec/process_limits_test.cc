// Resource limits of a run: set in the program only (not its supervisor),
// and how a run that exceeds one ends and is described by the exec kind
// (worker/exec/exec_limits.h).

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"
#include "tests/worker/exec/process_test_util.h"
#include "worker/exec/exec_limits.h"
#include "worker/exec/process_runner.h"

namespace quarry::worker {
namespace {

using exec_testing::Outcome;
using exec_testing::ReadProcFile;
using exec_testing::RunSpec;
using exec_testing::Spec;
using ::quarry::testing::TempDir;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr rlim_t kMiB = 1 << 20;

// The line of /proc/<pid>/limits text `limits` that starts with `name`.
std::string LimitLine(const std::string& limits, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(limits, '\n')) {
    if (absl::StartsWith(line, name)) return std::string(line);
  }
  return "";
}

TEST(ProcessRunnerLimitsTest, LimitsAreTheProgramsNotTheSupervisors) {
  // The shell's parent is the supervisor.
  ProcessSpec spec =
      Spec({"/bin/sh", "-c",
            "cat /proc/self/limits; echo ===; cat /proc/$PPID/limits"});
  spec.memory_bytes = 256 * kMiB;
  spec.cpu_seconds = 7;
  spec.file_bytes = 3 * kMiB;
  Outcome outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  ASSERT_TRUE(outcome.result->exited_ok()) << outcome.result->Describe();
  const std::vector<std::string> parts = absl::StrSplit(outcome.out, "===\n");
  ASSERT_EQ(parts.size(), 2u) << outcome.out;
  const std::string& program = parts[0];
  const std::string& shim = parts[1];
  EXPECT_THAT(LimitLine(program, "Max cpu time"),
              ::testing::MatchesRegex("Max cpu time +7 +8 +seconds *"));
  EXPECT_THAT(
      LimitLine(program, "Max file size"),
      ::testing::MatchesRegex("Max file size +3145728 +3145728 +bytes *"));
  EXPECT_THAT(LimitLine(program, "Max address space"),
              ::testing::MatchesRegex(
                  "Max address space +268435456 +268435456 +bytes *"));
  const std::string ours = ReadProcFile("/proc/self/limits");
  for (const char* name : {"Max cpu time", "Max file size", "Max address"}) {
    EXPECT_EQ(LimitLine(shim, name), LimitLine(ours, name)) << name;
  }
}

TEST(ProcessRunnerLimitsTest, CpuLimitEndsABusyLoopWithSigxcpu) {
  ProcessSpec spec = Spec({"/bin/sh", "-c", "while :; do :; done"});
  spec.cpu_seconds = 1;
  const absl::Time start = absl::Now();
  Outcome outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  // One CPU second, however busy the machine is: a generous bound.
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
  EXPECT_EQ(outcome.result->Describe(), "killed by SIGXCPU");
  EXPECT_GE(outcome.result->cpu_time, absl::Milliseconds(900));
  ExecLimits limits;
  limits.cpu_time = absl::Seconds(1);
  EXPECT_EQ(DescribeExecFailure(*outcome.result, limits),
            "cpu_time limit of 1s exceeded (killed by SIGXCPU)");
}

TEST(ProcessRunnerLimitsTest, IgnoredSigxcpuIsFollowedBySigkill) {
  ProcessSpec spec =
      Spec({"/bin/sh", "-c", "trap '' XCPU; while :; do :; done"});
  spec.cpu_seconds = 1;
  Outcome outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.result->Describe(), "killed by SIGKILL");
  EXPECT_GE(outcome.result->cpu_time, absl::Seconds(1));
  ExecLimits limits;
  limits.cpu_time = absl::Seconds(1);
  limits.memory_bytes = 64 * kMiB;  // cpu_time explains it better.
  EXPECT_EQ(DescribeExecFailure(*outcome.result, limits),
            "cpu_time limit of 1s exceeded (killed by SIGKILL)");
}

TEST(ProcessRunnerLimitsTest, FileLimitStopsAWriteWithSigxfsz) {
  TempDir dir;
  ExecLimits limits;
  limits.max_output_bytes = kMiB;
  // The program itself writes the file: it gets SIGXFSZ.
  const std::string direct = dir.Join("direct");
  const int fd =
      open(direct.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ProcessSpec spec = Spec({"head", "-c", "10M", "/dev/zero"});
  spec.stdout_fd = fd;
  spec.file_bytes = kMiB;
  Outcome outcome = RunSpec(spec);
  close(fd);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.result->Describe(), "killed by SIGXFSZ");
  EXPECT_EQ(std::filesystem::file_size(direct), kMiB);
  EXPECT_EQ(DescribeExecFailure(*outcome.result, limits),
            "max_output limit of 1M exceeded (killed by SIGXFSZ)");

  // A shell's command gets it; the shell exits 128 + SIGXFSZ (or, had it
  // exec'd the command, is killed by it).
  spec = Spec({"/bin/sh", "-c", "head -c 10M /dev/zero > f"});
  spec.working_dir = dir.path();
  spec.file_bytes = kMiB;
  outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_THAT(outcome.result->Describe(), AnyOf(StartsWith("killed by SIGXFSZ"),
                                                StartsWith("exit status 153")));
  EXPECT_EQ(std::filesystem::file_size(dir.Join("f")), kMiB);
  EXPECT_THAT(DescribeExecFailure(*outcome.result, limits),
              StartsWith("max_output limit of 1M exceeded ("));

  // With SIGXFSZ ignored, the write fails with EFBIG instead.
  spec.argv[2] = "trap '' XFSZ; head -c 10M /dev/zero > f";
  outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_THAT(DescribeExecFailure(*outcome.result, limits),
              ::testing::AllOf(StartsWith("exit status 1 (max_output limit 1M "
                                          "was set): head: error writing"),
                               HasSubstr("File too large")));
}

TEST(ProcessRunnerLimitsTest, MemoryLimitFailsABigAllocation) {
  // The shell keeps a command substitution's output in memory.
  ProcessSpec spec =
      Spec({"/bin/sh", "-c",
            "a=$(head -c 200000000 /dev/zero | tr '\\0' a); echo ${#a}"});
  spec.memory_bytes = 64 * kMiB;
  Outcome outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_FALSE(outcome.result->exited_ok()) << outcome.out;
  ExecLimits limits;
  limits.memory_bytes = 64 * kMiB;
  EXPECT_THAT(DescribeExecFailure(*outcome.result, limits),
              HasSubstr("(memory limit 64M was set)"));

  // A small one fits.
  spec.argv[2] = "a=$(head -c 100000 /dev/zero | tr '\\0' a); echo ${#a}";
  outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_TRUE(outcome.result->exited_ok()) << outcome.result->Describe();
  EXPECT_EQ(outcome.out, "100000\n");
}

TEST(ProcessRunnerLimitsTest, StdoutBeyondItsLimitStopsTheProgram) {
  ProcessSpec spec = Spec({"yes"});
  spec.max_stdout_bytes = 100000;
  spec.kill_grace = absl::Seconds(2);
  Outcome outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.out.size(), 100000u);
  EXPECT_TRUE(outcome.result->stdout_limit_exceeded);
  EXPECT_FALSE(outcome.result->exited_ok());
  EXPECT_EQ(outcome.result->Describe(),
            "stdout beyond the limit (killed by SIGTERM)");
  ExecLimits limits;
  limits.max_output_bytes = 100000;
  EXPECT_EQ(DescribeExecFailure(*outcome.result, limits),
            "max_output limit of 100000 exceeded (stdout; killed by SIGTERM)");

  // Exactly the limit is fine.
  spec.argv = {"head", "-c", "100000", "/dev/zero"};
  outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_TRUE(outcome.result->exited_ok()) << outcome.result->Describe();
  EXPECT_EQ(outcome.out.size(), 100000u);
}

TEST(ProcessRunnerLimitsTest, BadLimitsAreInvalidArguments) {
  ProcessSpec spec = Spec({"true"});
  spec.memory_bytes = 0;
  EXPECT_THAT(RunSpec(spec).result.status().message(),
              HasSubstr("memory_bytes 0 is not in [1, RLIM_INFINITY)"));
  spec = Spec({"true"});
  spec.cpu_seconds = RLIM_INFINITY;
  EXPECT_EQ(RunSpec(spec).result.status().code(),
            absl::StatusCode::kInvalidArgument);
  spec = Spec({"true"});
  spec.stdout_fd = 1;
  spec.max_stdout_bytes = 10;
  EXPECT_THAT(RunSpec(spec).result.status().message(),
              HasSubstr("max_stdout_bytes is for captured stdout only"));
}

}  // namespace
}  // namespace quarry::worker

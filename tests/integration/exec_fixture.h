#ifndef QUARRY_TESTS_INTEGRATION_EXEC_FIXTURE_H_
#define QUARRY_TESTS_INTEGRATION_EXEC_FIXTURE_H_

// The fixture of the exec kind's end-to-end tests: a real leader and
// workers started with --allow_exec, and helpers that read the process
// table and run commands locally for comparison.
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/job_kinds.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/testing/local_cluster.h"
#include "tests/testing/rpc.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace quarry::testing {

class ExecTest : public ClusterFixture {
 protected:
  using JobSpec = quarry::v1::JobSpec;

  void SetUp() override {
    ClusterFixture::SetUp();
    // Commands run as nobody when the worker is root: the test's files
    // must be readable, and its directories searchable, by anyone.
    chmod(cluster_->dir().c_str(), 0755);
  }

  void StartExecWorkers(int count, int slots) {
    for (int i = 1; i <= count; ++i) {
      ASSERT_TRUE(
          cluster_
              ->StartWorker(absl::StrCat("worker-", i), slots, {"--allow_exec"})
              .ok());
    }
    ASSERT_TRUE(cluster_->WaitForAliveWorkers(count).ok());
  }

  // Files in-00000.txt .. of distinct text.
  std::vector<std::string> WriteInputs(const std::string& dir, int count) {
    std::filesystem::create_directories(dir);
    std::vector<std::string> files;
    for (int i = 0; i < count; ++i) {
      const std::string path = absl::StrFormat("%s/in-%05d.txt", dir, i);
      std::ofstream(path) << "file " << i << "\nhello World " << i * 7919
                          << "\n";
      chmod(path.c_str(), 0644);
      files.push_back(path);
    }
    return files;
  }

  JobSpec Exec(const std::vector<std::string>& command,
               const std::string& input, const std::string& output) {
    JobSpec spec;
    spec.set_kind(std::string(kExecKind));
    for (const std::string& word : command) spec.add_command(word);
    if (!input.empty()) spec.add_inputs(input);
    if (input.empty()) (*spec.mutable_settings())["tasks"] = "1";
    spec.set_output_dir(output);
    return spec;
  }

  // Runs `job` to its end (it must FAIL) and returns its error.
  std::string RunToFailure(const JobSpec& spec) {
    absl::StatusOr<std::string> id = cluster_->Submit(spec);
    EXPECT_TRUE(id.ok()) << id.status();
    if (!id.ok()) return "";
    absl::StatusOr<quarry::v1::Job> job = cluster_->WaitForJob(*id);
    EXPECT_TRUE(job.ok()) << job.status();
    if (!job.ok()) return "";
    EXPECT_EQ(job->state(), quarry::v1::JOB_STATE_FAILED);
    return job->error();
  }
};

// How many processes run `sleep DURATION` (a duration unique to the test
// marks its processes).
inline int CountSleeps(const std::string& duration) {
  const std::string wanted = absl::StrCat("sleep", std::string(1, '\0'),
                                          duration, std::string(1, '\0'));
  int count = 0;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    if (cmdline == wanted) ++count;
  }
  return count;
}

// Waits (polling the process table, bounded) until `count` of them run.
inline bool WaitForSleeps(const std::string& duration, int count,
                   absl::Duration timeout = absl::Seconds(15)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (CountSleeps(duration) != count) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));  // Poll interval, not a wait.
  }
  return true;
}

// What `argv` prints on stdout when run here by the test.
inline std::string RunLocally(const std::vector<std::string>& argv) {
  std::string output;
  std::vector<std::string> command = {"/usr/bin/env"};
  command.insert(command.end(), argv.begin(), argv.end());
  absl::StatusOr<int> code = RunCommand(command, &output);
  EXPECT_TRUE(code.ok() && *code == 0) << absl::StrJoin(argv, " ");
  return output;
}

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_INTEGRATION_EXEC_FIXTURE_H_

#include "worker/exec/process_runner.h"

#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"
#include "tests/worker/exec/process_test_util.h"
#include "worker/cancel_flag.h"

namespace quarry::worker {
namespace {

using exec_testing::ChildrenOf;
using exec_testing::MarkedSleep;
using exec_testing::Outcome;
using exec_testing::ReapWithin;
using exec_testing::RunSpec;
using exec_testing::Spec;
using ::quarry::testing::TempDir;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Runs `spec` on a thread, cancels it once its stdout holds "started" and
// returns how it ended, how long it took from the cancel, and how many
// marked processes there were just before (waiting for `expected`).
struct CancelledRun {
  Outcome outcome;
  absl::Duration took;
  size_t marked_before = 0;
};
CancelledRun RunAndCancelWhenStarted(const ProcessSpec& spec,
                                     const MarkedSleep& marked,
                                     size_t expected) {
  CancelledRun run;
  CancelFlag cancel;
  absl::Notification started;
  std::thread runner([&] {
    run.outcome = RunSpec(spec, cancel, [&](const std::string& out) {
      if (absl::StrContains(out, "started") && !started.HasBeenNotified()) {
        started.Notify();
      }
      return absl::OkStatus();
    });
  });
  EXPECT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(30)));
  run.marked_before = marked.WaitForAtLeast(expected, absl::Seconds(10));
  const absl::Time cancelled_at = absl::Now();
  cancel.Cancel();
  runner.join();
  run.took = absl::Now() - cancelled_at;
  return run;
}

TEST(ProcessRunnerTest, ExitZeroWithCapturedStdout) {
  Outcome outcome = RunSpec(Spec({"/bin/sh", "-c", "printf 'hello\\nworld'"}));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_TRUE(outcome.result->exited_ok());
  EXPECT_EQ(outcome.result->Describe(), "");
  EXPECT_EQ(outcome.out, "hello\nworld");
  EXPECT_TRUE(outcome.err_lines.empty());
}

TEST(ProcessRunnerTest, LargeStdoutArrivesWhole) {
  Outcome outcome =
      RunSpec(Spec({"/bin/sh", "-c", "yes abcdefg | head -c 5242880"}));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_TRUE(outcome.result->exited_ok());
  ASSERT_EQ(outcome.out.size(), 5242880u);
  std::string expected;
  while (expected.size() < outcome.out.size()) expected += "abcdefg\n";
  expected.resize(outcome.out.size());
  EXPECT_TRUE(outcome.out == expected);
}

TEST(ProcessRunnerTest, StdoutFdWritesTheFile) {
  TempDir dir;
  const std::string path = dir.Join("out.txt");
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  ProcessSpec spec = Spec({"echo", "to", "file"});
  spec.stdout_fd = fd;
  Outcome outcome = RunSpec(spec);
  close(fd);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.out, "");
  std::ifstream in(path);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "to file\n");
}

TEST(ProcessRunnerTest, ExitStatusWithStderr) {
  Outcome outcome =
      RunSpec(Spec({"/bin/sh", "-c", "echo 'bad input' >&2; exit 3"}));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_FALSE(outcome.result->exited_ok());
  EXPECT_EQ(outcome.result->Describe(), "exit status 3: bad input");
  EXPECT_EQ(outcome.result->stderr_tail, "bad input\n");
  EXPECT_THAT(outcome.err_lines, ElementsAre("bad input"));
}

TEST(ProcessRunnerTest, KilledBySignal) {
  Outcome outcome =
      RunSpec(Spec({"/bin/sh", "-c", "echo crashing >&2; kill -SEGV $$"}));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.result->Describe(), "killed by SIGSEGV: crashing");
  EXPECT_EQ(RunSpec(Spec({"false"})).result->Describe(), "exit status 1");
}

TEST(ProcessRunnerTest, StderrTailKeepsWholeLastLines) {
  Outcome outcome =
      RunSpec(Spec({"/bin/sh", "-c",
                    "for i in $(seq 300); do echo line $i >&2; done; "
                    "head -c 9000 /dev/zero | tr '\\0' x >&2; exit 2"}));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  ASSERT_EQ(outcome.err_lines.size(), 303u);  // 9000 bytes: 4096+4096+808.
  EXPECT_EQ(outcome.err_lines[299], "line 300");
  EXPECT_EQ(outcome.err_lines[300], std::string(4096, 'x'));
  EXPECT_EQ(outcome.err_lines[302], std::string(808, 'x'));
  EXPECT_EQ(outcome.result->stderr_tail, std::string(2048, 'x'));
  EXPECT_EQ(outcome.result->Describe(),
            absl::StrCat("exit status 2: ", std::string(500, 'x')));

  outcome =
      RunSpec(Spec({"/bin/sh", "-c",
                    "for i in $(seq 300); do echo line $i >&2; done; exit 4"}));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_THAT(outcome.result->stderr_tail, StartsWith("line "));
  EXPECT_LE(outcome.result->stderr_tail.size(), 2048u);
  EXPECT_EQ(outcome.result->Describe(),
            "exit status 4: line 298\nline 299\nline 300");
}

TEST(ProcessRunnerTest, ProgramNotFound) {
  Outcome outcome = RunSpec(Spec({"no-such-program-q7", "x"}));
  EXPECT_EQ(
      outcome.result.status(),
      absl::NotFoundError("cannot start \"no-such-program-q7\": searched PATH "
                          "\"/usr/bin:/bin\": No such file or directory"));
  outcome = RunSpec(Spec({"/no/such/program"}));
  EXPECT_EQ(outcome.result.status(),
            absl::NotFoundError("cannot start \"/no/such/program\": execve: "
                                "No such file or directory"));
}

TEST(ProcessRunnerTest, ProgramNotExecutable) {
  TempDir dir;
  const std::string script = dir.WriteFile("script.sh", "#!/bin/sh\necho hi\n");
  ASSERT_EQ(chmod(script.c_str(), 0644), 0);
  Outcome outcome = RunSpec(Spec({script}));
  EXPECT_EQ(outcome.result.status(),
            absl::PermissionDeniedError(absl::StrCat(
                "cannot start \"", script, "\": execve: Permission denied")));
  const std::string text = dir.WriteFile("text", "echo no shebang\n");
  ASSERT_EQ(chmod(text.c_str(), 0755), 0);
  outcome = RunSpec(Spec({text}));
  EXPECT_EQ(outcome.result.status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(outcome.result.status().message(),
              HasSubstr("Exec format error"));
}

TEST(ProcessRunnerTest, WorkingDirMissing) {
  ProcessSpec spec = Spec({"pwd"});
  spec.working_dir = "/no/such/dir";
  EXPECT_EQ(RunSpec(spec).result.status(),
            absl::NotFoundError("cannot start \"pwd\": working_dir "
                                "\"/no/such/dir\": No such file or directory"));
}

TEST(ProcessRunnerTest, BadSpecsAreInvalidArguments) {
  const int read_only = open("/dev/null", O_RDONLY | O_CLOEXEC);
  std::vector<ProcessSpec> specs(9, Spec({"true"}));
  specs[0].argv.clear();
  specs[1].argv = {""};
  specs[2].argv = {"echo", std::string("a\0b", 3)};
  specs[3].env = {"NO_EQUALS"};
  specs[4].working_dir = "";
  specs[5].uid = 65534;          // Without gid.
  specs[6].stdout_fd = 1 << 20;  // Not open.
  specs[7].stdout_fd = read_only;
  specs[8].kill_grace = -absl::Seconds(1);
  for (const ProcessSpec& spec : specs) {
    EXPECT_EQ(RunSpec(spec).result.status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  close(read_only);
}

TEST(ProcessRunnerTest, EnvironmentAndWorkingDirAreThoseGiven) {
  ProcessSpec spec = Spec({"env"});
  spec.env = {"PATH=/usr/bin", "A=1", "B=two words"};
  Outcome outcome = RunSpec(spec);
  EXPECT_EQ(outcome.out, "PATH=/usr/bin\nA=1\nB=two words\n");

  TempDir dir;  // A relative argv[0] is found in working_dir.
  ASSERT_EQ(chmod(dir.WriteFile("where.sh", "#!/bin/sh\npwd\n").c_str(), 0755),
            0);
  spec = Spec({"./where.sh"});
  spec.working_dir = dir.path();
  outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.out,
            std::filesystem::canonical(dir.path()).string() + "\n");
}

TEST(ProcessRunnerTest, OnlyStdioIsOpenWithDefaultSignals) {
  // As in the worker: SIGPIPE ignored, SIGINT and SIGTERM blocked, and a
  // descriptor without CLOEXEC.
  struct sigaction ignore = {}, previous_action = {};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &previous_action);
  sigset_t blocked, previous_mask;
  sigemptyset(&blocked);
  sigaddset(&blocked, SIGINT);
  sigaddset(&blocked, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &blocked, &previous_mask);
  const int leaked = open("/dev/null", O_RDONLY);
  Outcome outcome = RunSpec(
      Spec({"/bin/sh", "-c",
            "ls /proc/$$/fd; readlink /proc/$$/fd/0; "
            "grep -E '^Sig(Blk|Ign)' /proc/self/status; yes | head -c 2"}));
  close(leaked);
  pthread_sigmask(SIG_SETMASK, &previous_mask, nullptr);
  sigaction(SIGPIPE, &previous_action, nullptr);
  EXPECT_EQ(outcome.out,
            "0\n1\n2\n/dev/null\nSigBlk:\t0000000000000000\n"
            "SigIgn:\t0000000000000000\ny\n");
  EXPECT_TRUE(outcome.err_lines.empty());  // yes died of SIGPIPE, silently.
}

TEST(ProcessRunnerTest, CancelStopsTheWholeGroup) {
  MarkedSleep marked;
  ProcessSpec spec =
      Spec({"/bin/sh", "-c", marked.Background(2) + "echo started; wait"});
  spec.kill_grace = absl::Seconds(3);
  CancelledRun run = RunAndCancelWhenStarted(spec, marked, 3);
  EXPECT_GE(run.marked_before, 3u);  // The shell and two sleeps.
  EXPECT_EQ(run.outcome.result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_LT(run.took, spec.kill_grace);  // SIGTERM was enough.
  EXPECT_TRUE(marked.WaitUntilGone(absl::Seconds(5)));
}

TEST(ProcessRunnerTest, CancelKillsWhatIgnoresSigterm) {
  MarkedSleep marked;
  ProcessSpec spec =
      Spec({"/bin/sh", "-c",
            "trap '' TERM; " + marked.Background(1) + "echo started; wait"});
  spec.kill_grace = absl::Milliseconds(700);
  CancelledRun run = RunAndCancelWhenStarted(spec, marked, 2);
  EXPECT_GE(run.marked_before, 2u);
  EXPECT_EQ(run.outcome.result.status().code(), absl::StatusCode::kCancelled);
  EXPECT_GE(run.took, absl::Milliseconds(650));
  EXPECT_LT(run.took, spec.kill_grace + absl::Seconds(2));
  EXPECT_TRUE(marked.WaitUntilGone(absl::Seconds(5)));
}

TEST(ProcessRunnerTest, NothingOutlivesAFinishedProgram) {
  MarkedSleep marked;
  // A background child, and one in a session of its own.
  Outcome outcome =
      RunSpec(Spec({"/bin/sh", "-c",
                    marked.Background(1) + marked.Escapee() + "echo done"}));
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_TRUE(outcome.result->exited_ok());
  EXPECT_EQ(outcome.out, "done\n");
  EXPECT_THAT(marked.Processes(), ElementsAre());  // Gone on return.
}

TEST(ProcessRunnerTest, StdoutErrorStopsTheTree) {
  MarkedSleep marked;
  ProcessSpec spec =
      Spec({"/bin/sh", "-c", marked.Background(1) + "echo started; wait"});
  Outcome outcome = RunSpec(spec, CancelFlag(), [](const std::string&) {
    return absl::ResourceExhaustedError("disk full");
  });
  EXPECT_EQ(outcome.result.status(), absl::ResourceExhaustedError("disk full"));
  EXPECT_THAT(marked.Processes(), ElementsAre());
}

TEST(ProcessRunnerTest, SupervisorKeepsNoOtherDescriptor) {
  // Open while the run starts, like another attempt's pipe: closing our
  // write end must give EOF at once, not when the run ends.
  int other[2];
  ASSERT_EQ(pipe2(other, O_CLOEXEC), 0);
  MarkedSleep marked;
  CancelFlag cancel;
  absl::Notification started;
  std::thread runner([&] {
    RunSpec(
        Spec({"/bin/sh", "-c", marked.Background(1) + "echo started; wait"}),
        cancel, [&](const std::string&) {
          if (!started.HasBeenNotified()) started.Notify();
          return absl::OkStatus();
        });
  });
  EXPECT_TRUE(started.WaitForNotificationWithTimeout(absl::Seconds(30)));
  close(other[1]);
  pollfd readable = {other[0], POLLIN, 0};
  char byte;
  const bool eof =
      poll(&readable, 1, 5000) == 1 && read(other[0], &byte, 1) == 0;
  EXPECT_TRUE(eof);
  cancel.Cancel();
  runner.join();
  close(other[0]);
}

TEST(ProcessRunnerTest, WorkerDeathKillsTheTree) {
  // The stand-in worker's shim, orphaned, is re-parented to us (a child
  // subreaper) to be reaped: no zombie is left to an init that reaps none.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  MarkedSleep marked;
  const std::vector<std::string> args = {
      QUARRY_RUN_PROCESS_MAIN, "/bin/sh", "-c",
      marked.Background(2) + marked.Escapee() + "echo started; wait"};
  std::vector<char*> argv;
  for (const std::string& arg : args)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  const pid_t worker = fork();
  ASSERT_GE(worker, 0);
  if (worker == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(out[1], STDOUT_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  std::string seen;  // The stand-in worker's stdout, up to "started".
  pollfd readable = {out[0], POLLIN, 0};
  while (!absl::StrContains(seen, "started") && poll(&readable, 1, 30000) > 0) {
    char buffer[256];
    const ssize_t size = read(out[0], buffer, sizeof(buffer));
    if (size <= 0) break;
    seen.append(buffer, size);
  }
  EXPECT_THAT(seen, HasSubstr("started"));
  // The stand-in worker, the shell, three sleeps.
  EXPECT_GE(marked.WaitForAtLeast(5, absl::Seconds(10)), 5u);
  const std::vector<pid_t> shims = ChildrenOf(worker);
  EXPECT_EQ(shims.size(), 1u);
  kill(worker, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(worker, &status, 0), worker);
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_TRUE(marked.WaitUntilGone(absl::Seconds(5)));
  for (pid_t shim : shims) {
    EXPECT_EQ(ReapWithin(shim, absl::Seconds(10)), 0);  // Exit 0: all reaped.
  }
  prctl(PR_SET_CHILD_SUBREAPER, 0);
  close(out[0]);
}

TEST(ProcessRunnerTest, RunsAsAnotherUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  const passwd* entry = getpwnam("nobody");
  if (entry == nullptr) GTEST_SKIP() << "no user nobody";
  const uid_t uid = entry->pw_uid;
  const gid_t gid = entry->pw_gid;
  ProcessSpec spec = Spec({"/bin/sh", "-c", "id -u; id -g; id -G"});
  spec.uid = uid;
  spec.gid = gid;
  Outcome outcome = RunSpec(spec);
  ASSERT_TRUE(outcome.result.ok()) << outcome.result.status();
  EXPECT_EQ(outcome.out, absl::StrCat(uid, "\n", gid, "\n", gid, "\n"));

  TempDir dir;  // The user's own permissions apply to working_dir.
  ASSERT_EQ(chmod(dir.path().c_str(), 0700), 0);
  spec.working_dir = dir.path();
  EXPECT_EQ(RunSpec(spec).result.status(),
            absl::PermissionDeniedError(
                absl::StrCat("cannot start \"/bin/sh\": working_dir \"",
                             dir.path(), "\": Permission denied")));
}

}  // namespace
}  // namespace quarry::worker

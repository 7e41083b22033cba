// Configuration of the real daemons from the environment (QUARRY_<FLAG>),
// and the docs' table of variables checked against the flags they define.
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/status_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "quarry/v1/cluster_service.grpc.pb.h"
#include "re2/re2.h"
#include "tests/testing/local_cluster.h"

namespace quarry::testing {
namespace {

using ::testing::HasSubstr;

// Runs `binary` with `env` ("NAME=value") added to its environment.
std::vector<std::string> WithEnvironment(
    const std::vector<std::string>& env, const std::string& binary,
    const std::vector<std::string>& flags = {}) {
  std::vector<std::string> argv = {"/usr/bin/env"};
  argv.insert(argv.end(), env.begin(), env.end());
  argv.push_back(binary);
  argv.insert(argv.end(), flags.begin(), flags.end());
  return argv;
}

TEST(ConfigTest, EnvironmentConfiguresDaemonsAndCommandLineWins) {
  TempDir dir;
  const std::string env_port_file = dir.path() + "/env.port";
  const std::string flag_port_file = dir.path() + "/flag.port";
  absl::StatusOr<Subprocess> leader = Subprocess::Start(
      WithEnvironment(
          {"QUARRY_LISTEN=127.0.0.1:0", "QUARRY_PORT_FILE=" + env_port_file},
          LeaderBinary(), {"--port_file=" + flag_port_file}),
      dir.path() + "/leader.log");
  ASSERT_TRUE(leader.ok()) << leader.status();
  absl::StatusOr<int> port =
      WaitForPortFile(flag_port_file, *leader, absl::Seconds(20));
  ASSERT_TRUE(port.ok()) << port.status()
                         << TailOfFile(dir.path() + "/leader.log", 20);
  EXPECT_NE(*port, 7070) << "QUARRY_LISTEN was ignored";
  EXPECT_FALSE(std::ifstream(env_port_file).good())
      << "QUARRY_PORT_FILE won over --port_file";

  // A worker configured by the environment alone.
  const std::string leader_address = absl::StrCat("127.0.0.1:", *port);
  absl::StatusOr<Subprocess> worker = Subprocess::Start(
      WithEnvironment(
          {"QUARRY_LEADER=" + leader_address, "QUARRY_ID=from-env",
           "QUARRY_SLOTS=3", "QUARRY_LABEL=zone=env", "QUARRY_DRAIN_GRACE=1s"},
          WorkerBinary()),
      dir.path() + "/worker.log");
  ASSERT_TRUE(worker.ok()) << worker.status();
  auto cluster = quarry::v1::ClusterService::NewStub(
      grpc::CreateChannel(leader_address, grpc::InsecureChannelCredentials()));
  quarry::v1::GetClusterResponse state;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline && state.workers().empty()) {
    state.Clear();
    cluster->GetCluster(ContextWithDeadline(absl::Seconds(2)).get(), {}, &state)
        .ok();
    if (state.workers().empty()) absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(state.workers_size(), 1)
      << TailOfFile(dir.path() + "/worker.log", 20);
  EXPECT_EQ(state.workers(0).id(), "from-env");
  EXPECT_EQ(state.workers(0).slots(), 3);
  EXPECT_EQ(state.workers(0).labels().at("zone"), "env");
  EXPECT_EQ(worker->Stop(absl::Seconds(10)), 0);
  EXPECT_EQ(leader->Stop(absl::Seconds(10)), 0);
}

TEST(ConfigTest, BadEnvironmentValueExitsWith2NamingTheVariable) {
  std::string output;
  absl::StatusOr<int> code = RunCommand(
      WithEnvironment({"QUARRY_SLOTS=many"}, WorkerBinary()), &output);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 2) << output;
  EXPECT_THAT(output, HasSubstr("QUARRY_SLOTS=\"many\" is not a valid value "
                                "for --slots"));

  code = RunCommand(WithEnvironment({"QUARRY_TICK=soon"}, LeaderBinary()),
                    &output);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 2) << output;
  EXPECT_THAT(output, HasSubstr("QUARRY_TICK=\"soon\""));
}

TEST(ConfigTest, BadMetricsAddressIsRefused) {
  std::string output;
  absl::StatusOr<int> code =
      RunCommand({WorkerBinary(), "--metrics_listen=no-port-here"}, &output);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 2) << output;
  EXPECT_THAT(output, HasSubstr("--metrics_listen"));

  code = RunCommand({LeaderBinary(), "--listen=127.0.0.1:0",
                     "--metrics_listen=127.0.0.1:70000"},
                    &output);
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_NE(*code, 0) << output;
  EXPECT_THAT(output, HasSubstr("--metrics_listen"));
}

// The flags `binary --help` lists (those Quarry defines).
std::set<std::string> HelpFlags(const std::string& binary) {
  std::string help;
  EXPECT_TRUE(RunCommand({binary, "--help"}, &help).ok());
  std::set<std::string> flags;
  std::string name;
  re2::StringPiece input(help);
  while (RE2::FindAndConsume(&input, R"(\n\s+--([a-z0-9_]+) \()", &name)) {
    flags.insert(name);
  }
  return flags;
}

TEST(ConfigTest, OperationsGuideListsEveryDaemonFlag) {
  std::ifstream in(std::string(QUARRY_SOURCE_DIR) + "/docs/operations.md");
  ASSERT_TRUE(in.good());
  std::stringstream guide;
  guide << in.rdbuf();
  for (const std::string& binary : {LeaderBinary(), WorkerBinary()}) {
    const std::set<std::string> flags = HelpFlags(binary);
    EXPECT_GE(flags.size(), 5u) << binary << " --help lists too few flags";
    for (const std::string& flag : flags) {
      const std::string row = absl::StrCat(
          "`QUARRY_", absl::AsciiStrToUpper(flag), "` | `--", flag, "`");
      EXPECT_TRUE(absl::StrContains(guide.str(), row))
          << "docs/operations.md lacks the row \"| " << row << " |\" ("
          << binary << ")";
    }
  }
}

}  // namespace
}  // namespace quarry::testing

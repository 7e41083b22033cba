#ifndef QUARRY_TESTS_CLI_COMMAND_FIXTURE_H_
#define QUARRY_TESTS_CLI_COMMAND_FIXTURE_H_

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/server_util.h"
#include "tests/cli/fake_leader.h"

// Runs `quarry` commands in-process against a fake leader: a real gRPC
// server on 127.0.0.1:0 serving FakeJobService and FakeClusterService (and
// the standard health service).
namespace quarry::cli::testing {

// Nothing listens on port 1: connecting fails at once.
inline constexpr char kDeadLeader[] = "127.0.0.1:1";

struct Outcome {
  int code = -1;
  std::string out;
  std::string err;
};

class CommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<StartedServer> started =
        StartGrpcServer("127.0.0.1:0", {&jobs_, &cluster_});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    leader_ = "127.0.0.1:" + std::to_string(server_.port);
    ctx_.sleep = [](absl::Duration) {};  // Retry and poll at once.
  }
  void TearDown() override {
    jobs_.release_hang.Notify();
    if (server_.server != nullptr) server_.server->Shutdown();
  }

  // Runs `quarry --leader <fake> args...` from /home/user.
  Outcome Run(std::vector<std::string> args, const std::string& leader = "") {
    args.insert(args.begin(), {"--leader", leader.empty() ? leader_ : leader});
    std::ostringstream out;
    std::ostringstream err;
    ctx_.out = &out;
    ctx_.err = &err;
    const int code = RunQuarry(args, {"", "/home/user"}, ctx_);
    return {code, out.str(), err.str()};
  }

  FakeJobService jobs_;
  FakeClusterService cluster_;
  StartedServer server_;
  std::string leader_;
  CommandContext ctx_;
};

}  // namespace quarry::cli::testing

#endif  // QUARRY_TESTS_CLI_COMMAND_FIXTURE_H_

#include "common/server_util.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;

TEST(StartGrpcServerTest, PicksAFreePortForPortZero) {
  absl::StatusOr<StartedServer> started = StartGrpcServer("127.0.0.1:0", {});
  ASSERT_TRUE(started.ok()) << started.status();
  EXPECT_GT(started->port, 0);
  started->server->Shutdown();
}

TEST(StartGrpcServerTest, APortInUseIsAnErrorNotAShare) {
  // Two leaders on one HOST:PORT would split the clients between them.
  absl::StatusOr<StartedServer> first = StartGrpcServer("127.0.0.1:0", {});
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string address = absl::StrCat("127.0.0.1:", first->port);
  absl::StatusOr<StartedServer> second = StartGrpcServer(address, {});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(second.status().message(),
              HasSubstr(absl::StrCat("cannot listen on ", address)));
  first->server->Shutdown();
}

TEST(StartGrpcServerTest, BadAddressNamesTheFlag) {
  absl::StatusOr<StartedServer> started = StartGrpcServer("nonsense", {});
  EXPECT_EQ(started.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(started.status().message(), HasSubstr("--listen"));
}

TEST(RepeatedFlagValuesTest, KeepsEveryOccurrenceInOrder) {
  std::vector<std::string> args = {"quarry-leader",
                                   "--data_root=/a",
                                   "--listen",
                                   "x:1",
                                   "--data_root",
                                   "/b:ro",
                                   "-data_root=/c,/d",
                                   "-data_root",
                                   "/e",
                                   "--data_rootx=/no",
                                   "--data_root_x",
                                   "/no",
                                   "--",
                                   "--data_root=/after-dashes"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  EXPECT_THAT(RepeatedFlagValues(static_cast<int>(argv.size()), argv.data(),
                                 "data_root"),
              ::testing::ElementsAre("/a", "/b:ro", "/c,/d", "/e"));
  EXPECT_TRUE(RepeatedFlagValues(2, argv.data(), "listen").empty());
}

}  // namespace
}  // namespace quarry

#include "common/env_flags.h"

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(int32_t, env_test_slots, 4, "an int flag");
ABSL_FLAG(std::string, env_test_listen, "127.0.0.1:7070", "a string flag");
ABSL_FLAG(absl::Duration, env_test_grace, absl::Seconds(30), "a duration");
ABSL_FLAG(bool, env_test_verbose, false, "a bool flag");

namespace quarry {
namespace {

using ::testing::HasSubstr;

// Sets environment variables for one test and removes them afterwards.
class ScopedEnvironment {
 public:
  ScopedEnvironment() = default;
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;
  ~ScopedEnvironment() {
    for (const std::string& name : names_) unsetenv(name.c_str());
  }
  void Set(const std::string& name, const std::string& value) {
    setenv(name.c_str(), value.c_str(), /*overwrite=*/1);
    names_.push_back(name);
  }

 private:
  std::vector<std::string> names_;
};

class EnvFlagsTest : public ::testing::Test {
 protected:
  absl::FlagSaver saved_flags_;  // Every test starts from the defaults.
  ScopedEnvironment env_;
};

TEST_F(EnvFlagsTest, VariableNameIsPrefixedUpperCase) {
  EXPECT_EQ(FlagEnvironmentVariable("metrics_listen"), "QUARRY_METRICS_LISTEN");
  EXPECT_EQ(FlagEnvironmentVariable("slots"), "QUARRY_SLOTS");
}

TEST_F(EnvFlagsTest, OnlyQuarrySourcesCount) {
  EXPECT_TRUE(IsQuarryFlagFile("/src/quarry/worker/main.cc"));
  EXPECT_TRUE(IsQuarryFlagFile("leader/main.cc"));
  EXPECT_FALSE(IsQuarryFlagFile("./absl/flags/parse.cc"));
  EXPECT_FALSE(IsQuarryFlagFile("/build/glog-0.6.0/src/logging.cc"));
  EXPECT_FALSE(IsQuarryFlagFile("src/gflags.cc"));
}

TEST_F(EnvFlagsTest, SetVariablesSetFlagsOfEveryType) {
  env_.Set("QUARRY_ENV_TEST_SLOTS", "12");
  env_.Set("QUARRY_ENV_TEST_LISTEN", "0.0.0.0:9000");
  env_.Set("QUARRY_ENV_TEST_GRACE", "1m30s");
  env_.Set("QUARRY_ENV_TEST_VERBOSE", "true");
  ASSERT_TRUE(SetFlagsFromEnvironment().ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_slots), 12);
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_listen), "0.0.0.0:9000");
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_grace), absl::Seconds(90));
  EXPECT_TRUE(absl::GetFlag(FLAGS_env_test_verbose));
}

TEST_F(EnvFlagsTest, UnsetVariablesKeepDefaultsAndEmptyIsAValue) {
  env_.Set("QUARRY_ENV_TEST_LISTEN", "");
  ASSERT_TRUE(SetFlagsFromEnvironment().ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_listen), "");
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_slots), 4);
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_grace), absl::Seconds(30));
}

TEST_F(EnvFlagsTest, BadValueNamesVariableAndFlag) {
  env_.Set("QUARRY_ENV_TEST_SLOTS", "many");
  const absl::Status status = SetFlagsFromEnvironment();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("QUARRY_ENV_TEST_SLOTS=\"many\""));
  EXPECT_THAT(status.message(), HasSubstr("--env_test_slots"));
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_slots), 4);
}

TEST_F(EnvFlagsTest, LibraryFlagsAreNotTouched) {
  env_.Set("QUARRY_UNDEFOK", "env_test_nonexistent");
  ASSERT_TRUE(SetFlagsFromEnvironment().ok());
  EXPECT_EQ(absl::FindCommandLineFlag("undefok")->CurrentValue(), "");
}

TEST_F(EnvFlagsTest, CommandLineWinsOverEnvironment) {
  env_.Set("QUARRY_ENV_TEST_SLOTS", "12");
  env_.Set("QUARRY_ENV_TEST_LISTEN", "0.0.0.0:9000");
  std::vector<std::string> args = {"quarry-test", "--env_test_slots=7",
                                   "positional"};
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  const std::vector<char*> positional = ParseEnvironmentAndCommandLine(
      static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_slots), 7);
  EXPECT_EQ(absl::GetFlag(FLAGS_env_test_listen), "0.0.0.0:9000");
  ASSERT_EQ(positional.size(), 2u);
  EXPECT_STREQ(positional[1], "positional");
}

TEST_F(EnvFlagsTest, BadEnvironmentExitsWithCode2) {
  env_.Set("QUARRY_ENV_TEST_GRACE", "soon");
  std::string program = "/usr/bin/quarry-test";
  char* argv[] = {program.data()};
  EXPECT_EXIT(
      ParseEnvironmentAndCommandLine(1, argv), ::testing::ExitedWithCode(2),
      "quarry-test: environment variable QUARRY_ENV_TEST_GRACE=\"soon\" "
      "is not a valid value for --env_test_grace");
}

}  // namespace
}  // namespace quarry

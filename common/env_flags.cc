#include "common/env_flags.h"

#include <cstdlib>
#include <iostream>

#include "absl/flags/commandlineflag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace quarry {

bool IsQuarryFlagFile(absl::string_view filename) {
  return !absl::StrContains(filename, "absl/") &&
         !absl::StrContains(filename, "glog") &&
         !absl::StrContains(filename, "gflags");
}

std::string FlagEnvironmentVariable(absl::string_view flag_name) {
  return absl::StrCat("QUARRY_", absl::AsciiStrToUpper(flag_name));
}

absl::Status SetFlagsFromEnvironment() {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (flag->IsRetired() || !IsQuarryFlagFile(flag->Filename())) continue;
    const std::string variable = FlagEnvironmentVariable(name);
    const char* value = std::getenv(variable.c_str());
    if (value == nullptr) continue;
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("environment variable ", variable, "=\"", value,
                       "\" is not a valid value for --", name, ": ", error));
    }
  }
  return absl::OkStatus();
}

std::vector<char*> ParseEnvironmentAndCommandLine(int argc, char** argv) {
  if (absl::Status from_env = SetFlagsFromEnvironment(); !from_env.ok()) {
    const absl::string_view program = argc > 0 ? argv[0] : "quarry";
    std::cerr << program.substr(program.rfind('/') + 1) << ": "
              << from_env.message() << std::endl;
    std::exit(2);
  }
  return absl::ParseCommandLine(argc, argv);
}

}  // namespace quarry

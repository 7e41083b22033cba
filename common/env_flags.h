#ifndef QUARRY_COMMON_ENV_FLAGS_H_
#define QUARRY_COMMON_ENV_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

// Configuration from the environment: every flag a Quarry source file
// defines (ABSL_FLAG in leader/, worker/, ...; not those of Abseil, glog or
// gflags) can also be set as QUARRY_<FLAG NAME IN UPPER CASE>, e.g.
// QUARRY_LISTEN, QUARRY_SLOTS, QUARRY_METRICS_LISTEN. A flag given on the
// command line wins over the environment.

namespace quarry {

// True for flags defined in Quarry's own sources, judged by the file that
// defines the flag: the flags --help lists and the environment can set.
bool IsQuarryFlagFile(absl::string_view filename);

// "QUARRY_" + the flag name in upper case: "metrics_listen" gives
// "QUARRY_METRICS_LISTEN".
std::string FlagEnvironmentVariable(absl::string_view flag_name);

// Sets each Quarry flag whose environment variable is set (even to "") to
// that value. INVALID_ARGUMENT naming the variable and the flag when a value
// does not parse; flags set before the bad one keep their new values.
absl::Status SetFlagsFromEnvironment();

// SetFlagsFromEnvironment(), then absl::ParseCommandLine (so the command
// line wins). On a bad environment value, prints
// "<program>: environment variable QUARRY_X=...: ..." to stderr and exits 2.
// Returns the positional arguments (argv[0] first).
std::vector<char*> ParseEnvironmentAndCommandLine(int argc, char** argv);

}  // namespace quarry

#endif  // QUARRY_COMMON_ENV_FLAGS_H_

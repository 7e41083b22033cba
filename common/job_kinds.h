#ifndef QUARRY_COMMON_JOB_KINDS_H_
#define QUARRY_COMMON_JOB_KINDS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/map.h"

namespace quarry {

// The catalog of job kinds: what each needs and which settings it takes.
// The leader validates submissions against it; the worker's kind registry
// (worker/kinds/) implements each entry. Immutable, thread-safe.

enum class SettingType {
  kInteger,   // A decimal integer in [min_value, max_value].
  kRegex,     // An RE2 regular expression.
  kDuration,  // An absl duration ("5s", "250ms") in [min_value, max_value] ms.
  kBytes,     // A size: digits with an optional K, M, G or T suffix (binary
              // multiples, either case), in [min_value, max_value] bytes.
  kString,    // Any text without a NUL byte, of [min_value, max_value]
              // bytes (plugin kinds).
};

struct SettingSpec {
  std::string name;
  SettingType type;
  bool required = false;
  int64_t min_value = 0;
  int64_t max_value = 0;
  std::string help;
};

struct KindSpec {
  std::string name;
  std::string description;
  // True: tasks come from input files. False: inputs are optional and the
  // "tasks" setting may give the task count instead.
  bool needs_inputs = true;
  // True: a final reduce task merges the parts into result.tsv.
  bool has_reduce = false;
  // True: writes a part file per task (false kinds may run without output).
  bool needs_output = true;
  std::vector<SettingSpec> settings;
};

// "delay_ms", which every kind accepts (built-in and plugin kinds): the
// attempt waits that long before it works.
SettingSpec DelaySetting();

// The built-in kinds, sorted by name.
const std::vector<KindSpec>& AllKinds();
// The kind named `name`, or nullptr.
const KindSpec* FindKind(absl::string_view name);
// "grep, linecount, ..." for error messages and --help.
std::string KindNames();

// Checks every setting against the kind: unknown keys, missing required
// ones, malformed or out-of-range values. Errors name the field as
// "settings.<key>".
absl::Status ValidateSettings(
    const KindSpec& kind,
    const google::protobuf::Map<std::string, std::string>& settings);

// The integer value of a validated setting, or `fallback` when absent.
int64_t IntSetting(
    const google::protobuf::Map<std::string, std::string>& settings,
    absl::string_view key, int64_t fallback);

// The value of a validated duration setting, or `fallback` when absent.
absl::Duration DurationSetting(
    const google::protobuf::Map<std::string, std::string>& settings,
    absl::string_view key, absl::Duration fallback);

// The value of a validated size setting in bytes, or `fallback` when absent.
int64_t BytesSetting(
    const google::protobuf::Map<std::string, std::string>& settings,
    absl::string_view key, int64_t fallback);

// "512M" (1 << 29), "1G", "1000": digits with an optional K, M, G or T
// suffix (either case) for binary multiples. False for anything else, a
// negative number or one beyond int64.
bool ParseByteSize(absl::string_view text, int64_t* bytes);
// The shortest form ParseByteSize reads back: 536870912 -> "512M".
std::string FormatByteSize(int64_t bytes);

// The kind that runs the user's own program (JobSpec.command).
inline constexpr absl::string_view kExecKind = "exec";

// Output naming shared by the leader (planning) and workers (committing).
std::string PartFileName(int32_t task_index);  // "part-00007"
inline constexpr absl::string_view kResultFileName = "result.tsv";
// An exec job's reduce (JobSpec.reduce) writes this instead: its format is
// the user's.
inline constexpr absl::string_view kExecResultFileName = "result";
// Attempts write here first, then rename into the output directory. The
// leader removes it when the job ends, so a finished job shows only parts
// and result.tsv.
inline constexpr absl::string_view kStagingDirName = ".quarry-staging";

}  // namespace quarry

#endif  // QUARRY_COMMON_JOB_KINDS_H_

#include "common/job_kinds.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "re2/re2.h"

namespace quarry {
namespace {

constexpr int64_t kMaxSyntheticTasks = 10'000'000;
constexpr int64_t kMaxSleepMs = 24LL * 3600 * 1000;
constexpr int64_t kMaxExecArrayTasks = 1'000'000;
constexpr int64_t kMiB = int64_t{1} << 20;
constexpr int64_t kTiB = int64_t{1} << 40;
constexpr int64_t kMaxCpuTimeMs = 30LL * 24 * 3600 * 1000;  // 720h.

SettingSpec TasksSetting() {
  return {"tasks",
          SettingType::kInteger,
          false,
          1,
          kMaxSyntheticTasks,
          "number of tasks when the job has no inputs"};
}

std::vector<KindSpec> BuildCatalog() {
  std::vector<KindSpec> kinds = {
      {std::string(kExecKind),
       "runs JobSpec.command (argv, no shell) per input file, or per index "
       "with settings.tasks (a job array)",
       false,
       false,
       false,
       {{"tasks", SettingType::kInteger, false, 1, kMaxExecArrayTasks,
         "number of tasks (a job array, {index} = 0..tasks-1) when the job "
         "has no inputs"},
        {"kill_grace", SettingType::kDuration, false, 0, 3600 * 1000,
         "time between SIGTERM and SIGKILL when an attempt is stopped "
         "(default 5s)"},
        {"memory", SettingType::kBytes, false, 16 * kMiB, 16 * kTiB,
         "address space of each process the command runs (RLIMIT_AS), "
         "e.g. 512M"},
        {"cpu_time", SettingType::kDuration, false, 1000, kMaxCpuTimeMs,
         "CPU time of each process the command runs (RLIMIT_CPU), e.g. 10m"},
        {"max_output", SettingType::kBytes, false, 1024, 16 * kTiB,
         "largest file a process of the command may write (RLIMIT_FSIZE) "
         "and most stdout kept as the output, e.g. 1G"}}},
      {"grep",
       "lines matching settings.pattern (RE2), as path:line:text",
       true,
       false,
       true,
       {{"pattern", SettingType::kRegex, true, 0, 0,
         "RE2 regular expression"}}},
      {"flaky",
       "fails the first settings.fail_attempts attempts of each task, then "
       "succeeds like noop (tests and chaos runs)",
       false,
       false,
       false,
       {{"fail_attempts", SettingType::kInteger, true, 0, 100,
         "attempts of each task that fail before one succeeds"},
        TasksSetting()}},
      {"linecount", "number of lines of each file", true, false, true, {}},
      {"noop",
       "does nothing (tests and benchmarks)",
       false,
       false,
       false,
       {TasksSetting()}},
      {"sha256",
       "SHA-256 checksum of each file, as sha256sum prints it",
       true,
       false,
       true,
       {}},
      {"sleep",
       "sleeps settings.ms milliseconds per task",
       false,
       false,
       false,
       {{"ms", SettingType::kInteger, true, 0, kMaxSleepMs,
         "milliseconds to sleep"},
        TasksSetting()}},
      {"wordcount",
       "counts words (runs of ASCII letters, lowercased); reduce writes "
       "result.tsv",
       true,
       true,
       true,
       {}},
  };
  for (KindSpec& kind : kinds) kind.settings.push_back(DelaySetting());
  std::sort(
      kinds.begin(), kinds.end(),
      [](const KindSpec& a, const KindSpec& b) { return a.name < b.name; });
  return kinds;
}

}  // namespace

// Accepted by every kind: the attempt waits this long before it works, so
// tests and chaos runs can make tasks slow.
SettingSpec DelaySetting() {
  return {"delay_ms",  SettingType::kInteger,
          false,       0,
          kMaxSleepMs, "milliseconds each attempt waits before it works"};
}

const std::vector<KindSpec>& AllKinds() {
  static const auto* const kKinds = new std::vector<KindSpec>(BuildCatalog());
  return *kKinds;
}

const KindSpec* FindKind(absl::string_view name) {
  for (const KindSpec& kind : AllKinds()) {
    if (kind.name == name) return &kind;
  }
  return nullptr;
}

std::string KindNames() {
  return absl::StrJoin(
      AllKinds(), ", ",
      [](std::string* out, const KindSpec& kind) { out->append(kind.name); });
}

absl::Status ValidateSettings(
    const KindSpec& kind,
    const google::protobuf::Map<std::string, std::string>& settings) {
  for (const auto& [key, value] : settings) {
    const bool known = std::any_of(
        kind.settings.begin(), kind.settings.end(),
        [&name = key](const SettingSpec& spec) { return spec.name == name; });
    if (!known) {
      std::string accepted = absl::StrJoin(
          kind.settings, ", ", [](std::string* out, const SettingSpec& spec) {
            out->append(spec.name);
          });
      return absl::InvalidArgumentError(absl::StrCat(
          "settings.", key, ": unknown setting for kind ", kind.name,
          " (accepted: ", accepted.empty() ? "none" : accepted, ")"));
    }
  }
  for (const SettingSpec& spec : kind.settings) {
    auto it = settings.find(spec.name);
    if (it == settings.end()) {
      if (spec.required) {
        return absl::InvalidArgumentError(
            absl::StrCat("settings.", spec.name, " is required for kind ",
                         kind.name, " (", spec.help, ")"));
      }
      continue;
    }
    const std::string& value = it->second;
    switch (spec.type) {
      case SettingType::kInteger: {
        int64_t number = 0;
        if (!absl::SimpleAtoi(value, &number) || number < spec.min_value ||
            number > spec.max_value) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "settings.%s must be an integer in [%d, %d], got \"%s\"",
              spec.name, spec.min_value, spec.max_value, value));
        }
        break;
      }
      case SettingType::kRegex: {
        if (value.empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat("settings.", spec.name, " must not be empty"));
        }
        RE2 re(value, RE2::Quiet);
        if (!re.ok()) {
          return absl::InvalidArgumentError(
              absl::StrCat("settings.", spec.name,
                           " is not a valid RE2 expression: ", re.error()));
        }
        break;
      }
      case SettingType::kDuration: {
        absl::Duration duration;
        if (!absl::ParseDuration(value, &duration) ||
            duration < absl::Milliseconds(spec.min_value) ||
            duration > absl::Milliseconds(spec.max_value)) {
          return absl::InvalidArgumentError(absl::StrCat(
              "settings.", spec.name, " must be a duration in [",
              absl::FormatDuration(absl::Milliseconds(spec.min_value)), ", ",
              absl::FormatDuration(absl::Milliseconds(spec.max_value)),
              "] such as 5s, got \"", value, "\""));
        }
        break;
      }
      case SettingType::kString: {
        const int64_t size = static_cast<int64_t>(value.size());
        if (size < spec.min_value || size > spec.max_value ||
            value.find('\0') != std::string::npos) {
          return absl::InvalidArgumentError(absl::StrFormat(
              "settings.%s must be text of %d to %d bytes without a NUL "
              "byte, got %d bytes",
              spec.name, spec.min_value, spec.max_value, size));
        }
        break;
      }
      case SettingType::kBytes: {
        int64_t bytes = 0;
        if (!ParseByteSize(value, &bytes) || bytes < spec.min_value ||
            bytes > spec.max_value) {
          return absl::InvalidArgumentError(absl::StrCat(
              "settings.", spec.name, " must be a size such as 512M in [",
              FormatByteSize(spec.min_value), ", ",
              FormatByteSize(spec.max_value), "], got \"", value, "\""));
        }
        break;
      }
    }
  }
  return absl::OkStatus();
}

bool ParseByteSize(absl::string_view text, int64_t* bytes) {
  int shift = 0;
  if (!text.empty()) {
    switch (absl::ascii_toupper(text.back())) {
      case 'K':
        shift = 10;
        break;
      case 'M':
        shift = 20;
        break;
      case 'G':
        shift = 30;
        break;
      case 'T':
        shift = 40;
        break;
    }
  }
  if (shift != 0) text.remove_suffix(1);
  if (text.empty() ||
      !std::all_of(text.begin(), text.end(), absl::ascii_isdigit)) {
    return false;
  }
  uint64_t number = 0;
  if (!absl::SimpleAtoi(text, &number) ||
      number > (static_cast<uint64_t>(INT64_MAX) >> shift)) {
    return false;
  }
  *bytes = static_cast<int64_t>(number << shift);
  return true;
}

std::string FormatByteSize(int64_t bytes) {
  static constexpr char kSuffixes[] = "KMGT";
  int used = 0;
  while (used < 4 && bytes != 0 && bytes % 1024 == 0) {
    bytes /= 1024;
    ++used;
  }
  return used == 0 ? absl::StrCat(bytes)
                   : absl::StrCat(bytes, std::string(1, kSuffixes[used - 1]));
}

int64_t BytesSetting(
    const google::protobuf::Map<std::string, std::string>& settings,
    absl::string_view key, int64_t fallback) {
  auto it = settings.find(std::string(key));
  int64_t value = 0;
  if (it == settings.end() || !ParseByteSize(it->second, &value)) {
    return fallback;
  }
  return value;
}

absl::Duration DurationSetting(
    const google::protobuf::Map<std::string, std::string>& settings,
    absl::string_view key, absl::Duration fallback) {
  auto it = settings.find(std::string(key));
  absl::Duration value;
  if (it == settings.end() || !absl::ParseDuration(it->second, &value)) {
    return fallback;
  }
  return value;
}

int64_t IntSetting(
    const google::protobuf::Map<std::string, std::string>& settings,
    absl::string_view key, int64_t fallback) {
  auto it = settings.find(std::string(key));
  int64_t value = 0;
  if (it == settings.end() || !absl::SimpleAtoi(it->second, &value)) {
    return fallback;
  }
  return value;
}

std::string PartFileName(int32_t task_index) {
  return absl::StrFormat("part-%05d", task_index);
}

}  // namespace quarry

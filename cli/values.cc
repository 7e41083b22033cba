#include "cli/values.h"

#include <cmath>
#include <filesystem>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/ids.h"

namespace quarry::cli {
namespace {

using quarry::v1::JobState;

absl::Status UsageError(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

}  // namespace

absl::Status OptionValue::Error(absl::string_view message) const {
  return UsageError(absl::StrCat("option --", name, ": ", message));
}

absl::StatusOr<absl::Duration> ParseSeconds(const OptionValue& value) {
  double seconds = 0;
  absl::Duration duration;
  if (absl::SimpleAtod(value.text, &seconds) && std::isfinite(seconds)) {
    duration = absl::Seconds(seconds);
  } else if (!absl::ParseDuration(value.text, &duration)) {
    duration = absl::ZeroDuration();
  }
  if (duration <= absl::ZeroDuration() ||
      duration == absl::InfiniteDuration()) {
    return value.Error(
        absl::StrCat("'", value.text, "' is not a positive number of seconds"));
  }
  return duration;
}

absl::StatusOr<absl::Time> ParseTimeOrAge(const OptionValue& value) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, value.text, &time, &error)) {
    return time;
  }
  absl::Duration age;
  if (absl::ParseDuration(value.text, &age) && age >= absl::ZeroDuration() &&
      age != absl::InfiniteDuration()) {
    return value.env.now - age;
  }
  return value.Error(absl::StrCat(
      "'", value.text, "' is neither an RFC 3339 time nor an age such as 2h"));
}

absl::StatusOr<int> ParseInt(const OptionValue& value, int min) {
  int number = 0;
  if (!absl::SimpleAtoi(value.text, &number) || number < min) {
    return value.Error(
        absl::StrCat("'", value.text, "' is not an integer >= ", min));
  }
  return number;
}

absl::StatusOr<int64_t> ParseBytes(const OptionValue& value) {
  absl::string_view digits = value.text;
  int shift = 0;
  for (const auto& [suffix, bits] :
       {std::pair<absl::string_view, int>{"KiB", 10},
        {"MiB", 20},
        {"GiB", 30},
        {"K", 10},
        {"M", 20},
        {"G", 30}}) {
    if (absl::ConsumeSuffix(&digits, suffix)) {
      shift = bits;
      break;
    }
  }
  int64_t number = 0;
  if (!absl::SimpleAtoi(digits, &number) || number < 0 ||
      number > (int64_t{1} << 40 >> shift)) {
    return value.Error(absl::StrCat(
        "'", value.text, "' is not a byte count such as 8M (0..1T)"));
  }
  return number << shift;
}

absl::StatusOr<std::string> ParsePath(const OptionValue& value) {
  absl::StatusOr<std::string> path = AbsolutePath(value.text, value.env.cwd);
  if (!path.ok()) return value.Error(path.status().message());
  return path;
}

absl::StatusOr<JobState> ParseState(const OptionValue& value) {
  absl::StatusOr<JobState> state = ParseJobState(value.text);
  if (!state.ok()) return value.Error(state.status().message());
  return state;
}

absl::StatusOr<std::string> ParseAttempt(const OptionValue& value) {
  if (!ParseAttemptId(value.text).has_value()) {
    return value.Error(absl::StrCat(
        "'", value.text,
        "' is not an attempt id (JOB_ID.TASK.N, e.g. job-000001.3.1)"));
  }
  return std::string(value.text);
}

absl::StatusOr<std::string> ParseAddress(const OptionValue& value) {
  if (absl::Status valid =
          ValidateHostPort(value.text, absl::StrCat("option --", value.name));
      !valid.ok()) {
    return UsageError(valid.message());
  }
  return std::string(value.text);
}

absl::Status AddKeyValue(const OptionValue& value,
                         google::protobuf::Map<std::string, std::string>& map) {
  const size_t eq = value.text.find('=');
  if (eq == absl::string_view::npos || eq == 0) {
    return value.Error(absl::StrCat("'", value.text,
                                    "' is not key=value with a non-empty key"));
  }
  const std::string key(value.text.substr(0, eq));
  if (!map.insert({key, std::string(value.text.substr(eq + 1))}).second) {
    return value.Error(absl::StrCat("key '", key, "' given twice"));
  }
  return absl::OkStatus();
}

absl::StatusOr<JobState> ParseJobState(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  for (JobState state :
       {quarry::v1::JOB_STATE_PENDING, quarry::v1::JOB_STATE_RUNNING,
        quarry::v1::JOB_STATE_DONE, quarry::v1::JOB_STATE_FAILED,
        quarry::v1::JOB_STATE_CANCELLED}) {
    // "JOB_STATE_RUNNING" -> "running".
    if (lower == absl::AsciiStrToLower(
                     absl::StripPrefix(JobState_Name(state), "JOB_STATE_"))) {
      return state;
    }
  }
  return UsageError(
      absl::StrCat("unknown job state '", name,
                   "' (want pending, running, done, failed or cancelled)"));
}

absl::StatusOr<std::string> AbsolutePath(absl::string_view path,
                                         absl::string_view cwd) {
  if (path.empty()) return UsageError("empty path");
  if (path[0] == '/') return std::string(path);
  if (cwd.empty() || cwd[0] != '/') {
    return UsageError(absl::StrCat("cannot make '", path,
                                   "' absolute: working directory unknown"));
  }
  std::string absolute =
      (std::filesystem::path(std::string(cwd)) / std::string(path))
          .lexically_normal()
          .string();
  if (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
  return absolute;
}

}  // namespace quarry::cli

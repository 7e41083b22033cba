#include "common/ids.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace quarry {
namespace {
constexpr absl::string_view kJobPrefix = "job-";
constexpr size_t kMaxWorkerIdLength = 128;
}  // namespace

std::string FormatJobId(int64_t sequence) {
  return absl::StrFormat("%s%06d", kJobPrefix, sequence);
}

std::optional<int64_t> ParseJobId(absl::string_view id) {
  if (!absl::ConsumePrefix(&id, kJobPrefix) || id.empty()) return std::nullopt;
  for (char c : id) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  int64_t sequence = 0;
  if (!absl::SimpleAtoi(id, &sequence) || sequence <= 0) return std::nullopt;
  return sequence;
}

std::string FormatAttemptId(absl::string_view job_id, int32_t task_index,
                            int32_t attempt_number) {
  return absl::StrCat(job_id, ".", task_index, ".", attempt_number);
}

std::optional<AttemptIdParts> ParseAttemptId(absl::string_view attempt_id) {
  std::vector<absl::string_view> parts = absl::StrSplit(attempt_id, '.');
  if (parts.size() != 3 || !ParseJobId(parts[0]).has_value()) {
    return std::nullopt;
  }
  AttemptIdParts result;
  result.job_id = std::string(parts[0]);
  if (!absl::SimpleAtoi(parts[1], &result.task_index) ||
      !absl::SimpleAtoi(parts[2], &result.attempt_number) ||
      result.task_index < 0 || result.attempt_number <= 0) {
    return std::nullopt;
  }
  return result;
}

absl::Status ValidateWorkerId(absl::string_view id, absl::string_view field) {
  if (id.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  }
  if (id.size() > kMaxWorkerIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " is longer than ", kMaxWorkerIdLength, " characters"));
  }
  for (char c : id) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return absl::InvalidArgumentError(absl::StrCat(
          field, " \"", id, "\" may only contain letters, digits, '.', '_', '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateHostPort(absl::string_view address,
                              absl::string_view field) {
  const size_t colon = address.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", address, "\" is not HOST:PORT"));
  }
  int port = -1;
  if (!absl::SimpleAtoi(address.substr(colon + 1), &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " \"", address, "\" has no valid port (0..65535)"));
  }
  return absl::OkStatus();
}

}  // namespace quarry

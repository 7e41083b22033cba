#ifndef QUARRY_COMMON_IDS_H_
#define QUARRY_COMMON_IDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace quarry {

// Job ids are "job-" followed by a zero-padded sequence number, so that
// lexical and numeric order agree for the first million jobs.
std::string FormatJobId(int64_t sequence);
// The sequence number of a job id, or nullopt if `id` is not a job id.
std::optional<int64_t> ParseJobId(absl::string_view id);

// Attempt ids are "<job id>.<task index>.<attempt number>".
std::string FormatAttemptId(absl::string_view job_id, int32_t task_index,
                            int32_t attempt_number);

struct AttemptIdParts {
  std::string job_id;
  int32_t task_index = 0;
  int32_t attempt_number = 0;
};
std::optional<AttemptIdParts> ParseAttemptId(absl::string_view attempt_id);

// Worker ids: 1..128 characters of [A-Za-z0-9._-]. `field` names the field
// in the error message.
absl::Status ValidateWorkerId(absl::string_view id, absl::string_view field);

// Checks "host:port" (port 0..65535; host non-empty, or bracketed IPv6).
absl::Status ValidateHostPort(absl::string_view address,
                              absl::string_view field);

}  // namespace quarry

#endif  // QUARRY_COMMON_IDS_H_

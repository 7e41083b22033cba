#ifndef QUARRY_COMMON_ERRNO_STATUS_H_
#define QUARRY_COMMON_ERRNO_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace quarry {

// An absl::Status for a failed system call: `message` followed by
// strerror(errno_value), with a code chosen by what the caller should do
// (NOT_FOUND, PERMISSION_DENIED, FAILED_PRECONDITION, RESOURCE_EXHAUSTED,
// else INTERNAL).
absl::Status ErrnoToStatus(int errno_value, absl::string_view message);

}  // namespace quarry

#endif  // QUARRY_COMMON_ERRNO_STATUS_H_

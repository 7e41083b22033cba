#ifndef QUARRY_COMMON_KIND_DESCRIPTION_H_
#define QUARRY_COMMON_KIND_DESCRIPTION_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/job_kinds.h"
#include "quarry/v1/types.pb.h"

namespace quarry {

// Plugin kinds travel from workers to the leader as KindDescription
// messages (RegisterWorkerRequest.plugin_kinds). These functions convert
// between a description and the KindSpec that validates submissions, with
// one set of rules for both sides: the worker's plugin loader checks a
// plugin's table with them, the leader checks a registration with them.
// Stateless, thread-safe.

// Limits of a description.
inline constexpr size_t kMaxKindNameBytes = 64;
inline constexpr size_t kMaxKindTextBytes = 1024;  // description, help
inline constexpr int kMaxKindSettings = 64;
// A STRING setting declared with max_value 0 takes up to this many bytes.
inline constexpr int64_t kDefaultMaxStringSetting = 4096;
inline constexpr int64_t kMaxStringSetting = 1 << 16;

// Whether `name` can name a plugin kind: [a-z][a-z0-9_-]{0,63}.
bool IsValidPluginKindName(absl::string_view name);

// The spec of a described kind: its settings plus "delay_ms", writes a part
// file per task (needs_output). INVALID_ARGUMENT naming the field relative
// to the description ("name ...", "settings[2].max_value ...") when a rule
// of KindDescription is broken: a malformed or reserved name, text too
// long, a duplicate or reserved setting, an unknown type, bounds out of
// order or out of range for the type. A built-in kind's name is not
// refused here (callers decide).
absl::StatusOr<KindSpec> KindSpecFromDescription(
    const quarry::v1::KindDescription& description);

// The description of `spec` (its "delay_ms" left out): the reverse of
// KindSpecFromDescription.
quarry::v1::KindDescription DescribeKind(const KindSpec& spec);

}  // namespace quarry

#endif  // QUARRY_COMMON_KIND_DESCRIPTION_H_

#ifndef QUARRY_CLI_VALUES_H_
#define QUARRY_CLI_VALUES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/args.h"
#include "quarry/v1/types.pb.h"

// The grammars of the options' values, used by the store functions of the
// catalogue (catalog.cc). Pure; each error is a usage error that names the
// option ("option --limit: 'ten' is not an integer >= 1").
namespace quarry::cli {

// "10", "0.5" (seconds) or an absl duration such as "90s" or "2m"; > 0.
absl::StatusOr<absl::Duration> ParseSeconds(const OptionValue& value);

// An RFC 3339 time ("2026-11-21T10:00:00Z") or an age before env.now
// ("2h").
absl::StatusOr<absl::Time> ParseTimeOrAge(const OptionValue& value);

// A decimal integer >= `min`.
absl::StatusOr<int> ParseInt(const OptionValue& value, int min);

// A byte count: digits with an optional binary suffix (K, M, G or KiB,
// MiB, GiB), e.g. 8M; 0..1T.
absl::StatusOr<int64_t> ParseBytes(const OptionValue& value);

// A path made absolute against env.cwd (see AbsolutePath).
absl::StatusOr<std::string> ParsePath(const OptionValue& value);

// A job state name (see ParseJobState).
absl::StatusOr<quarry::v1::JobState> ParseState(const OptionValue& value);

// An attempt id, JOB_ID.TASK.N.
absl::StatusOr<std::string> ParseAttempt(const OptionValue& value);

// HOST:PORT.
absl::StatusOr<std::string> ParseAddress(const OptionValue& value);

// KEY=VALUE with a non-empty key, added to `map` (spec.settings, spec.env);
// a key given twice is an error.
absl::Status AddKeyValue(const OptionValue& value,
                         google::protobuf::Map<std::string, std::string>& map);

}  // namespace quarry::cli

#endif  // QUARRY_CLI_VALUES_H_

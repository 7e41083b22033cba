#ifndef QUARRY_CLI_WATCH_H_
#define QUARRY_CLI_WATCH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/leader_client.h"
#include "quarry/v1/types.pb.h"

namespace quarry::cli {

// Most consecutive failed reconnects of submit --wait before it gives up.
inline constexpr int kMaxWatchRetries = 10;

// Follows job `job_id` until it reaches a terminal state and returns it.
// Reads the WatchJob stream; when the stream breaks, asks GetJob (the job
// may have ended meanwhile) and reconnects with exponential backoff, at most
// kMaxWatchRetries times in a row without progress. A leader without
// WatchJob (UNIMPLEMENTED) is polled with GetJob instead. Shows progress on
// ctx.err (a live bar on a terminal, else a line per change) and ends with
// the final state line. Errors: the leader's for the job (e.g. NOT_FOUND),
// UNAVAILABLE after too many retries, DEADLINE_EXCEEDED after
// `wait_timeout`.
absl::StatusOr<quarry::v1::Job> FollowJob(LeaderClient& leader,
                                          const std::string& job_id,
                                          absl::Duration wait_timeout,
                                          CommandContext& ctx);

}  // namespace quarry::cli

#endif  // QUARRY_CLI_WATCH_H_

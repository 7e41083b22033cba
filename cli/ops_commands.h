#ifndef QUARRY_CLI_OPS_COMMANDS_H_
#define QUARRY_CLI_OPS_COMMANDS_H_

#include "absl/status/statusor.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "cli/leader_client.h"

// The operators' commands of the `quarry` tool: `logs` and `health`.
// Called by RunCommand on the main thread.
namespace quarry::cli {

// logs JOB_ID TASK: prints the log of the task's attempt (the current or
// last one, or --attempt) as the leader fetched it from the worker that
// ran it; notes on stderr when the attempt still runs or its log was
// truncated. logs JOB_ID: every task's log, each after a header line
// ("==> task 3: attempt job-000001.3.1 on worker w2 (host:7100) <=="); a
// task whose log cannot be had prints an error line and the others go on
// (the exit code is then that of the worst error).
absl::StatusOr<int> Logs(const ParsedCommand& cmd, LeaderClient& leader,
                         CommandContext& ctx);

// health [--address HOST:PORT]: calls grpc.health.v1.Health/Check on the
// server (default: the leader) and prints "HOST:PORT SERVING". Exit 0 when
// SERVING, kExitNotServing when it answers another status, the usual codes
// when it cannot be reached.
absl::StatusOr<int> Health(const ParsedCommand& cmd, LeaderClient& leader,
                           CommandContext& ctx);

}  // namespace quarry::cli

#endif  // QUARRY_CLI_OPS_COMMANDS_H_

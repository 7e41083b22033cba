#ifndef QUARRY_CLI_FORMAT_H_
#define QUARRY_CLI_FORMAT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "quarry/v1/cluster_service.pb.h"
#include "quarry/v1/job_service.pb.h"
#include "quarry/v1/types.pb.h"

// Human-readable output of the `quarry` tool. Pure functions: they read
// protos and return text, so each can be unit-tested without a leader.
namespace quarry::cli {

// Enum names without their prefix: "RUNNING", "ALIVE", "HEALTHY".
std::string JobStateName(quarry::v1::JobState state);
std::string ExecutionStatusName(quarry::v1::ExecutionStatus status);
std::string WorkerStatusName(quarry::v1::WorkerStatus status);
std::string ClusterStatusName(quarry::v1::ClusterStatus status);

bool IsTerminal(quarry::v1::JobState state);

// "850ms", "1.2s", "2m05s", "3h04m". Negative durations print as "0ms".
std::string HumanDuration(absl::Duration d);
// "512 B", "1.5 KiB", "2.0 MiB".
std::string FormatBytes(int64_t bytes);
// Local time "2024-05-01 12:00:03", or "-" when unset.
std::string FormatTimestamp(const google::protobuf::Timestamp& ts,
                            absl::TimeZone tz);

// Aligns rows (the first is the header) into columns two spaces apart.
// Each row ends with a newline; the last column is not padded.
std::string RenderTable(const std::vector<std::vector<std::string>>& rows);

// One line showing a job's progress, at most `width - 1` characters (so it
// can be redrawn in place with '\r' without wrapping), e.g.
//   job-000003 RUNNING [##########..........] 12/24 tasks  3 running  0
//   failed  1.2s
// The bar shrinks with `width` (and is left out when there is no room).
std::string RenderProgressLine(const quarry::v1::Job& job, int width,
                               absl::Duration elapsed);
// The same without the bar, for logs and the final line:
//   job-000003 RUNNING 12/24 tasks  3 running  0 failed  1.2s
std::string RenderStatusLine(const quarry::v1::Job& job,
                             absl::Duration elapsed);

// The human views of each command's response. `now` is used for ages and
// the duration of jobs still running.
std::string FormatJobView(const quarry::v1::GetJobResponse& response,
                          absl::Time now, absl::TimeZone tz);
std::string FormatJobList(const quarry::v1::ListJobsResponse& response,
                          absl::TimeZone tz);
std::string FormatJobResult(const quarry::v1::GetJobResultResponse& response);
std::string FormatCluster(const quarry::v1::GetClusterResponse& response);

}  // namespace quarry::cli

#endif  // QUARRY_CLI_FORMAT_H_

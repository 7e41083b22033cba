#include "cli/ops_commands.h"

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "cli/output.h"
#include "common/status_util.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace quarry::cli {
namespace {

namespace v1 = quarry::v1;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

absl::StatusOr<v1::GetAttemptLogResponse> FetchLog(const ParsedCommand& cmd,
                                                   int task_index,
                                                   LeaderClient& leader) {
  v1::GetAttemptLogRequest request;
  request.set_job_id(cmd.job_id);
  request.set_task_index(task_index);
  request.set_attempt_id(cmd.attempt_id);
  v1::GetAttemptLogResponse response;
  const absl::Status status = leader.Unary([&](grpc::ClientContext* context) {
    return leader.jobs().GetAttemptLog(context, request, &response);
  });
  if (!status.ok()) return status;
  return response;
}

// Notes on stderr about a log that is not the whole story.
void NoteIncomplete(const v1::GetAttemptLogResponse& response,
                    CommandContext& ctx) {
  const v1::AttemptLog& log = response.log();
  if (log.truncated()) {
    *ctx.err << "quarry: the log of attempt " << log.attempt_id()
             << " was cut by worker " << log.worker_id()
             << " at its size bound (--attempt_log_max_bytes)\n";
  }
  if (!log.finished()) {
    *ctx.err << "quarry: attempt " << log.attempt_id()
             << " still runs: this is its log so far\n";
  }
}

absl::StatusOr<int> OneTaskLog(const ParsedCommand& cmd, LeaderClient& leader,
                               CommandContext& ctx) {
  absl::StatusOr<v1::GetAttemptLogResponse> response =
      FetchLog(cmd, *cmd.task_index, leader);
  if (!response.ok()) return response.status();
  if (cmd.json) {
    if (absl::Status shown = PrintJson(*response, *ctx.out); !shown.ok()) {
      return shown;
    }
  } else {
    *ctx.out << response->log().content();
  }
  NoteIncomplete(*response, ctx);
  return kExitOk;
}

absl::StatusOr<int> EveryTaskLog(const ParsedCommand& cmd, LeaderClient& leader,
                                 CommandContext& ctx) {
  v1::GetJobRequest request;
  request.set_job_id(cmd.job_id);
  request.set_include_tasks(true);
  v1::GetJobResponse job;
  const absl::Status status = leader.Unary([&](grpc::ClientContext* context) {
    return leader.jobs().GetJob(context, request, &job);
  });
  if (!status.ok()) return status;
  int code = kExitOk;
  for (const v1::Task& task : job.tasks()) {
    if (task.attempt_id().empty()) {
      *ctx.out << "==> task " << task.index() << ": no attempt yet <==\n\n";
      continue;
    }
    absl::StatusOr<v1::GetAttemptLogResponse> response =
        FetchLog(cmd, task.index(), leader);
    if (!response.ok()) {
      ctx.out->flush();
      *ctx.err << ErrorLine(response.status()) << "\n";
      code = std::max(code, ExitCodeForStatus(response.status()));
      continue;
    }
    const v1::AttemptLog& log = response->log();
    *ctx.out << "==> task " << task.index() << ": attempt " << log.attempt_id()
             << " on worker " << log.worker_id() << " ("
             << response->worker_address() << ") <==\n"
             << log.content() << "\n";
    ctx.out->flush();
    NoteIncomplete(*response, ctx);
  }
  return code;
}

}  // namespace

absl::StatusOr<int> Logs(const ParsedCommand& cmd, LeaderClient& leader,
                         CommandContext& ctx) {
  if (cmd.task_index.has_value()) return OneTaskLog(cmd, leader, ctx);
  return EveryTaskLog(cmd, leader, ctx);
}

absl::StatusOr<int> Health(const ParsedCommand& cmd, LeaderClient& leader,
                           CommandContext& ctx) {
  const std::shared_ptr<grpc::Channel> channel =
      grpc::CreateChannel(cmd.address, leader.credentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(
      absl::ToChronoTime(absl::Now() + cmd.EffectiveTimeout()));
  HealthCheckResponse response;
  const grpc::Status status =
      stub->Check(&context, HealthCheckRequest(), &response);
  if (!status.ok()) {
    const absl::Status error = FromGrpcStatus(status);
    const bool unreachable =
        channel->GetState(/*try_to_connect=*/false) != GRPC_CHANNEL_READY;
    return absl::Status(
        error.code(), absl::StrCat(cmd.address, ": ", error.message(),
                                   unreachable ? leader.connect_hint() : ""));
  }
  const std::string state =
      HealthCheckResponse::ServingStatus_Name(response.status());
  if (absl::Status shown =
          Show(cmd, response, absl::StrCat(cmd.address, " ", state, "\n"), ctx);
      !shown.ok()) {
    return shown;
  }
  if (response.status() == HealthCheckResponse::SERVING) return kExitOk;
  ctx.out->flush();
  *ctx.err << "quarry: " << cmd.address << " is " << state << ", not SERVING\n";
  return kExitNotServing;
}

}  // namespace quarry::cli

#include "cli/commands.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "cli/format.h"
#include "cli/leader_client.h"
#include "cli/ops_commands.h"
#include "cli/output.h"
#include "cli/usage.h"
#include "cli/watch.h"
#include "common/time_util.h"

namespace quarry::cli {
namespace {

namespace v1 = quarry::v1;

constexpr absl::Duration kClusterPollInterval = absl::Milliseconds(100);

absl::StatusOr<int> Submit(const ParsedCommand& cmd, LeaderClient& leader,
                           CommandContext& ctx) {
  v1::SubmitJobRequest request;
  *request.mutable_spec() = cmd.spec;
  v1::SubmitJobResponse response;
  const absl::Status status = leader.Unary([&](grpc::ClientContext* context) {
    return leader.jobs().SubmitJob(context, request, &response);
  });
  if (!status.ok()) return status;
  if (cmd.json) {
    if (absl::Status shown = PrintJson(response, *ctx.out); !shown.ok()) {
      return shown;
    }
  } else {
    *ctx.out << response.job_id() << "\n";
  }
  ctx.out->flush();
  if (!cmd.wait) return kExitOk;

  absl::StatusOr<v1::Job> job =
      FollowJob(leader, response.job_id(), cmd.wait_timeout, ctx);
  if (!job.ok()) return job.status();
  if (job->state() == v1::JOB_STATE_DONE) return kExitOk;
  *ctx.err << "quarry: job " << job->id() << " " << JobStateName(job->state());
  if (!job->error().empty()) {
    *ctx.err << ": " << absl::StrReplaceAll(job->error(), {{"\n", " "}});
  }
  *ctx.err << "\n";
  return kExitJobFailed;
}

absl::Status Status(const ParsedCommand& cmd, LeaderClient& leader,
                    CommandContext& ctx) {
  v1::GetJobRequest request;
  request.set_job_id(cmd.job_id);
  request.set_include_tasks(cmd.include_tasks);
  request.set_include_attempts(cmd.include_attempts);
  v1::GetJobResponse response;
  const absl::Status status = leader.Unary([&](grpc::ClientContext* context) {
    return leader.jobs().GetJob(context, request, &response);
  });
  if (!status.ok()) return status;
  return Show(cmd, response,
              FormatJobView(response, absl::Now(), ctx.time_zone), ctx);
}

absl::Status List(const ParsedCommand& cmd, LeaderClient& leader,
                  CommandContext& ctx) {
  v1::ListJobsRequest request;
  request.set_state(cmd.state_filter);
  request.set_page_size(cmd.limit);
  request.set_page_token(cmd.page_token);
  v1::ListJobsResponse response;
  const absl::Status status = leader.Unary([&](grpc::ClientContext* context) {
    return leader.jobs().ListJobs(context, request, &response);
  });
  if (!status.ok()) return status;
  return Show(cmd, response, FormatJobList(response, ctx.time_zone), ctx);
}

absl::Status History(const ParsedCommand& cmd, LeaderClient& leader,
                     CommandContext& ctx) {
  v1::ListHistoryRequest request;
  request.set_state(cmd.state_filter);
  request.set_kind(cmd.spec.kind());
  if (cmd.ended_after) *request.mutable_end_after() = ToProtoTime(*cmd.ended_after);
  if (cmd.ended_before) {
    *request.mutable_end_before() = ToProtoTime(*cmd.ended_before);
  }
  request.set_page_size(cmd.limit);
  request.set_page_token(cmd.page_token);
  v1::ListHistoryResponse response;
  const absl::Status status = leader.Unary([&](grpc::ClientContext* context) {
    return leader.jobs().ListHistory(context, request, &response);
  });
  if (!status.ok()) return status;
  v1::ListJobsResponse page;  // Same shape: one table for both.
  *page.mutable_jobs() = response.jobs();
  page.set_next_page_token(response.next_page_token());
  return Show(cmd, response, FormatJobList(page, ctx.time_zone), ctx);
}

absl::Status Result(const ParsedCommand& cmd, LeaderClient& leader,
                    CommandContext& ctx) {
  v1::GetJobResultRequest request;
  request.set_job_id(cmd.job_id);
  v1::GetJobResultResponse response;
  const absl::Status status = leader.Unary([&](grpc::ClientContext* context) {
    return leader.jobs().GetJobResult(context, request, &response);
  });
  if (!status.ok()) return status;
  return Show(cmd, response, FormatJobResult(response), ctx);
}

absl::Status Cancel(const ParsedCommand& cmd, LeaderClient& leader,
                    CommandContext& ctx) {
  v1::CancelJobRequest request;
  request.set_job_id(cmd.job_id);
  v1::CancelJobResponse response;
  const absl::Status status = leader.Unary([&](grpc::ClientContext* context) {
    return leader.jobs().CancelJob(context, request, &response);
  });
  if (!status.ok()) return status;
  return Show(cmd, response,
              absl::StrCat(response.job().id(), " ",
                           JobStateName(response.job().state()), "\n"),
              ctx);
}

absl::Status DrainWorker(const ParsedCommand& cmd, LeaderClient& leader,
                         CommandContext& ctx) {
  v1::DrainWorkerRequest request;
  request.set_worker_id(cmd.worker_id);
  v1::DrainWorkerResponse response;
  const absl::Status status = leader.Unary([&](grpc::ClientContext* context) {
    return leader.cluster().DrainWorker(context, request, &response);
  });
  if (!status.ok()) return status;
  const std::string& id =
      response.worker().id().empty() ? cmd.worker_id : response.worker().id();
  return Show(
      cmd, response,
      absl::StrCat(id, " ", WorkerStatusName(response.worker().status()), "\n"),
      ctx);
}

int CountAlive(const v1::GetClusterResponse& response) {
  int alive = 0;
  for (const v1::Worker& worker : response.workers()) {
    if (worker.status() == v1::WORKER_STATUS_ALIVE) ++alive;
  }
  return alive;
}

// Polls GetCluster until `cmd.wait_for` workers are ALIVE, for at most the
// command's timeout; an unreachable leader just means "not yet".
absl::Status Cluster(const ParsedCommand& cmd, LeaderClient& leader,
                     CommandContext& ctx) {
  const absl::Time deadline = absl::Now() + leader.timeout();
  v1::GetClusterResponse response;
  while (true) {
    response.Clear();
    const absl::Status status = leader.Unary(
        [&](grpc::ClientContext* context) {
          return leader.cluster().GetCluster(context, {}, &response);
        },
        deadline);
    std::string not_yet;
    if (!status.ok()) {
      if (!cmd.wait_for.has_value() ||
          ExitCodeForStatus(status) != kExitUnreachable) {
        return status;
      }
      not_yet = std::string(status.message());
    } else if (cmd.wait_for.has_value() &&
               CountAlive(response) < *cmd.wait_for) {
      not_yet = absl::StrCat(CountAlive(response), " ALIVE");
    } else {
      return Show(cmd, response, FormatCluster(response), ctx);
    }
    if (absl::Now() + kClusterPollInterval >= deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("fewer than ", *cmd.wait_for, " workers ALIVE after ",
                       HumanDuration(leader.timeout()), " (", not_yet, ")"));
    }
    ctx.sleep(kClusterPollInterval);
  }
}

absl::StatusOr<int> Dispatch(const ParsedCommand& cmd, LeaderClient& leader,
                             CommandContext& ctx) {
  absl::Status status;
  switch (cmd.command) {
    case Command::kSubmit:
      return Submit(cmd, leader, ctx);
    case Command::kStatus:
      status = Status(cmd, leader, ctx);
      break;
    case Command::kList:
      status = List(cmd, leader, ctx);
      break;
    case Command::kResult:
      status = Result(cmd, leader, ctx);
      break;
    case Command::kCancel:
      status = Cancel(cmd, leader, ctx);
      break;
    case Command::kCluster:
      status = Cluster(cmd, leader, ctx);
      break;
    case Command::kWorkerDrain:
      status = DrainWorker(cmd, leader, ctx);
      break;
    case Command::kLogs:
      return Logs(cmd, leader, ctx);
    case Command::kHealth:
      return Health(cmd, leader, ctx);
    case Command::kHistory:
      status = History(cmd, leader, ctx);
      break;
    case Command::kHelp:  // Handled by RunCommand; needs no leader.
      break;
  }
  if (!status.ok()) return status;
  return kExitOk;
}

}  // namespace

int ExitCodeForStatus(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (absl::IsUnavailable(status) || absl::IsDeadlineExceeded(status)) {
    return kExitUnreachable;
  }
  return kExitRefused;
}

// The bearer token for the leader: the token file's (--token-file, else
// $QUARRY_TOKEN_FILE), else $QUARRY_TOKEN, else none.
absl::StatusOr<std::string> TokenOf(const ParsedCommand& cmd) {
  if (cmd.token_file.empty()) return cmd.token_env;
  return ReadTokenFile(cmd.token_file);
}

std::string ErrorLine(const absl::Status& status) {
  return absl::StrCat(
      "quarry: ", absl::StatusCodeToString(status.code()), ": ",
      absl::StrReplaceAll(status.message(), {{"\r", " "}, {"\n", " "}}));
}

int RunCommand(const ParsedCommand& cmd, CommandContext& ctx) {
  if (cmd.command == Command::kHelp) {
    *ctx.out << UsageText(cmd.help_topic);
    return kExitOk;
  }
  absl::StatusOr<int> code = 0;
  absl::StatusOr<std::string> token = TokenOf(cmd);
  absl::StatusOr<TlsMaterial> tls = LoadTlsMaterial(cmd.tls, "--tls-");
  if (!token.ok()) {
    code = token.status();
  } else if (!tls.ok()) {
    code = tls.status();
  } else {
    LeaderClient leader(cmd.leader, cmd.EffectiveTimeout(), *std::move(token),
                        *tls);
    code = Dispatch(cmd, leader, ctx);
  }
  ctx.out->flush();
  if (code.ok()) return *code;
  *ctx.err << ErrorLine(code.status()) << "\n";
  ctx.err->flush();
  return ExitCodeForStatus(code.status());
}

int RunQuarry(const std::vector<std::string>& args, const ParseEnv& env,
              CommandContext& ctx) {
  const absl::StatusOr<ParsedCommand> cmd = ParseArgs(args, env);
  if (!cmd.ok()) {
    *ctx.err << "quarry: " << cmd.status().message() << "\n";
    ctx.err->flush();
    return kExitUsage;
  }
  return RunCommand(*cmd, ctx);
}

}  // namespace quarry::cli

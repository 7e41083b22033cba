#include "tests/testing/local_cluster.h"

#include <csignal>
#include <filesystem>
#include <fstream>

#include <grpcpp/grpcpp.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/auth.h"
#include "common/status_util.h"
#include "tests/testing/rpc.h"

namespace quarry::testing {

absl::StatusOr<int> WaitForPortFile(const std::string& path,
                                    Subprocess& process,
                                    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::ifstream in(path);
    int port = 0;
    if (in >> port && port > 0) return port;
    if (absl::StatusOr<int> exited = process.Wait(absl::Milliseconds(20));
        exited.ok()) {
      return absl::InternalError(absl::StrCat(
          "the process exited with code ", *exited, " before writing ", path));
    }
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "no port in ", path, " after ", absl::FormatDuration(timeout)));
}

std::string LeaderBinary() { return QUARRY_LEADER_BIN; }
std::string WorkerBinary() { return QUARRY_WORKER_BIN; }
std::string CliBinary() { return QUARRY_CLI_BIN; }


absl::StatusOr<std::unique_ptr<LocalCluster>> LocalCluster::Start(
    const std::vector<std::string>& leader_flags,
    std::shared_ptr<grpc::ChannelCredentials> credentials) {
  std::unique_ptr<LocalCluster> cluster(new LocalCluster());
  cluster->leader_flags_ = leader_flags;
  if (absl::Status started = cluster->StartLeader("127.0.0.1:0");
      !started.ok()) {
    return started;
  }
  if (credentials == nullptr) credentials = grpc::InsecureChannelCredentials();
  auto channel = grpc::CreateChannel(cluster->leader_address_, credentials);
  cluster->jobs_ = quarry::v1::JobService::NewStub(channel);
  cluster->cluster_ = quarry::v1::ClusterService::NewStub(channel);
  return cluster;
}

absl::Status LocalCluster::StartLeader(const std::string& listen) {
  const std::string port_file =
      absl::StrCat(dir(), "/leader-", ++leader_starts_, ".port");
  std::vector<std::string> argv = {LeaderBinary(), "--listen=" + listen,
                                   "--port_file=" + port_file};
  argv.insert(argv.end(), leader_flags_.begin(), leader_flags_.end());
  // Every run of the leader appends to the same log.
  absl::StatusOr<Subprocess> leader =
      Subprocess::Start(argv, dir() + "/leader.log");
  if (!leader.ok()) return leader.status();
  leader_ = std::move(*leader);
  absl::StatusOr<int> port =
      WaitForPortFile(port_file, leader_, absl::Seconds(20));
  if (!port.ok()) {
    return absl::Status(port.status().code(),
                        absl::StrCat(port.status().message(), "\n",
                                     LogTails()));
  }
  leader_address_ = absl::StrCat("127.0.0.1:", *port);
  return absl::OkStatus();
}

void LocalCluster::KillLeader() {
  leader_.Signal(SIGKILL);
  leader_.Wait(absl::Seconds(10)).IgnoreError();
}

absl::Status LocalCluster::RestartLeader() {
  return StartLeader(leader_address_);
}

LocalCluster::~LocalCluster() { Shutdown().IgnoreError(); }

absl::Status LocalCluster::Shutdown() {
  std::string failures;
  auto stop = [&failures](const std::string& name, Subprocess& process) {
    if (!process.running()) return;
    const int code = process.Stop(absl::Seconds(10));
    if (code != 0) absl::StrAppend(&failures, name, " exited with ", code, "; ");
  };
  for (auto& [id, worker] : workers_) stop("worker " + id, worker);
  stop("leader", leader_);
  if (failures.empty()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(failures, "\n", LogTails()));
}

absl::Status LocalCluster::StartWorker(const std::string& id, int slots,
                                       const std::vector<std::string>& flags,
                                       const std::vector<std::string>& env) {
  std::vector<std::string> argv;
  if (!env.empty()) {
    argv.push_back("/usr/bin/env");
    argv.insert(argv.end(), env.begin(), env.end());
  }
  argv.insert(
      argv.end(),
      {WorkerBinary(), "--leader=" + leader_address_, "--listen=127.0.0.1:0",
       absl::StrCat("--slots=", slots), "--id=" + id,
       // SIGTERM drains: keep a test's teardown short.
       "--drain_grace=2s",
       // In the cluster's dir, so a worker killed with
       // SIGKILL leaves nothing behind in /tmp.
       absl::StrCat("--attempt_log_dir=", dir(), "/attempt-logs-", id)});
  argv.insert(argv.end(), flags.begin(), flags.end());
  absl::StatusOr<Subprocess> worker =
      Subprocess::Start(argv, absl::StrCat(dir(), "/worker-", id, ".log"));
  if (!worker.ok()) return worker.status();
  workers_.insert_or_assign(id, std::move(*worker));
  return absl::OkStatus();
}

absl::Status LocalCluster::WaitForAliveWorkers(int count,
                                               absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  int alive = 0;
  while (absl::Now() < deadline) {
    absl::StatusOr<quarry::v1::GetClusterResponse> state = GetCluster();
    if (state.ok()) {
      alive = 0;
      for (const auto& worker : state->workers()) {
        alive += worker.status() == quarry::v1::WORKER_STATUS_ALIVE;
      }
      if (alive >= count) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(20));  // Registration has no event.
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "only ", alive, " of ", count, " workers ALIVE\n", LogTails()));
}

absl::StatusOr<std::string> LocalCluster::Submit(
    const quarry::v1::JobSpec& spec) {
  quarry::v1::SubmitJobRequest request;
  *request.mutable_spec() = spec;
  quarry::v1::SubmitJobResponse response;
  grpc::Status status =
      jobs_->SubmitJob(Context().get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response.job_id();
}

absl::StatusOr<quarry::v1::Job> LocalCluster::WaitForJob(
    const std::string& job_id, absl::Duration timeout) {
  quarry::v1::WatchJobRequest request;
  request.set_job_id(job_id);
  auto context = Context(timeout);
  auto stream = jobs_->WatchJob(context.get(), request);
  quarry::v1::JobEvent event;
  quarry::v1::Job last;
  while (stream->Read(&event)) last = event.job();
  grpc::Status status = stream->Finish();
  if (!status.ok()) {
    return absl::Status(FromGrpcStatus(status).code(),
                        absl::StrCat(status.error_message(), " (last state ",
                                     quarry::v1::JobState_Name(last.state()),
                                     ")\n", LogTails()));
  }
  return last;
}

absl::StatusOr<quarry::v1::GetClusterResponse> LocalCluster::GetCluster() {
  quarry::v1::GetClusterResponse response;
  grpc::Status status = cluster_->GetCluster(
      Context(absl::Seconds(2)).get(), {}, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<quarry::v1::Job> LocalCluster::WaitForWaitingReason(
    const std::string& job_id, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  quarry::v1::GetJobRequest request;
  request.set_job_id(job_id);
  quarry::v1::GetJobResponse response;
  do {
    grpc::Status status = jobs_->GetJob(Context().get(), request, &response);
    if (!status.ok()) return FromGrpcStatus(status);
  } while (response.job().waiting_reason().empty() && absl::Now() < deadline);
  return response.job();
}

std::unique_ptr<grpc::ClientContext> LocalCluster::Context(
    absl::Duration timeout) const {
  std::unique_ptr<grpc::ClientContext> context = ContextWithDeadline(timeout);
  AddToken(token_, *context);
  return context;
}

std::string LocalCluster::LogTails() const {
  std::string out;
  for (const auto& entry : std::filesystem::directory_iterator(dir())) {
    if (entry.path().extension() != ".log") continue;
    absl::StrAppend(&out, "--- ", entry.path().filename().string(), "\n",
                    TailOfFile(entry.path().string(), 15));
  }
  return out;
}

}  // namespace quarry::testing

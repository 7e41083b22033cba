#include "bench/bench_cluster.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/status_util.h"

namespace quarry::bench {
namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(20);
constexpr absl::Duration kStopGrace = absl::Seconds(5);

}  // namespace

namespace {

// Two adjacent clock-tick fields of /proc/<pid>/stat, counted from 1 as in
// proc(5), summed in seconds; 0 if unknown.
double StatCpuSeconds(pid_t pid, int first_field) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) in parentheses,
  // which start with field 3 (state).
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
  const size_t index = first_field - 3;
  double first = 0, second = 0;
  if (fields.size() < index + 2 || !absl::SimpleAtod(fields[index], &first) ||
      !absl::SimpleAtod(fields[index + 1], &second)) {
    return 0;
  }
  return (first + second) / sysconf(_SC_CLK_TCK);
}

}  // namespace

// utime is field 14, stime 15; cutime 16, cstime 17.
double ProcessCpuSeconds(pid_t pid) { return StatCpuSeconds(pid, 14); }

double ReapedChildrenCpuSeconds(pid_t pid) { return StatCpuSeconds(pid, 16); }

std::shared_ptr<grpc::Channel> NewPrivateChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

absl::StatusOr<std::unique_ptr<BenchCluster>> BenchCluster::Start(
    const ClusterOptions& options, int workers, int slots) {
  std::unique_ptr<BenchCluster> cluster(new BenchCluster(options));
  if (absl::Status status = cluster->StartLeader(); !status.ok()) return status;
  for (int i = 0; i < workers; ++i) {
    absl::Status status =
        cluster->StartWorker(absl::StrCat("bench-w", i), slots);
    if (!status.ok()) return status;
  }
  if (absl::Status status =
          cluster->WaitForAliveWorkers(workers, kStartTimeout);
      !status.ok()) {
    return status;
  }
  return cluster;
}

absl::StatusOr<std::unique_ptr<BenchCluster>> BenchCluster::StartSimulated(
    const ClusterOptions& options, int workers, int slots,
    const std::vector<std::string>& leader_flags) {
  std::unique_ptr<BenchCluster> cluster(new BenchCluster(options));
  if (absl::Status status = cluster->StartLeader(leader_flags); !status.ok()) {
    return status;
  }
  if (absl::Status status = cluster->StartSimulatedWorkers(workers, slots);
      !status.ok()) {
    return status;
  }
  if (absl::Status status = cluster->WaitForAliveWorkers(
          workers, kStartTimeout + absl::Milliseconds(20) * workers);
      !status.ok()) {
    return status;
  }
  return cluster;
}

BenchCluster::~BenchCluster() { Shutdown().IgnoreError(); }

absl::Status BenchCluster::StartLeader(const std::vector<std::string>& flags) {
  const std::string port_file = options_.work_dir + "/leader.port";
  std::filesystem::remove(port_file);
  std::vector<std::string> argv = {options_.leader_binary,
                                   "--listen=127.0.0.1:0",
                                   "--port_file=" + port_file};
  argv.insert(argv.end(), flags.begin(), flags.end());
  absl::StatusOr<testing::Subprocess> leader =
      testing::Subprocess::Start(argv, leader_log());
  if (!leader.ok()) return leader.status();
  leader_ = std::move(*leader);
  const absl::Time deadline = absl::Now() + kStartTimeout;
  int port = 0;
  while (port <= 0) {
    std::ifstream in(port_file);
    if (in >> port && port > 0) break;
    if (absl::StatusOr<int> code = leader_.Wait(absl::Milliseconds(10));
        code.ok()) {
      return absl::InternalError(absl::StrCat("quarry-leader exited with code ",
                                              *code, "\n", LogTails()));
    }
    if (absl::Now() > deadline) {
      return absl::DeadlineExceededError(
          absl::StrCat("quarry-leader did not listen\n", LogTails()));
    }
  }
  leader_address_ = absl::StrCat("127.0.0.1:", port);
  auto channel =
      grpc::CreateChannel(leader_address_, grpc::InsecureChannelCredentials());
  jobs_ = quarry::v1::JobService::NewStub(channel);
  cluster_ = quarry::v1::ClusterService::NewStub(channel);
  return absl::OkStatus();
}

absl::Status BenchCluster::StartWorker(const std::string& id, int slots) {
  std::vector<std::string> argv = {
      options_.worker_binary, "--leader=" + leader_address_,
      "--listen=127.0.0.1:0", absl::StrCat("--slots=", slots),
      "--id=" + id,           "--drain_grace=2s"};
  argv.insert(argv.end(), options_.worker_flags.begin(),
              options_.worker_flags.end());
  absl::StatusOr<testing::Subprocess> worker = testing::Subprocess::Start(
      argv, absl::StrCat(options_.work_dir, "/worker-", id, ".log"));
  if (!worker.ok()) return worker.status();
  workers_.insert_or_assign(id, std::move(*worker));
  return absl::OkStatus();
}

absl::Status BenchCluster::StartSimulatedWorkers(int workers, int slots) {
  absl::StatusOr<testing::Subprocess> simulator = testing::Subprocess::Start(
      {options_.sim_workers_binary, "--leader=" + leader_address_,
       "--listen=127.0.0.1:0", absl::StrCat("--workers=", workers),
       absl::StrCat("--slots=", slots)},
      options_.work_dir + "/sim-workers.log");
  if (!simulator.ok()) return simulator.status();
  workers_.insert_or_assign("simulated", std::move(*simulator));
  return absl::OkStatus();
}

absl::Status BenchCluster::WaitForAliveWorkers(int count,
                                               absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  int alive = 0;
  while (absl::Now() < deadline) {
    quarry::v1::GetClusterResponse response;
    grpc::Status status = cluster_->GetCluster(
        ContextWithDeadline(absl::Seconds(2)).get(), {}, &response);
    if (status.ok()) {
      alive = 0;
      for (const auto& worker : response.workers()) {
        alive += worker.status() == quarry::v1::WORKER_STATUS_ALIVE;
      }
      if (alive >= count) return absl::OkStatus();
    }
    absl::SleepFor(absl::Milliseconds(10));  // Registration has no event.
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "only ", alive, " of ", count, " workers ALIVE\n", LogTails()));
}

absl::Status BenchCluster::StopLeader() {
  if (!leader_.running()) return absl::OkStatus();
  const int code = leader_.Stop(kStopGrace);
  if (code == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat("leader exited with ", code));
}

absl::Status BenchCluster::Shutdown() {
  std::string failures;
  auto stop = [&failures](const std::string& name,
                          testing::Subprocess& process) {
    if (!process.running()) return;
    const int code = process.Stop(kStopGrace);
    if (code != 0)
      absl::StrAppend(&failures, name, " exited with ", code, "; ");
  };
  for (auto& [id, worker] : workers_) stop("worker " + id, worker);
  stop("leader", leader_);
  if (failures.empty()) return absl::OkStatus();
  return absl::InternalError(failures);
}

absl::StatusOr<quarry::v1::SubmitJobResponse> BenchCluster::Submit(
    const quarry::v1::JobSpec& spec) {
  quarry::v1::SubmitJobRequest request;
  *request.mutable_spec() = spec;
  quarry::v1::SubmitJobResponse response;
  grpc::Status status = jobs_->SubmitJob(
      ContextWithDeadline(absl::Seconds(30)).get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

absl::StatusOr<quarry::v1::Job> BenchCluster::WaitForJob(
    const std::string& job_id, absl::Duration timeout) {
  quarry::v1::WatchJobRequest request;
  request.set_job_id(job_id);
  auto context = ContextWithDeadline(timeout);
  auto stream = jobs_->WatchJob(context.get(), request);
  quarry::v1::JobEvent event;
  quarry::v1::Job last;
  while (stream->Read(&event)) last = std::move(*event.mutable_job());
  grpc::Status status = stream->Finish();
  if (!status.ok()) {
    return absl::Status(
        FromGrpcStatus(status).code(),
        absl::StrCat("WatchJob ", job_id, ": ", status.error_message(),
                     " (last state ", quarry::v1::JobState_Name(last.state()),
                     ")\n", LogTails()));
  }
  return last;
}

absl::StatusOr<quarry::v1::GetJobResultResponse> BenchCluster::GetJobResult(
    const std::string& job_id) {
  quarry::v1::GetJobResultRequest request;
  request.set_job_id(job_id);
  quarry::v1::GetJobResultResponse response;
  grpc::Status status = jobs_->GetJobResult(
      ContextWithDeadline(absl::Seconds(30)).get(), request, &response);
  if (!status.ok()) return FromGrpcStatus(status);
  return response;
}

double BenchCluster::WorkersCpuSeconds() const {
  double seconds = 0;
  for (const auto& [id, worker] : workers_) {
    if (worker.running()) seconds += ProcessCpuSeconds(worker.pid());
  }
  return seconds;
}

double BenchCluster::WorkersChildrenCpuSeconds() const {
  double seconds = 0;
  for (const auto& [id, worker] : workers_) {
    if (worker.running()) seconds += ReapedChildrenCpuSeconds(worker.pid());
  }
  return seconds;
}

double BenchCluster::ClusterCpuSeconds() const {
  return WorkersCpuSeconds() +
         (leader_.running() ? ProcessCpuSeconds(leader_.pid()) : 0) +
         ProcessCpuSeconds(getpid());
}

std::string BenchCluster::LogTails() const {
  std::string out;
  std::error_code ignored;
  for (const auto& entry :
       std::filesystem::directory_iterator(options_.work_dir, ignored)) {
    if (entry.path().extension() != ".log") continue;
    absl::StrAppend(&out, "--- ", entry.path().filename().string(), "\n",
                    testing::TailOfFile(entry.path().string(), 15));
  }
  return out;
}

}  // namespace quarry::bench

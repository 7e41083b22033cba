#include "worker/worker_server.h"

#include <glog/logging.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "absl/memory/memory.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/auth.h"
#include "common/ids.h"
#include "common/job_kinds.h"
#include "common/server_util.h"
#include "worker/exec/exec_kind.h"

namespace quarry::worker {
namespace {

constexpr absl::Duration kServerShutdownGrace = absl::Seconds(1);

bool IsWildcardHost(absl::string_view host) {
  return host == "0.0.0.0" || host == "[::]" || host == "::" || host == "*" ||
         host.empty();
}

std::string HostOf(absl::string_view address) {
  const size_t colon = address.rfind(':');
  return std::string(address.substr(0, colon));
}

}  // namespace

std::string Hostname() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') {
    return "localhost";
  }
  return name;
}

absl::StatusOr<std::map<std::string, std::string>> ParseLabels(
    absl::string_view text) {
  std::map<std::string, std::string> labels;
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(item, absl::MaxSplits('=', 1));
    const absl::string_view key = absl::StripAsciiWhitespace(kv.first);
    if (key.empty() || item.find('=') == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--label \"", item, "\" is not key=value"));
    }
    labels[std::string(key)] =
        std::string(absl::StripAsciiWhitespace(kv.second));
  }
  return labels;
}

absl::Status ValidateWorkerConfig(const WorkerConfig& config) {
  if (config.slots < 1 || config.slots > kMaxSlots) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--slots must be between 1 and ", kMaxSlots, ", got ", config.slots));
  }
  if (config.queue_per_slot < 0 || config.queue_per_slot > kMaxQueuePerSlot) {
    return absl::InvalidArgumentError(
        absl::StrCat("--queue_per_slot must be between 0 and ",
                     kMaxQueuePerSlot, ", got ", config.queue_per_slot));
  }
  if (!config.allow_exec &&
      (!config.exec_allow.empty() || !config.exec_user.empty())) {
    return absl::InvalidArgumentError(
        "--exec_allow and --exec_user need --allow_exec");
  }
  if (absl::Status s = ValidateHostPort(config.listen, "--listen"); !s.ok()) {
    return s;
  }
  if (!IsLoopbackListen(config.listen) && config.token_file.empty() &&
      config.tls.client_ca.empty() && !config.insecure) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--listen=", config.listen,
        " is not a loopback address and there is no --token_file or "
        "--tls_client_ca: anyone who reaches the port could start tasks "
        "here. Give --token_file (the worker then takes calls only from its "
        "leader) or --tls_client_ca (only callers with a certificate that CA "
        "signed), or --insecure to serve it anyway (docs/security.md)"));
  }
  if (absl::Status s = ValidateHostPort(config.leader, "--leader"); !s.ok()) {
    return s;
  }
  if (absl::Status exist = config.data_roots.CheckDirectoriesExist();
      !exist.ok()) {
    return absl::InvalidArgumentError(exist.message());
  }
  if (!config.metrics_listen.empty()) {
    if (absl::Status s =
            ValidateHostPort(config.metrics_listen, "--metrics_listen");
        !s.ok()) {
      return s;
    }
  }
  if (config.drain.grace < absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--drain_grace must not be negative, got ",
                     absl::FormatDuration(config.drain.grace)));
  }
  if (absl::Status s = AttemptLogStore::Validate(config.attempt_logs);
      !s.ok()) {
    return s;
  }
  if (!config.worker_id.empty()) {
    if (absl::Status s = ValidateWorkerId(config.worker_id, "--id"); !s.ok()) {
      return s;
    }
  }
  if (config.advertise_host.find_first_of(" \t\n/") != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--advertise_host \"", config.advertise_host, "\" is not a host name"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<WorkerServer>> WorkerServer::Start(
    const WorkerConfig& config, std::unique_ptr<LeaderClient> leader) {
  if (absl::Status valid = ValidateWorkerConfig(config); !valid.ok()) {
    return valid;
  }
  absl::StatusOr<TlsMaterial> tls = LoadTlsMaterial(config.tls, "--tls_");
  if (!tls.ok()) return tls.status();
  auto worker = absl::WrapUnique(new WorkerServer());
  WorkerServer* const self = worker.get();
  // With --token_file: sent with every call to the leader, and required of
  // every call to this worker (the leader sends the token it registered
  // with).
  std::string token;
  if (!config.token_file.empty()) {
    absl::StatusOr<std::string> read = ReadTokenFile(config.token_file);
    if (!read.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--token_file: ", read.status().message()));
    }
    token = *std::move(read);
  }
  worker->leader_ = leader != nullptr
                        ? std::move(leader)
                        : std::make_unique<GrpcLeaderClient>(
                              config.leader, token, ChannelCredentialsFor(*tls));
  worker->kinds_ = NewBuiltInKindRegistry();
  if (config.allow_exec) {
    absl::StatusOr<ExecOptions> exec = MakeExecOptions(
        config.exec_user, config.exec_allow, config.exec_scratch_dir);
    if (!exec.ok()) return exec.status();
    LOG(WARNING) << "--allow_exec: this worker runs the programs of exec jobs"
                 << (exec->user.empty() ? "" : absl::StrCat(" as ", exec->user))
                 << (exec->allow.empty() ? ", any program"
                                         : ", only those of --exec_allow");
    worker->kinds_->Register(kExecKind, true, NewExecKind(*exec));
    worker->kinds_->Register(kExecKind, false, NewExecKind(*std::move(exec)));
  }
  if (!config.plugin_dir.empty()) {
    worker->plugins_ = LoadPlugins(config.plugin_dir, *worker->kinds_);
  }
  absl::StatusOr<std::unique_ptr<AttemptLogStore>> logs =
      AttemptLogStore::Open(config.attempt_logs, &worker->clock_);
  if (!logs.ok()) return logs.status();
  worker->attempt_logs_ = *std::move(logs);
  SlotExecutor::Options executor_options;
  executor_options.slots = config.slots;
  executor_options.queue = config.slots * config.queue_per_slot;
  executor_options.attempt_logs = worker->attempt_logs_.get();
  executor_options.data_roots = config.data_roots;
  // No attempt can start before SetIdentity() below, which comes after
  // reporter_ and commit_gate_ exist, so the callbacks always find them.
  worker->executor_ = std::make_unique<SlotExecutor>(
      executor_options, worker->kinds_.get(), &worker->clock_,
      [self, window = config.reporter.coalesce_window](
          const quarry::v1::AttemptStatus& status) {
        self->worker_metrics_.OnAttemptFinished(status);
        // Attempts that started with this one (one StartTasks batch) will
        // likely end with it: report them together.
        self->reporter_->Enqueue(
            status, self->executor_->RunsAttemptYoungerThan(window));
      },
      [self](const std::string& attempt_id, const CancelFlag& cancel) {
        return self->commit_gate_->Ask(attempt_id, cancel);
      });
  worker->service_ = std::make_unique<TimedWorkerService>(
      &worker->rpc_metrics_, worker->executor_.get(),
      worker->attempt_logs_.get(), std::move(token), &worker->fence_);

  if (!config.metrics_listen.empty()) {
    if (absl::Status served = worker->metrics_.Serve(config.metrics_listen);
        !served.ok()) {
      return served;
    }
  }
  absl::StatusOr<StartedServer> started =
      StartGrpcServer(config.listen, {worker->service_.get()},
                      /*max_request_bytes=*/0, ServerCredentialsFor(*tls));
  if (!started.ok()) return started.status();
  worker->server_ = std::move(started->server);
  worker->port_ = started->port;

  std::string host = config.advertise_host;
  if (host.empty()) {
    host = HostOf(config.listen);
    if (IsWildcardHost(host)) host = Hostname();
  }
  worker->address_ = absl::StrCat(host, ":", worker->port_);
  worker->worker_id_ = config.worker_id.empty()
                           ? absl::StrCat(Hostname(), "-", worker->port_)
                           : config.worker_id;
  if (absl::Status valid = ValidateWorkerId(worker->worker_id_, "--id");
      !valid.ok()) {
    return valid;
  }
  const std::string& id = worker->worker_id_;
  LeaderClient* const leader_client = worker->leader_.get();

  Reporter::Options reporter_options = config.reporter;
  reporter_options.fence = &worker->fence_;
  quarry::v1::RegisterWorkerRequest& registration =
      reporter_options.registration;
  registration.set_worker_id(id);
  registration.set_address(worker->address_);
  registration.set_slots(config.slots);
  registration.set_queue(config.slots * config.queue_per_slot);
  for (std::string& kind : worker->kinds_->Names()) {
    registration.add_kinds(std::move(kind));
  }
  for (const quarry::v1::KindDescription& kind : worker->plugins_.kinds) {
    *registration.add_plugin_kinds() = kind;
  }
  for (const auto& [key, value] : config.labels) {
    (*registration.mutable_labels())[key] = value;
  }
  reporter_options.current_attempts = [self] {
    return self->executor_->Snapshot(/*include_finished=*/true).attempts;
  };
  worker->commit_gate_ =
      std::make_unique<CommitGate>(config.commit, id, leader_client,
                                   &worker->fence_);
  // The connection and the reporter call each other; neither calls before
  // Start() below.
  worker->connection_ = std::make_unique<LeaderConnection>(
      config.connection, id, leader_client,
      LeaderConnection::Callbacks{
          [self] { self->RequestDrain("the leader sent KIND_DRAIN"); },
          [self](int64_t registrations) {
            self->reporter_->RegisterAgain(registrations);
          }});
  worker->reporter_ = std::make_unique<Reporter>(
      std::move(reporter_options), leader_client,
      [self](int64_t registrations) {
        self->connection_->OnRegistered(registrations);
      });
  worker->drainer_ =
      std::make_unique<Drainer>(config.drain, id, worker->executor_.get(),
                                worker->reporter_.get(), leader_client);
  worker->worker_metrics_.CollectFrom(worker->executor_.get(),
                                      worker->reporter_.get());
  worker->service_->SetIdentity(id, worker->address_);
  worker->reporter_->Start();
  worker->connection_->Start();
  return worker;
}

WorkerServer::~WorkerServer() { Shutdown(); }

void WorkerServer::RequestDrain(absl::string_view reason) {
  if (drainer_ != nullptr) drainer_->Request(reason);
}

void WorkerServer::SkipDrainGrace() {
  if (drainer_ != nullptr) drainer_->SkipGrace();
}

bool WorkerServer::WaitForDrainRequest(absl::Duration timeout) {
  return drainer_ != nullptr && drainer_->WaitForRequest(timeout);
}

Drainer::Result WorkerServer::Drain() {
  Drainer::Result result;
  if (drainer_ != nullptr && !shut_down_) result = drainer_->Run();
  Shutdown();
  return result;
}

void WorkerServer::Shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  metrics_.StopServing();
  if (executor_ != nullptr) executor_->Shutdown();
  if (reporter_ != nullptr) reporter_->Stop();
  // After the last report: the leader then sees CANCELLED attempts rather
  // than attempts LOST with the worker.
  if (connection_ != nullptr) connection_->Stop();
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + kServerShutdownGrace));
  }
  LOG(INFO) << "worker " << worker_id_ << " stopped";
}

}  // namespace quarry::worker

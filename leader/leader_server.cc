#include "leader/leader_server.h"

#include <glog/logging.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/memory_store.h"
#include "common/redis_store.h"
#include "leader/workers/grpc_worker_client.h"
#include "leader/history/postgres_history.h"

namespace quarry {

absl::StatusOr<std::unique_ptr<Store>> OpenStore(const std::string& url,
                                                 const std::string& cluster) {
  if (url == "memory") return std::make_unique<MemoryStore>();
  if (absl::StartsWith(url, "redis://")) {
    absl::StatusOr<RedisAddress> address = ParseRedisUrl(url);
    if (!address.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--store: ", address.status().message()));
    }
    RedisStoreOptions options;
    options.address = *address;
    options.cluster_name = cluster;
    absl::StatusOr<std::unique_ptr<RedisStore>> store =
        RedisStore::Create(options);
    if (!store.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--cluster_name: ", store.status().message()));
    }
    return std::unique_ptr<Store>(*std::move(store));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--store must be \"memory\" or redis://HOST:PORT[/DB], got \"", url,
      "\""));
}

LeaderServer::LeaderServer(LeaderConfig config)
    : config_(std::move(config)),
      leader_metrics_(&metrics_),
      rpc_metrics_(&metrics_),
      finalizer_(config_.data_roots) {}

LeaderServer::~LeaderServer() { Shutdown(); }

absl::Status LeaderServer::SetUpAuth() {
  if (config_.auth_file.empty()) {
    for (const auto& [flag, address] :
         {std::pair<const char*, const std::string&>("--listen",
                                                     config_.listen),
          std::pair<const char*, const std::string&>("--http_listen",
                                                     config_.http_listen)}) {
      if (address.empty() || IsLoopbackListen(address)) continue;
      if (!config_.insecure) {
        return absl::InvalidArgumentError(absl::StrCat(
            flag, "=", address,
            " is not a loopback address and there is no --auth_file: anyone "
            "who reaches it could run jobs, cancel them and register "
            "workers. Give --auth_file (docs/security.md), or --insecure to "
            "serve without auth anyway"));
      }
      LOG(WARNING) << "--insecure: serving " << address
                   << " without authentication; anyone who reaches it may "
                      "submit, cancel, drain and register workers";
    }
    callers_ = std::make_unique<CallerCheck>(nullptr);
    return absl::OkStatus();
  }
  absl::StatusOr<AuthTable> table = AuthTable::Load(config_.auth_file);
  if (!table.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--auth_file: ", table.status().message()));
  }
  LOG(INFO) << "auth: " << table->size() << " principals from "
            << config_.auth_file;
  authenticator_ =
      std::make_unique<Authenticator>(config_.auth_file, *std::move(table));
  callers_ = std::make_unique<CallerCheck>(authenticator_.get());
  return absl::OkStatus();
}

absl::Status LeaderServer::ReloadAuth() {
  if (authenticator_ == nullptr) {
    return absl::FailedPreconditionError("no --auth_file to reload");
  }
  absl::Status reloaded = authenticator_->Reload();
  if (reloaded.ok()) {
    LOG(INFO) << "auth: reloaded " << config_.auth_file;
  } else {
    LOG(ERROR) << "auth: kept the previous principals: " << reloaded;
  }
  return reloaded;
}

absl::Status LeaderServer::Start() {
  absl::StatusOr<TlsMaterial> tls = LoadTlsMaterial(config_.tls, "--tls_");
  if (!tls.ok()) return tls.status();
  if (absl::Status auth = SetUpAuth(); !auth.ok()) return auth;
  // Calls to workers go over TLS when --tls_ca is set (with the leader's
  // certificate: mTLS) and, with auth, carry the token each registered with.
  worker_clients_ = std::make_unique<GrpcWorkerClientFactory>(
      ChannelCredentialsFor(*tls),
      authenticator_ != nullptr ? &worker_tokens_ : nullptr, &epoch_);
  if (absl::Status exist = config_.data_roots.CheckDirectoriesExist();
      !exist.ok()) {
    return absl::InvalidArgumentError(exist.message());
  }
  absl::StatusOr<std::unique_ptr<Store>> store =
      OpenStore(config_.store, config_.cluster_name);
  if (!store.ok()) return store.status();
  store_ = *std::move(store);
  if (!config_.history.empty()) {
    PostgresHistoryOptions options;
    options.url = config_.history;
    options.cluster_name = config_.cluster_name;
    absl::StatusOr<std::unique_ptr<PostgresHistory>> history =
        PostgresHistory::Create(options);
    if (!history.ok()) return history.status();
    history_ = *std::move(history);
  }
  controller_ = std::make_unique<Controller>(
      store_.get(), worker_clients_.get(), &finalizer_, &clock_, &notifier_,
      config_.controller, history_.get(), &leader_metrics_);
  leader_metrics_.CollectFrom(controller_.get(), &readiness_);
  if (history_ != nullptr) leader_metrics_.CollectFrom(history_.get());
  PlannerLimits limits;
  limits.max_pending_tasks = config_.max_pending_tasks;
  limits.data_roots = config_.data_roots;
  job_manager_ = std::make_unique<JobManager>(
      store_.get(), controller_.get(), &notifier_, &clock_, limits,
      history_.get(), &leader_metrics_);
  if (config_.retention > absl::ZeroDuration()) {
    retention_ = std::make_unique<RetentionSweeper>(
        store_.get(), history_.get(), &clock_, config_.retention);
  }
  attempt_logs_ = std::make_unique<AttemptLogFetcher>(
      store_.get(), history_.get(), worker_clients_.get(),
      config_.controller.worker_rpc_timeout);
  job_service_ = std::make_unique<TimedJobService>(
      &rpc_metrics_, job_manager_.get(), &readiness_, attempt_logs_.get(),
      /*get_job_never_blocks=*/store_->NeverBlocks() && history_ == nullptr,
      callers_.get());
  cluster_service_ = std::make_unique<TimedClusterService>(
      &rpc_metrics_, controller_.get(), store_.get(), &clock_, &readiness_,
      callers_.get(), &worker_tokens_, &epoch_);

  if (!config_.metrics_listen.empty()) {
    if (absl::Status served = metrics_.Serve(config_.metrics_listen);
        !served.ok()) {
      return served;
    }
  }
  absl::StatusOr<StartedServer> started = StartGrpcServer(
      config_.listen, {job_service_.get(), cluster_service_.get()},
      config_.max_request_bytes, ServerCredentialsFor(*tls));
  if (!started.ok()) return started.status();
  server_ = std::move(started->server);
  port_ = started->port;
  if (auto* health = server_->GetHealthCheckService(); health != nullptr) {
    health->SetServingStatus(false);
  }
  if (!config_.http_listen.empty()) {
    http_job_calls_ = std::make_unique<JobCalls>(
        job_manager_.get(), &readiness_, attempt_logs_.get(), callers_.get());
    http_api_ = std::make_unique<HttpApi>(http_job_calls_.get(), callers_.get(),
                                          &readiness_, store_.get(), &clock_);
    HttpServerOptions options;
    options.listen = config_.http_listen;
    options.max_request_bytes = config_.max_request_bytes;
    http_server_ = std::make_unique<HttpServer>(http_api_.get(), options);
    if (absl::Status served = http_server_->Start(); !served.ok()) {
      return served;
    }
  }
  restore_thread_ = std::thread([this] { RestoreThenRun(); });
  return absl::OkStatus();
}

void LeaderServer::RestoreThenRun() {
  constexpr absl::Duration kMaxBackoff = absl::Seconds(2);
  absl::Duration backoff = absl::Milliseconds(50);
  for (int failures = 0;; ++failures) {
    absl::Status restored = controller_->Restore(clock_.Now());
    if (restored.ok()) break;
    if (failures == 0 || failures % 10 == 0) {
      LOG(ERROR) << "cannot load state from the store " << config_.store
                 << " (try " << failures + 1 << "; retrying): " << restored;
    }
    readiness_.SetWaiting(absl::StrCat("cannot load state from the store (",
                                       restored.message(), "); retrying"));
    absl::MutexLock lock(&mu_);
    // Retried until the store answers or the leader stops: each try is
    // bounded by the store's timeouts.
    if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff)) return;
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
  controller_->Start();
  if (retention_ != nullptr) retention_->Start();
  readiness_.SetReady();
  if (auto* health = server_->GetHealthCheckService(); health != nullptr) {
    health->SetServingStatus(true);
  }
  LOG(INFO) << "the leader is ready (store: " << config_.store << ")";
}

void LeaderServer::Shutdown() {
  metrics_.StopServing();
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (restore_thread_.joinable()) restore_thread_.join();
  if (http_server_ != nullptr) http_server_->Stop();
  if (server_ != nullptr) {
    // Workers' streams end now (they reconnect to the next leader);
    // WatchJob streams get a moment to end, then are cancelled.
    cluster_service_->CloseConnections();
    server_->Shutdown(std::chrono::system_clock::now() +
                      std::chrono::seconds(1));
    server_.reset();
  }
  if (retention_ != nullptr) retention_->Stop();
  if (controller_ != nullptr) controller_->Stop();
  // Then the history writer drains (bounded) when history_ goes.
}

}  // namespace quarry

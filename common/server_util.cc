#include "common/server_util.h"

#include <pthread.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <functional>
#include <thread>

#include <glog/logging.h>
#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "common/env_flags.h"
#include "common/ids.h"
#include "grpc/health/v1/health.pb.h"

namespace quarry {
namespace {
absl::Notification* TerminationNotification() {
  static auto* const kNotification = new absl::Notification();
  return kNotification;
}

sigset_t TerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  return signals;
}
}  // namespace

absl::StatusOr<StartedServer> StartGrpcServer(
    absl::string_view listen, const std::vector<grpc::Service*>& services,
    int max_request_bytes,
    std::shared_ptr<grpc::ServerCredentials> credentials) {
  if (absl::Status valid = ValidateHostPort(listen, "--listen"); !valid.ok()) {
    return valid;
  }
  grpc::EnableDefaultHealthCheckService(true);
  // Link the health service's descriptor into this binary so reflection can
  // describe it (grpcurl ... grpc.health.v1.Health/Check needs no .proto).
  (void)grpc::health::v1::HealthCheckRequest::descriptor();
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // A second process on the same HOST:PORT fails to start instead of
  // silently sharing the port (gRPC sets SO_REUSEPORT by default).
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  if (max_request_bytes > 0) builder.SetMaxReceiveMessageSize(max_request_bytes);
  StartedServer started;
  if (credentials == nullptr) credentials = grpc::InsecureServerCredentials();
  builder.AddListeningPort(std::string(listen), credentials, &started.port);
  for (grpc::Service* service : services) builder.RegisterService(service);
  started.server = builder.BuildAndStart();
  if (started.server == nullptr || started.port == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", listen,
                     " (address in use or not local?)"));
  }
  return started;
}

std::string WithPort(absl::string_view listen, int port) {
  const size_t colon = listen.rfind(':');
  return absl::StrCat(listen.substr(0, colon), ":", port);
}

absl::Status WritePortFile(const std::string& path, int port) {
  if (path.empty()) return absl::OkStatus();
  const std::string temp = absl::StrCat(path, ".tmp");
  {
    std::ofstream out(temp, std::ios::trunc);
    out << port << "\n";
    if (!out.good()) {
      return absl::InternalError(absl::StrCat("cannot write ", temp));
    }
  }
  if (std::rename(temp.c_str(), path.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot rename ", temp, " to ", path));
  }
  return absl::OkStatus();
}

absl::Status AnnounceMetricsPort(absl::string_view listen, int port,
                                 const std::string& port_file) {
  if (port == 0) return absl::OkStatus();
  if (absl::Status written = WritePortFile(port_file, port); !written.ok()) {
    return written;
  }
  LOG(INFO) << "metrics on http://" << WithPort(listen, port) << "/metrics";
  return absl::OkStatus();
}

std::vector<char*> InitProgram(int argc, char** argv, absl::string_view usage) {
  absl::SetProgramUsageMessage(absl::StrCat(
      usage,
      "\nEvery flag can also be set in the environment as QUARRY_<FLAG>, "
      "e.g. QUARRY_LISTEN; the command line wins."));
  // --help lists the flags Quarry defines (not those of the libraries);
  // those are also the ones the environment can set.
  absl::FlagsUsageConfig config;
  config.contains_help_flags = IsQuarryFlagFile;
  config.contains_helpshort_flags = config.contains_help_flags;
  absl::SetFlagsUsageConfig(config);
  std::vector<char*> positional = ParseEnvironmentAndCommandLine(argc, argv);
  // absl::Mutex's deadlock detector keeps a lock graph on every acquisition
  // (2% of a busy leader's CPU); the lock annotations and the clang
  // thread-safety analysis guard the lock order instead.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  FLAGS_logtostderr = true;
  google::InitGoogleLogging(argv[0]);
  // Block SIGINT/SIGTERM (and SIGHUP) before any thread starts, so every
  // thread inherits the mask and WaitForTerminationSignal (and
  // WatchReloadSignal) receive them synchronously.
  sigset_t signals = TerminationSignals();
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return positional;
}

std::vector<std::string> RepeatedFlagValues(int argc, char** argv,
                                            absl::string_view name) {
  std::vector<std::string> values;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (arg == "--") break;
    if (!absl::ConsumePrefix(&arg, "--")) {
      if (!absl::ConsumePrefix(&arg, "-")) continue;
    }
    if (!absl::ConsumePrefix(&arg, name)) continue;
    if (absl::ConsumePrefix(&arg, "=")) {
      values.emplace_back(arg);
    } else if (arg.empty() && i + 1 < argc) {
      values.emplace_back(argv[++i]);
    }
  }
  return values;
}

void WaitForTerminationSignal() {
  const sigset_t signals = TerminationSignals();
  std::thread waiter([signals] {
    int received = 0;
    sigwait(&signals, &received);
    LOG(INFO) << "received signal " << received << ", shutting down";
    RequestTermination();
  });
  waiter.detach();
  TerminationNotification()->WaitForNotification();
}

void WatchReloadSignal(std::function<void()> reload) {
  std::thread watcher([reload = std::move(reload)] {
    sigset_t hangup;
    sigemptyset(&hangup);
    sigaddset(&hangup, SIGHUP);
    for (;;) {
      int received = 0;
      if (sigwait(&hangup, &received) == 0) reload();
    }
  });
  watcher.detach();
}

bool IsLoopbackListen(absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  absl::string_view host =
      colon == absl::string_view::npos ? listen : listen.substr(0, colon);
  if (absl::ConsumePrefix(&host, "[")) absl::ConsumeSuffix(&host, "]");
  return host == "localhost" || host == "::1" ||
         absl::StartsWith(host, "127.");
}

void RequestTermination() {
  if (!TerminationNotification()->HasBeenNotified()) {
    TerminationNotification()->Notify();
  }
}

}  // namespace quarry

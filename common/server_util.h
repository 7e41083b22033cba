#ifndef QUARRY_COMMON_SERVER_UTIL_H_
#define QUARRY_COMMON_SERVER_UTIL_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quarry {

// A running gRPC server and the port it really listens on.
struct StartedServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

// Starts a gRPC server on `listen` ("HOST:PORT"; port 0 picks a free port)
// serving `services`, the standard health service and server reflection (so
// `grpcurl -plaintext HOST:PORT list` works without .proto files). A
// request over `max_request_bytes` (0: gRPC's default, 4 MiB) is refused by
// gRPC with RESOURCE_EXHAUSTED before any service sees it. `credentials`
// (common/tls.h ServerCredentialsFor; null: insecure) say whether the port
// speaks TLS.
absl::StatusOr<StartedServer> StartGrpcServer(
    absl::string_view listen, const std::vector<grpc::Service*>& services,
    int max_request_bytes = 0,
    std::shared_ptr<grpc::ServerCredentials> credentials = nullptr);

// "HOST:PORT" with the port of `listen` replaced by `port`.
std::string WithPort(absl::string_view listen, int port);

// Writes `port` to `path` atomically (temp file + rename), so a script
// waiting for the file never reads half of it. No-op for an empty path.
absl::Status WritePortFile(const std::string& path, int port);

// When `port` is not 0 (metrics are served): writes it to `port_file` (see
// WritePortFile) and logs "metrics on http://HOST:PORT/metrics", HOST taken
// from `listen`.
absl::Status AnnounceMetricsPort(absl::string_view listen, int port,
                                 const std::string& port_file);

// Parses flags (absl), from the environment (QUARRY_<FLAG>, see
// common/env_flags.h) and then the command line, and sets up glog to log to
// stderr. Call first in main. Returns the positional arguments.
std::vector<char*> InitProgram(int argc, char** argv, absl::string_view usage);

// Every value given to the flag `name` on the command line, in order
// ("--name=V", "--name V", "-name=V", "-name V"), up to a "--" argument.
// absl keeps only a flag's last value; flags documented as repeatable
// (--data_root) read them all here. Neither the environment (QUARRY_<NAME>)
// nor a --flagfile is read: when this finds none, absl::GetFlag holds the
// value from those.
std::vector<std::string> RepeatedFlagValues(int argc, char** argv,
                                            absl::string_view name);

// Blocks the caller until SIGINT or SIGTERM arrives (or `RequestTermination`
// is called). Safe to call from one thread at a time.
void WaitForTerminationSignal();
void RequestTermination();

// Calls `reload` (on a thread of its own) each time SIGHUP arrives; SIGHUP
// is blocked in every thread by InitProgram, so without a watcher it does
// nothing.
void WatchReloadSignal(std::function<void()> reload);

// Whether a listen address ("127.0.0.1:7070", "[::1]:0", "localhost:1")
// only accepts connections from this machine. A wildcard or any other
// host is not loopback.
bool IsLoopbackListen(absl::string_view listen);

}  // namespace quarry

#endif  // QUARRY_COMMON_SERVER_UTIL_H_

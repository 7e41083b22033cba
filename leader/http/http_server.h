#ifndef QUARRY_LEADER_HTTP_HTTP_SERVER_H_
#define QUARRY_LEADER_HTTP_HTTP_SERVER_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "leader/http/http_api.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace quarry {

struct HttpServerOptions {
  // "HOST:PORT"; port 0 picks a free port.
  std::string listen;
  // Largest request body (--max_request_bytes); a bigger one gets 400.
  size_t max_request_bytes = 4 << 20;
  // Most Server-Sent Event streams open at once; more get 429.
  int max_event_streams = 32;
};

// The leader's HTTP listener (cpp-httplib): the router of the /v1 routes of
// docs/http.md onto HttpApi, JSON errors for unknown routes, bad requests
// and oversize bodies, Server-Sent Events for /v1/jobs/{id}/events. Owns
// the listener thread and httplib's worker pool (each open event stream
// holds one of its threads, hence max_event_streams). Start/Stop from one
// thread; the handlers run on httplib's threads.
class HttpServer {
 public:
  // `api` outlives this.
  HttpServer(const HttpApi* api, HttpServerOptions options);
  ~HttpServer();

  // Binds and serves on a thread of its own; an error names the address.
  absl::Status Start();
  // Ends event streams (within about a second: JobManager::Watch's poll)
  // and the listener; idempotent.
  void Stop();
  // The port really listened on (after Start).
  int port() const { return port_; }

 private:
  void AddRoutes();

  const HttpApi* const api_;
  const HttpServerOptions options_;
  std::unique_ptr<httplib::Server> server_;
  std::thread listener_;
  int port_ = 0;
  // Set by Stop(): open event streams end.
  std::atomic<bool> stopping_{false};
  std::atomic<int> open_streams_{0};
};

}  // namespace quarry

#endif  // QUARRY_LEADER_HTTP_HTTP_SERVER_H_

#ifndef QUARRY_TESTS_TESTING_TEST_SERVERS_H_
#define QUARRY_TESTS_TESTING_TEST_SERVERS_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/testing/temp_dir.h"

namespace quarry::testing {

// A real Redis or PostgreSQL server for a test, started on a free loopback
// port with its data in a temp dir by the project's own scripts
// (sbin/test-redis, sbin/test-postgres: the same ones sbin/test and CI
// use). Start() fails, with the script's output, when the server cannot
// start: tests that need one then fail loudly rather than skip. Stopped
// and removed when destroyed. Owned by one test; not thread-safe.
class TestServer {
 public:
  enum class Kind { kRedis, kPostgres };

  static absl::StatusOr<std::unique_ptr<TestServer>> Start(Kind kind);
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  // A clean shutdown (Redis flushes its append-only file).
  absl::Status Stop();
  // Redis only: kill -9.
  absl::Status Kill();
  // Starts it again on the same port with the same data.
  absl::Status Restart();

  int port() const { return port_; }
  // redis://127.0.0.1:PORT or postgresql://postgres@127.0.0.1:PORT/postgres.
  std::string url() const;

 private:
  TestServer(Kind kind) : kind_(kind) {}
  absl::Status RunScript(const std::string& command, bool with_port);

  const Kind kind_;
  TempDir dir_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_TEST_SERVERS_H_

#include "tests/testing/test_servers.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/testing/subprocess.h"

namespace quarry::testing {
namespace {

std::string Script(TestServer::Kind kind) {
  return absl::StrCat(QUARRY_SOURCE_DIR, "/sbin/",
                      kind == TestServer::Kind::kRedis ? "test-redis"
                                                       : "test-postgres");
}

}  // namespace

absl::StatusOr<std::unique_ptr<TestServer>> TestServer::Start(Kind kind) {
  std::unique_ptr<TestServer> server(new TestServer(kind));
  if (server->dir_.path().empty()) {
    return absl::InternalError("cannot create a temp dir");
  }
  if (absl::Status started = server->RunScript("start", false); !started.ok()) {
    return started;
  }
  return server;
}

TestServer::~TestServer() {
  if (running_) Stop().IgnoreError();
}

std::string TestServer::url() const {
  if (kind_ == Kind::kRedis) return absl::StrCat("redis://127.0.0.1:", port_);
  return absl::StrCat("postgresql://postgres@127.0.0.1:", port_, "/postgres");
}

absl::Status TestServer::RunScript(const std::string& command,
                                   bool with_port) {
  std::vector<std::string> argv = {Script(kind_), command, dir_.Join("server")};
  if (with_port) argv.push_back(absl::StrCat(port_));
  std::string output;
  absl::StatusOr<int> code = RunCommand(argv, &output, absl::Seconds(60));
  if (!code.ok()) return code.status();
  if (*code != 0) {
    return absl::UnavailableError(absl::StrCat(
        argv[0], " ", command, " failed (exit ", *code, "): ", output));
  }
  if (command == "start") {
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(output), &port_)) {
      return absl::InternalError(
          absl::StrCat(argv[0], " printed no port: ", output));
    }
    running_ = true;
  } else {
    running_ = false;
  }
  return absl::OkStatus();
}

absl::Status TestServer::Stop() { return RunScript("stop", false); }

absl::Status TestServer::Kill() {
  if (kind_ != Kind::kRedis) {
    return absl::UnimplementedError("only Redis can be killed");
  }
  return RunScript("kill", false);
}

absl::Status TestServer::Restart() { return RunScript("start", true); }

}  // namespace quarry::testing

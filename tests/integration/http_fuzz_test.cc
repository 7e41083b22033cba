// A bounded fuzz of the leader's HTTP listener: 10,000 malformed requests
// (random methods, paths, query strings, headers and bodies, and raw bytes
// that are not HTTP at all) from a fixed seed; the leader must answer each
// well-formed one with JSON, survive, and then still serve.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "quarry/v1/http.pb.h"
#include "tests/integration/http_test_util.h"

namespace quarry::testing {
namespace {

constexpr int kRequests = 10'000;
constexpr int kRawEvery = 20;  // One in this many is raw bytes on a socket.

class Fuzzer {
 public:
  explicit Fuzzer(uint32_t seed) : random_(seed) {}

  int Below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(random_); }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[Below(static_cast<int>(items.size()))];
  }

  std::string Bytes(int max) {
    std::string bytes(Below(max + 1), '\0');
    for (char& c : bytes) c = static_cast<char>(Below(256));
    return bytes;
  }

  std::string Segment() {
    static const std::vector<std::string> kSegments = {
        "job-000001", "job-1", "job-999999", "", "..", "%2e%2e", "%00",
        "job-000001:cancel", ":cancel", "tasks", "-1", "99999999999", "0",
        std::string(300, 'a'), "\xff\xfe", "job-000001%2Fresult", "{id}",
        "result", "events", "log"};
    return Below(4) == 0 ? Bytes(12) : Pick(kSegments);
  }

  std::string Path() {
    static const std::vector<std::string> kTemplates = {
        "/v1/jobs", "/v1/jobs/$", "/v1/jobs/$/result", "/v1/jobs/$:cancel",
        "/v1/jobs/$/events", "/v1/jobs/$/tasks/$/log", "/v1/cluster",
        "/v1/history", "/", "/v1", "/v1/jobs/$/$/$", "/v2/jobs"};
    std::string path;
    for (char c : Pick(kTemplates)) {
      if (c == '$') {
        absl::StrAppend(&path, Segment());
      } else {
        path.push_back(c);
      }
    }
    // httplib's client wants a printable path: escape the rest.
    std::string escaped;
    for (unsigned char c : path) {
      if (c > 0x20 && c < 0x7f && c != '#') {
        escaped.push_back(c);
      } else {
        absl::StrAppend(&escaped, "%", absl::Hex(c, absl::kZeroPad2));
      }
    }
    return escaped;
  }

  std::string Query() {
    static const std::vector<std::string> kParams = {
        "state=JOB_STATE_DONE", "state=NOPE", "state=-7", "page_size=10",
        "page_size=1e9", "page_size=", "page_token=%ff", "include_tasks=2",
        "include_tasks=true", "end_after=yesterday",
        "end_before=2026-13-45T99:00:00Z", "attempt_id=x", "job_id=job-1",
        "kind=", "=", "&&", "a=b=c", "colour=red", "pageSize=5&pageSize=6"};
    if (Below(2) == 0) return "";
    std::vector<std::string> params;
    for (int i = Below(4); i >= 0; --i) params.push_back(Pick(kParams));
    return absl::StrCat("?", absl::StrJoin(params, "&"));
  }

  std::string Body() {
    static const std::vector<std::string> kBodies = {
        R"({"kind": "wordcount", "inputs": ["/nonexistent"]})",
        R"({"kind": "sleep", "settings": {"ms": "x"}})",
        R"({"kind": 7})", R"({"settings": []})", R"({"inputs": "a"})",
        R"({"maxAttempts": 1e99})", R"({"taskTimeout": "forever"})",
        R"({"command": [1, 2]})", "null", "[]", "\"\"", "{", "}", "{}",
        R"({"kind": "sleep"} trailing)", R"({"kind": "\ud800"})",
        std::string(200, '[') + std::string(200, ']'),
        R"({"spec": {"kind": "sleep"}})", R"({"bytesPerTask": "-1"})"};
    switch (Below(4)) {
      case 0:
        return Bytes(64);
      case 1: {
        std::string body = Pick(kBodies);  // Truncated.
        return body.substr(0, Below(static_cast<int>(body.size()) + 1));
      }
      default:
        return Pick(kBodies);
    }
  }

  // Bytes that are not a well-formed HTTP request, or barely one.
  std::string RawRequest() {
    static const std::vector<std::string> kRaw = {
        "GET\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "\r\n\r\n",
        "POST /v1/jobs HTTP/1.1\r\nContent-Length: -5\r\n\r\n{}",
        "POST /v1/jobs HTTP/1.1\r\nContent-Length: 99999999999999\r\n\r\n",
        "POST /v1/jobs HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "GET /v1/cluster HTTP/1.1\r\nHost: x\r\n" + std::string(9000, 'h') +
            "\r\n\r\n",
        "GET /" + std::string(10000, 'p') + " HTTP/1.1\r\n\r\n",
        "GET /v1/cluster HTTP/1.1\r\nAuthorization: Bearer\r\n\r\n",
        "BREW /v1/jobs HTTP/1.1\r\n\r\n"};
    return Below(3) == 0 ? Bytes(256) : Pick(kRaw);
  }

 private:
  std::mt19937 random_;
};

// Writes `bytes` to a fresh connection to 127.0.0.1:`port`, reads what
// comes back until the server closes or 2 s pass, and closes.
void SendRaw(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  timeval timeout{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) ==
      0) {
    (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    char buffer[4096];
    while (recv(fd, buffer, sizeof(buffer), 0) > 0) {
    }
  }
  close(fd);
}

TEST(HttpFuzzTest, SurvivesMalformedRequestsThenStillServes) {
  absl::StatusOr<HttpCluster> http =
      StartHttpCluster({"--max_request_bytes=65536"}, /*workers=*/1, 2);
  ASSERT_TRUE(http.ok()) << http.status();
  std::unique_ptr<httplib::Client> client = http->Client();
  client->set_read_timeout(5, 0);
  Fuzzer fuzz(20261208);
  const std::vector<std::string> kMethods = {"GET", "POST", "PUT", "DELETE",
                                             "PATCH", "OPTIONS", "HEAD"};
  int answered = 0;
  int json_errors = 0;
  for (int i = 0; i < kRequests; ++i) {
    if (i % kRawEvery == 0) {
      SendRaw(http->http_port, fuzz.RawRequest());
      continue;
    }
    httplib::Request request;
    request.method = fuzz.Pick(kMethods);
    request.path = fuzz.Path() + fuzz.Query();
    if (request.method != "GET" && request.method != "HEAD") {
      request.body = fuzz.Body();
      request.set_header("Content-Type", "application/json");
    }
    if (fuzz.Below(5) == 0) {
      request.set_header("Authorization", fuzz.Below(2) ? "Bearer" : "Basic x");
    }
    httplib::Response response;
    httplib::Error error = httplib::Error::Success;
    if (!client->send(request, response, error)) continue;
    ++answered;
    // The events route of a real job would stream; the fuzz never makes one
    // that runs long, so every answer is complete.
    if (response.status >= 400 && request.method != "HEAD") {
      quarry::v1::HttpError body;
      if (FromJson(response.body, &body).ok() && body.code() != 0 &&
          !body.message().empty()) {
        ++json_errors;
      } else {
        ADD_FAILURE() << request.method << " " << request.path << " -> "
                      << response.status << " " << response.body;
      }
    }
    ASSERT_TRUE(http->cluster->leader().running());
  }
  std::cout << kRequests << " requests: " << answered
            << " answered over HTTP, " << json_errors << " JSON errors\n";
  EXPECT_GT(answered, kRequests / 2);
  EXPECT_GT(json_errors, kRequests / 4);

  // Still serving, over HTTP and gRPC, and still running jobs.
  auto cluster = http->Client()->Get("/v1/cluster");
  ASSERT_TRUE(cluster);
  EXPECT_EQ(cluster->status, 200) << cluster->body;
  quarry::v1::JobSpec spec;
  spec.set_kind("sleep");
  (*spec.mutable_settings())["ms"] = "1";
  (*spec.mutable_settings())["tasks"] = "4";
  absl::StatusOr<std::string> id = http->cluster->Submit(spec);
  ASSERT_TRUE(id.ok()) << id.status();
  absl::StatusOr<quarry::v1::Job> job = http->cluster->WaitForJob(*id);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state(), quarry::v1::JOB_STATE_DONE);
  absl::Status stopped = http->cluster->Shutdown();
  EXPECT_TRUE(stopped.ok()) << stopped;
}

}  // namespace
}  // namespace quarry::testing

#ifndef QUARRY_TESTS_INTEGRATION_HTTP_TEST_UTIL_H_
#define QUARRY_TESTS_INTEGRATION_HTTP_TEST_UTIL_H_

#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include <memory>
#include <string>
#include <vector>

#include <google/protobuf/message.h>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/local_cluster.h"

namespace quarry::testing {

// A LocalCluster whose leader also serves HTTP (--http_listen on a free
// loopback port), and an HTTP client of it.
struct HttpCluster {
  std::unique_ptr<LocalCluster> cluster;
  int http_port = 0;

  std::string base_url() const {
    return absl::StrCat("http://127.0.0.1:", http_port);
  }
  // A client with a 30 s timeout both ways.
  std::unique_ptr<httplib::Client> Client() const {
    auto client = std::make_unique<httplib::Client>("127.0.0.1", http_port);
    client->set_read_timeout(30, 0);
    client->set_write_timeout(30, 0);
    client->set_connection_timeout(5, 0);
    return client;
  }
};

inline std::atomic<int> starts_{0};

// Starts the leader with `flags` plus the HTTP ones, waits for its HTTP
// port, then starts `workers` workers of `slots` slots and waits until
// they are ALIVE.
inline absl::StatusOr<HttpCluster> StartHttpCluster(
    std::vector<std::string> flags, int workers, int slots) {
  HttpCluster http;
  flags.push_back("--http_listen=127.0.0.1:0");
  // The port file goes next to the cluster's logs: known only after Start.
  const std::string port_file =
      absl::StrCat("/tmp/quarry-http-port-", getpid(), "-", ++starts_);
  flags.push_back("--http_port_file=" + port_file);
  absl::StatusOr<std::unique_ptr<LocalCluster>> cluster =
      LocalCluster::Start(flags);
  if (!cluster.ok()) return cluster.status();
  http.cluster = *std::move(cluster);
  absl::StatusOr<int> port = WaitForPortFile(
      port_file, http.cluster->leader(), absl::Seconds(20));
  unlink(port_file.c_str());
  if (!port.ok()) return port.status();
  http.http_port = *port;
  for (int i = 1; i <= workers; ++i) {
    if (absl::Status started =
            http.cluster->StartWorker(absl::StrCat("worker-", i), slots);
        !started.ok()) {
      return started;
    }
  }
  if (workers > 0) {
    if (absl::Status alive = http.cluster->WaitForAliveWorkers(workers);
        !alive.ok()) {
      return alive;
    }
  }
  return http;
}

// `json` parsed into `message` (protobuf's JSON mapping), or the error.
inline absl::Status FromJson(const std::string& json,
                             google::protobuf::Message* message) {
  const auto parsed =
      google::protobuf::util::JsonStringToMessage(json, message);
  if (parsed.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(
      std::string(parsed.message().data(), parsed.message().size()));
}

// The top-level field names of a JSON object, or an error if it is none.
inline absl::StatusOr<std::vector<std::string>> TopLevelKeys(
    const std::string& json) {
  google::protobuf::Struct object;
  if (absl::Status parsed = FromJson(json, &object); !parsed.ok()) {
    return parsed;
  }
  std::vector<std::string> keys;
  for (const auto& [key, value] : object.fields()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_INTEGRATION_HTTP_TEST_UTIL_H_

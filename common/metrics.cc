#include "common/metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <exception>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "common/ids.h"

namespace quarry {
namespace {

// Connects to `host`:`port` (an IPv4 or bracketed IPv6 literal; wildcards
// mean loopback) and hangs up at once. Returns false if `host` is no IP.
bool Knock(absl::string_view host, int port) {
  host = absl::StripSuffix(absl::StripPrefix(host, "["), "]");
  sockaddr_storage address = {};
  socklen_t length = 0;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
  const std::string ip(host == "0.0.0.0" ? "127.0.0.1"
                       : host == "::"    ? "::1"
                                         : host);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*v4);
  } else if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    length = sizeof(*v6);
  } else {
    return false;
  }
  const int fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  connect(fd, reinterpret_cast<sockaddr*>(&address), length);
  close(fd);
  return true;
}

}  // namespace

void SnapshotWriter::Gauge(absl::string_view name, absl::string_view help,
                           double value, const prometheus::Labels& labels) {
  Add(name, help, prometheus::MetricType::Gauge, labels).gauge.value = value;
}

void SnapshotWriter::Counter(absl::string_view name, absl::string_view help,
                             double value, const prometheus::Labels& labels) {
  Add(name, help, prometheus::MetricType::Counter, labels).counter.value =
      value;
}

prometheus::ClientMetric& SnapshotWriter::Add(
    absl::string_view name, absl::string_view help, prometheus::MetricType type,
    const prometheus::Labels& labels) {
  prometheus::MetricFamily* family = nullptr;
  for (prometheus::MetricFamily& existing : families_) {
    if (existing.name == name) family = &existing;
  }
  if (family == nullptr) {
    family = &families_.emplace_back();
    family->name = std::string(name);
    family->help = std::string(help);
    family->type = type;
  }
  prometheus::ClientMetric& metric = family->metric.emplace_back();
  for (const auto& [label, value] : labels) {
    metric.label.push_back({label, value});
  }
  return metric;
}

// Runs the collectors on each scrape.
class Metrics::SnapshotCollectable : public prometheus::Collectable {
 public:
  void Add(Collector collector) {
    absl::MutexLock lock(&mu_);
    collectors_.push_back(std::move(collector));
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    std::vector<Collector> collectors;
    {
      absl::MutexLock lock(&mu_);
      collectors = collectors_;
    }
    SnapshotWriter writer;
    for (const Collector& collector : collectors) collector(writer);
    return writer.Take();
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<Collector> collectors_ ABSL_GUARDED_BY(mu_);
};

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      snapshots_(std::make_shared<SnapshotCollectable>()) {}

Metrics::~Metrics() { StopServing(); }

void Metrics::AddCollector(Collector collector) {
  snapshots_->Add(std::move(collector));
}

absl::Status Metrics::Serve(absl::string_view listen) {
  if (absl::Status valid = ValidateHostPort(listen, "--metrics_listen");
      !valid.ok()) {
    return valid;
  }
  if (exposer_ != nullptr) {
    return absl::FailedPreconditionError("metrics are already served");
  }
  try {
    // Two HTTP threads: a scrape and a health check at once.
    exposer_ = std::make_unique<prometheus::Exposer>(std::string(listen), 2);
  } catch (const std::exception& e) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve metrics on ", listen,
                     " (address in use or not a local IP?): ", e.what()));
  }
  listen_ = std::string(listen);
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(snapshots_);
  const std::vector<int> ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? 0 : ports.front();
  return absl::OkStatus();
}

void Metrics::StopServing() {
  if (exposer_ == nullptr) return;
  // civetweb's accept loop waits up to 2 s in poll() before it sees the
  // stop request; a connection wakes it, so knock until it has stopped.
  std::atomic<bool> stopped{false};
  std::thread knocker([this, &stopped] {
    const absl::Time deadline = absl::Now() + absl::Seconds(3);
    const absl::string_view listen = listen_;
    const absl::string_view host = listen.substr(0, listen.rfind(':'));
    while (!stopped.load() && absl::Now() < deadline && Knock(host, port_)) {
      absl::SleepFor(absl::Milliseconds(5));
    }
  });
  exposer_.reset();
  stopped.store(true);
  knocker.join();
  port_ = 0;
}

std::string Metrics::Render() const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  for (prometheus::MetricFamily& family : snapshots_->Collect()) {
    families.push_back(std::move(family));
  }
  return prometheus::TextSerializer().Serialize(families);
}

const std::vector<double>& LatencyBuckets() {
  static const auto* const kBuckets = new std::vector<double>{
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
      0.05,    0.1,    0.25,    0.5,    1,     2.5,    5,     10};
  return *kBuckets;
}

}  // namespace quarry

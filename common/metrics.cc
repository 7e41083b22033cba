#include "common/metrics.h"

#include <exception>
#include <utility>

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/text_serializer.h>

#include "absl/strings/str_cat.h"
#include "common/ids.h"

namespace quarry {

void SnapshotWriter::Gauge(absl::string_view name, absl::string_view help,
                           double value, const prometheus::Labels& labels) {
  Add(name, help, prometheus::MetricType::Gauge, labels).gauge.value = value;
}

void SnapshotWriter::Counter(absl::string_view name, absl::string_view help,
                             double value, const prometheus::Labels& labels) {
  Add(name, help, prometheus::MetricType::Counter, labels).counter.value =
      value;
}

prometheus::ClientMetric& SnapshotWriter::Add(absl::string_view name,
                                              absl::string_view help,
                                              prometheus::MetricType type,
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
  exposer_->RegisterCollectable(registry_);
  exposer_->RegisterCollectable(snapshots_);
  const std::vector<int> ports = exposer_->GetListeningPorts();
  port_ = ports.empty() ? 0 : ports.front();
  return absl::OkStatus();
}

void Metrics::StopServing() {
  exposer_.reset();
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
      0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
      0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 5, 10};
  return *kBuckets;
}

}  // namespace quarry

#ifndef QUARRY_COMMON_METRICS_H_
#define QUARRY_COMMON_METRICS_H_

#include <prometheus/labels.h>
#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace prometheus {
class Exposer;
}

namespace quarry {

// Builds, during one scrape, gauges and counters whose values are read from
// a snapshot of state another class owns (the controller's, the slot
// executor's), so the hot path keeps no Prometheus objects for them.
// Families appear in the order of their first sample. Used by one thread.
class SnapshotWriter {
 public:
  void Gauge(absl::string_view name, absl::string_view help, double value,
             const prometheus::Labels& labels = {});
  // `value` must never decrease over the life of the process.
  void Counter(absl::string_view name, absl::string_view help, double value,
               const prometheus::Labels& labels = {});

  std::vector<prometheus::MetricFamily> Take() { return std::move(families_); }

 private:
  prometheus::ClientMetric& Add(absl::string_view name, absl::string_view help,
                                prometheus::MetricType type,
                                const prometheus::Labels& labels);

  std::vector<prometheus::MetricFamily> families_;
};

// A process's metrics. Owns the prometheus::Registry that counters and
// histograms updated as work happens live in, the collectors that read
// snapshots at scrape time (AddCollector), and, once Serve() succeeds, the
// HTTP server answering GET /metrics in the Prometheus text format.
// Thread-safe: registry metrics are updated from any thread; collectors run
// on an HTTP thread during a scrape, or on the caller's in Render().
class Metrics {
 public:
  // Called on every scrape to add the snapshot's samples.
  using Collector = std::function<void(SnapshotWriter&)>;

  Metrics();
  // Stops serving before anything is destroyed.
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Registry& registry() { return *registry_; }

  // Everything the collector reads must outlive the scrapes: call
  // StopServing() before destroying it.
  void AddCollector(Collector collector);

  // Serves GET /metrics on `listen` ("IP:PORT"; port 0 picks a free one,
  // see port()). INVALID_ARGUMENT for a malformed address, UNAVAILABLE when
  // it cannot listen. Call at most once.
  absl::Status Serve(absl::string_view listen);
  // Stops the HTTP server (waits for a scrape in progress). Idempotent.
  void StopServing();
  // The port served on; 0 when not serving.
  int port() const { return port_; }

  // The text GET /metrics answers (for tests and debugging).
  std::string Render() const;

 private:
  class SnapshotCollectable;

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<SnapshotCollectable> snapshots_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string listen_;
  int port_ = 0;
};

// Histogram buckets, in seconds, for durations from 50 µs to 10 s.
const std::vector<double>& LatencyBuckets();

}  // namespace quarry

#endif  // QUARRY_COMMON_METRICS_H_

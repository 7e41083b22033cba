#ifndef QUARRY_TESTS_TESTING_METRICS_SCRAPE_H_
#define QUARRY_TESTS_TESTING_METRICS_SCRAPE_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace quarry::testing {

// The samples of one scrape of a Prometheus text endpoint, keyed as the
// text format writes them: `quarry_leader_tasks{state="done"}`, or the bare
// name for a sample without labels.
class MetricSamples {
 public:
  // Parses the text format (comment lines are skipped). INVALID_ARGUMENT
  // naming the line for a sample that is not "KEY VALUE".
  static absl::StatusOr<MetricSamples> Parse(absl::string_view text);

  // The value of the sample with exactly this key, or nullopt.
  std::optional<double> Get(absl::string_view key) const;
  // Sum over the samples of metric `name` with any labels (0 if none).
  double Sum(absl::string_view name) const;
  // How many samples metric `name` has.
  int Count(absl::string_view name) const;

  const std::map<std::string, double, std::less<>>& samples() const {
    return samples_;
  }

 private:
  std::map<std::string, double, std::less<>> samples_;
};

// GET http://127.0.0.1:PORT/metrics, bounded by `timeout`; parsed.
absl::StatusOr<MetricSamples> ScrapeMetrics(
    int port, absl::Duration timeout = absl::Seconds(5));

// Scrapes `port` every few milliseconds until `done` holds for a scrape,
// which it returns; DEADLINE_EXCEEDED (with the last scrape's relevant
// error) after `timeout`.
absl::StatusOr<MetricSamples> ScrapeUntil(
    int port, const std::function<bool(const MetricSamples&)>& done,
    absl::Duration timeout = absl::Seconds(20));

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_METRICS_SCRAPE_H_

#include "tests/testing/metrics_scrape.h"

#include <httplib.h>

#include <cstdlib>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

namespace quarry::testing {

absl::StatusOr<MetricSamples> MetricSamples::Parse(absl::string_view text) {
  MetricSamples parsed;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a sample: \"", line, "\""));
    }
    const std::string value(line.substr(space + 1));
    char* end = nullptr;
    const double number = std::strtod(value.c_str(), &end);  // Also NaN, Inf.
    if (end == value.c_str() || *end != '\0') {
      return absl::InvalidArgumentError(
          absl::StrCat("not a number in \"", line, "\""));
    }
    parsed.samples_[std::string(line.substr(0, space))] = number;
  }
  return parsed;
}

std::optional<double> MetricSamples::Get(absl::string_view key) const {
  auto it = samples_.find(key);
  if (it == samples_.end()) return std::nullopt;
  return it->second;
}

double MetricSamples::Sum(absl::string_view name) const {
  double sum = 0;
  for (auto it = samples_.lower_bound(name); it != samples_.end(); ++it) {
    absl::string_view key = it->first;
    if (!absl::ConsumePrefix(&key, name)) break;
    if (key.empty() || key[0] == '{') sum += it->second;
  }
  return sum;
}

int MetricSamples::Count(absl::string_view name) const {
  int count = 0;
  for (auto it = samples_.lower_bound(name); it != samples_.end(); ++it) {
    absl::string_view key = it->first;
    if (!absl::ConsumePrefix(&key, name)) break;
    if (key.empty() || key[0] == '{') ++count;
  }
  return count;
}

absl::StatusOr<MetricSamples> ScrapeMetrics(int port, absl::Duration timeout) {
  httplib::Client client("127.0.0.1", port);
  const auto micros = absl::ToInt64Microseconds(timeout);
  client.set_connection_timeout(micros / 1000000, micros % 1000000);
  client.set_read_timeout(micros / 1000000, micros % 1000000);
  client.set_write_timeout(micros / 1000000, micros % 1000000);
  httplib::Result response = client.Get("/metrics");
  if (!response) {
    return absl::UnavailableError(absl::StrCat(
        "GET http://127.0.0.1:", port,
        "/metrics failed: ", httplib::to_string(response.error())));
  }
  if (response->status != 200) {
    return absl::InternalError(absl::StrCat("GET /metrics on port ", port,
                                            " answered ", response->status));
  }
  return MetricSamples::Parse(response->body);
}

absl::StatusOr<MetricSamples> ScrapeUntil(
    int port, const std::function<bool(const MetricSamples&)>& done,
    absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::Status last = absl::OkStatus();
  while (absl::Now() < deadline) {
    absl::StatusOr<MetricSamples> samples = ScrapeMetrics(port);
    if (samples.ok() && done(*samples)) return samples;
    last = samples.status();
    absl::SleepFor(absl::Milliseconds(5));  // Metrics change without an event.
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "the metrics on port ", port, " did not reach the expected values in ",
      absl::FormatDuration(timeout), "; last scrape: ", last.ToString()));
}

}  // namespace quarry::testing

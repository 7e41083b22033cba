#ifndef QUARRY_BENCH_REPORT_H_
#define QUARRY_BENCH_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace quarry::bench {

// One measured figure: a flat JSON object printed as one line on stdout,
// e.g. {"scenario":"throughput","tasks":10000,...,"tasks_per_s":19600}.
class Figure {
 public:
  explicit Figure(absl::string_view scenario) { Add("scenario", scenario); }
  Figure& Add(absl::string_view key, absl::string_view value);
  Figure& Add(absl::string_view key, const char* value) {
    return Add(key, absl::string_view(value));
  }
  Figure& Add(absl::string_view key, double value);
  Figure& Add(absl::string_view key, long long value);
  Figure& Add(absl::string_view key, int value) {
    return Add(key, static_cast<long long>(value));
  }
  Figure& Add(absl::string_view key, bool value);
  std::string ToJson() const;

 private:
  // Keys with their already-encoded JSON values, in insertion order.
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Collects the figures of a run: prints each as a JSON line on stdout as it
// comes, and a human table of the headline numbers against their targets
// on stderr at the end. Used by the driver's main thread only.
class Report {
 public:
  void Emit(const Figure& figure);
  // One row of the final table. `meets` is empty when there is no target.
  void AddRow(absl::string_view scenario, absl::string_view what,
              std::string value, absl::string_view target, absl::string_view meets);
  void PrintTable() const;

 private:
  struct Row {
    std::string scenario, what, value, target, meets;
  };
  std::vector<Row> rows_;
};

// "ok" or "MISSED", for the table.
inline const char* Verdict(bool met) { return met ? "ok" : "MISSED"; }

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_REPORT_H_

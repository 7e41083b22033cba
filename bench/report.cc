#include "bench/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace quarry::bench {
namespace {

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      absl::StrAppend(&out, "\\", std::string(1, c));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", c);
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
  return out;
}

}  // namespace

Figure& Figure::Add(absl::string_view key, absl::string_view value) {
  fields_.emplace_back(std::string(key), JsonString(value));
  return *this;
}

Figure& Figure::Add(absl::string_view key, double value) {
  // Four significant digits are plenty for a benchmark; no NaN in JSON.
  std::string encoded = "null";
  if (std::isfinite(value)) {
    encoded = std::fabs(value) >= 1000 ? absl::StrFormat("%.0f", value)
                                       : absl::StrFormat("%.4g", value);
  }
  fields_.emplace_back(std::string(key), encoded);
  return *this;
}

Figure& Figure::Add(absl::string_view key, long long value) {
  fields_.emplace_back(std::string(key), absl::StrCat(value));
  return *this;
}

Figure& Figure::Add(absl::string_view key, bool value) {
  fields_.emplace_back(std::string(key), value ? "true" : "false");
  return *this;
}

std::string Figure::ToJson() const {
  std::string out = "{";
  for (size_t i = 0; i < fields_.size(); ++i) {
    absl::StrAppend(&out, i == 0 ? "" : ",", JsonString(fields_[i].first), ":",
                    fields_[i].second);
  }
  out.push_back('}');
  return out;
}

void Report::Emit(const Figure& figure) {
  std::printf("%s\n", figure.ToJson().c_str());
  std::fflush(stdout);
}

void Report::AddRow(absl::string_view scenario, absl::string_view what,
                    std::string value, absl::string_view target,
                    absl::string_view meets) {
  rows_.push_back({std::string(scenario), std::string(what), std::move(value),
                   std::string(target), std::string(meets)});
}

void Report::PrintTable() const {
  Row header = {"scenario", "figure", "measured", "target", ""};
  size_t width[4] = {header.scenario.size(), header.what.size(),
                     header.value.size(), header.target.size()};
  for (const Row& row : rows_) {
    width[0] = std::max(width[0], row.scenario.size());
    width[1] = std::max(width[1], row.what.size());
    width[2] = std::max(width[2], row.value.size());
    width[3] = std::max(width[3], row.target.size());
  }
  auto print = [&width](const Row& row) {
    std::fprintf(stderr, "%-*s  %-*s  %*s  %-*s  %s\n",
                 static_cast<int>(width[0]), row.scenario.c_str(),
                 static_cast<int>(width[1]), row.what.c_str(),
                 static_cast<int>(width[2]), row.value.c_str(),
                 static_cast<int>(width[3]), row.target.c_str(), row.meets.c_str());
  };
  std::fprintf(stderr, "\n");
  print(header);
  for (const Row& row : rows_) print(row);
}

}  // namespace quarry::bench

// The sleep and noop kinds, for tests and benchmarks. Neither writes
// anything; an output_path still gets an (empty) committed file.

#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "worker/kinds/builtin_kinds.h"

namespace quarry::worker {
namespace {

constexpr int64_t kMaxSleepMs = int64_t{24} * 3600 * 1000;

class SleepKind : public JobKind {
 public:
  absl::StatusOr<std::string> Run(const KindContext& context) const override {
    const auto& settings = context.assignment.settings();
    auto it = settings.find("ms");
    int64_t ms = -1;
    if (it == settings.end() || !absl::SimpleAtoi(it->second, &ms) || ms < 0 ||
        ms > kMaxSleepMs) {
      return absl::InvalidArgumentError(absl::StrCat(
          "settings.ms must be an integer in [0, ", kMaxSleepMs, "], got \"",
          it == settings.end() ? "" : it->second, "\""));
    }
    if (context.cancel.WaitFor(absl::Milliseconds(ms))) {
      return absl::CancelledError("attempt cancelled");
    }
    return absl::StrCat("slept ", ms, " ms");
  }
};

class NoopKind : public JobKind {
 public:
  absl::StatusOr<std::string> Run(const KindContext& context) const override {
    if (context.cancel.cancelled()) {
      return absl::CancelledError("attempt cancelled");
    }
    return std::string();
  }
};

}  // namespace

std::unique_ptr<JobKind> NewSleepKind() {
  return std::make_unique<SleepKind>();
}

std::unique_ptr<JobKind> NewNoopKind() { return std::make_unique<NoopKind>(); }

}  // namespace quarry::worker

// The sleep, noop and flaky kinds, for tests, benchmarks and chaos runs.
// None writes anything; an output_path still gets an (empty) committed
// file.

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "worker/kinds/builtin_kinds.h"

namespace quarry::worker {
namespace {

constexpr int64_t kMaxSleepMs = int64_t{24} * 3600 * 1000;
constexpr int64_t kMaxFailAttempts = 100;

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

class FlakyKind : public JobKind {
 public:
  absl::StatusOr<std::string> Run(const KindContext& context) const override {
    if (context.cancel.cancelled()) {
      return absl::CancelledError("attempt cancelled");
    }
    const auto& settings = context.assignment.settings();
    auto it = settings.find("fail_attempts");
    int64_t fail_attempts = -1;
    if (it == settings.end() || !absl::SimpleAtoi(it->second, &fail_attempts) ||
        fail_attempts < 0 || fail_attempts > kMaxFailAttempts) {
      return absl::InvalidArgumentError(absl::StrCat(
          "settings.fail_attempts must be an integer in [0, ", kMaxFailAttempts,
          "], got \"", it == settings.end() ? "" : it->second, "\""));
    }
    // attempt_number is 1-based; a leader that does not set it means 1.
    const int64_t attempt =
        std::max<int64_t>(1, context.assignment.attempt_number());
    if (attempt <= fail_attempts) {
      return absl::AbortedError(absl::StrCat("flaky: attempt ", attempt,
                                             " of the first ", fail_attempts,
                                             " fails on purpose"));
    }
    return std::string();
  }
};

}  // namespace

std::unique_ptr<JobKind> NewFlakyKind() {
  return std::make_unique<FlakyKind>();
}

std::unique_ptr<JobKind> NewSleepKind() {
  return std::make_unique<SleepKind>();
}

std::unique_ptr<JobKind> NewNoopKind() { return std::make_unique<NoopKind>(); }

}  // namespace quarry::worker

#include "leader/control/tick_stats.h"

#include <glog/logging.h>
#include <time.h>

#include <algorithm>
#include <cmath>

#include "absl/strings/str_format.h"

namespace quarry {
namespace {

constexpr double kGrowth = 1.1;

double Millis(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

}  // namespace

int TickStats::BucketOf(absl::Duration duration) {
  const double micros = absl::ToDoubleMicroseconds(duration);
  if (micros <= 1) return 0;
  const int bucket =
      static_cast<int>(std::ceil(std::log(micros) / std::log(kGrowth)));
  return std::clamp(bucket, 0, kBuckets - 1);
}

absl::Duration TickStats::UpperBound(int bucket) {
  return absl::Microseconds(std::pow(kGrowth, bucket));
}

void TickStats::Record(absl::Duration duration) {
  absl::MutexLock lock(&mu_);
  ++counts_[BucketOf(duration)];
  ++count_;
  max_ = std::max(max_, duration);
  total_ += duration;
}

TickStats::Summary TickStats::Get() const {
  absl::MutexLock lock(&mu_);
  Summary summary;
  summary.count = count_;
  summary.max = max_;
  summary.total = total_;
  // Nearest rank: the bucket holding the ceil(p * count)-th duration,
  // reported as its upper bound (capped by the maximum seen).
  auto percentile = [&](double p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const int64_t rank =
        std::max<int64_t>(1, static_cast<int64_t>(std::ceil(p * count_)));
    int64_t seen = 0;
    for (int bucket = 0; bucket < kBuckets; ++bucket) {
      seen += counts_[bucket];
      if (seen >= rank) {
        // The last bucket has no upper bound but the maximum.
        return bucket == kBuckets - 1 ? max_
                                      : std::min(UpperBound(bucket), max_);
      }
    }
    return max_;
  };
  if (count_ > 0) {
    summary.p50 = percentile(0.50);
    summary.p99 = percentile(0.99);
  }
  return summary;
}

std::string TickStats::Format(const Summary& summary) {
  return absl::StrFormat("ticks=%d p50=%.3fms p99=%.3fms max=%.3fms busy=%.3fs",
                         summary.count, Millis(summary.p50),
                         Millis(summary.p99), Millis(summary.max),
                         absl::ToDoubleSeconds(summary.total));
}

absl::Duration ThreadCpuTime() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return absl::DurationFromTimespec(now);
}

absl::Duration StepTimer::Finish(TickStats& real, TickStats& cpu,
                                 absl::Duration slow, size_t starts,
                                 size_t writes) {
  Mark();
  const absl::Duration took = marks_[next_ - 1] - marks_[0];
  const absl::Duration on_cpu = ThreadCpuTime() - cpu_start_;
  real.Record(took);
  cpu.Record(on_cpu);
  if (took >= slow) {
    auto ms = [this](int from, int to) {
      return absl::ToDoubleMilliseconds(marks_[to] - marks_[from]);
    };
    LOG(WARNING) << "slow controller step: " << absl::FormatDuration(took)
                 << " (" << absl::FormatDuration(on_cpu) << " on CPU)"
                 << " (lock wait " << ms(0, 1) << " ms, events " << ms(1, 2)
                 << " ms, health+refresh " << ms(2, 3) << " ms, rebalance "
                 << ms(3, 4) << " ms, collect " << ms(4, 5) << " ms, apply "
                 << ms(5, 6) << " ms; " << starts << " StartTasks, " << writes
                 << " task writes)";
  }
  return took;
}

}  // namespace quarry

#ifndef QUARRY_LEADER_CONTROL_TICK_STATS_H_
#define QUARRY_LEADER_CONTROL_TICK_STATS_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quarry {

// Durations of controller steps (RunOnce: the step under the lock plus
// applying its effects), as a histogram with buckets 10% apart from 1 us to
// about 2 minutes, so percentiles are within 10% and memory stays fixed
// however long the leader runs. Thread-safe (own small lock): the
// controller thread records, anyone reads.
class TickStats {
 public:
  struct Summary {
    int64_t count = 0;
    absl::Duration p50;
    absl::Duration p99;
    absl::Duration max;
    absl::Duration total;
  };

  void Record(absl::Duration duration) ABSL_LOCKS_EXCLUDED(mu_);
  Summary Get() const ABSL_LOCKS_EXCLUDED(mu_);
  // "ticks=N p50=1.2ms p99=3.4ms max=9ms busy=1.5s", for logs.
  static std::string Format(const Summary& summary);

 private:
  static constexpr int kBuckets = 200;  // 1 us * 1.1^199 is about 2 min.
  static int BucketOf(absl::Duration duration);
  static absl::Duration UpperBound(int bucket);

  mutable absl::Mutex mu_;
  std::array<int64_t, kBuckets> counts_ ABSL_GUARDED_BY(mu_) = {};
  int64_t count_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Duration max_ ABSL_GUARDED_BY(mu_);
  absl::Duration total_ ABSL_GUARDED_BY(mu_);
};

// CPU time the calling thread has used so far.
absl::Duration ThreadCpuTime();

// Times one controller step on the thread that runs it: the phases are
// marked as the step goes (lock wait, events, health+refresh, rebalance,
// collect, apply); Finish records the step's real and CPU time and logs a
// step slower than `slow` with where its time went. Not thread-safe.
class StepTimer {
 public:
  static constexpr int kPhases = 6;

  StepTimer() : cpu_start_(ThreadCpuTime()) { marks_[0] = absl::Now(); }
  // The current phase ends now.
  void Mark() {
    if (next_ <= kPhases) marks_[next_++] = absl::Now();
  }
  // Returns the step's real time. `starts` and `writes`: StartTasks sent and
  // task records written, for the log.
  absl::Duration Finish(TickStats& real, TickStats& cpu, absl::Duration slow,
                        size_t starts, size_t writes);

 private:
  absl::Time marks_[kPhases + 1];
  int next_ = 1;
  const absl::Duration cpu_start_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_TICK_STATS_H_

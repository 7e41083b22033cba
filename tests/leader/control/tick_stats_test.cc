#include "leader/control/tick_stats.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;

TEST(TickStatsTest, EmptyHasNoPercentiles) {
  TickStats stats;
  const TickStats::Summary summary = stats.Get();
  EXPECT_EQ(summary.count, 0);
  EXPECT_EQ(summary.p50, absl::ZeroDuration());
  EXPECT_EQ(summary.p99, absl::ZeroDuration());
}

TEST(TickStatsTest, PercentilesAreWithinTenPercent) {
  TickStats stats;
  // 1 ms .. 100 ms, one each: p50 is 50 ms, p99 is 99 ms (nearest rank).
  for (int ms = 1; ms <= 100; ++ms) stats.Record(absl::Milliseconds(ms));
  const TickStats::Summary summary = stats.Get();
  EXPECT_EQ(summary.count, 100);
  EXPECT_GE(summary.p50, absl::Milliseconds(50));
  EXPECT_LE(summary.p50, absl::Milliseconds(55));
  EXPECT_GE(summary.p99, absl::Milliseconds(99));
  EXPECT_LE(summary.p99, absl::Milliseconds(100));  // Capped by the maximum.
  EXPECT_EQ(summary.max, absl::Milliseconds(100));
  EXPECT_EQ(summary.total, absl::Milliseconds(5050));
}

TEST(TickStatsTest, ExtremesLandInTheEndBuckets) {
  TickStats stats;
  stats.Record(absl::ZeroDuration());
  stats.Record(absl::Hours(1));  // Beyond the last bucket.
  const TickStats::Summary summary = stats.Get();
  EXPECT_LE(summary.p50, absl::Microseconds(1));
  EXPECT_EQ(summary.p99, absl::Hours(1));
  EXPECT_EQ(summary.max, absl::Hours(1));
}

TEST(TickStatsTest, FormatsForTheLog) {
  TickStats stats;
  stats.Record(absl::Milliseconds(2));
  // The benchmark driver parses this line (bench/scale_scenario.cc).
  EXPECT_THAT(TickStats::Format(stats.Get()),
              HasSubstr("ticks=1 p50=2.000ms p99=2.000ms max=2.000ms"));
}

TEST(TickStatsTest, ThreadCpuTimeAdvancesWithWork) {
  const absl::Duration start = ThreadCpuTime();
  volatile uint64_t sink = 0;
  for (uint64_t i = 0; i < 50'000'000; ++i) sink += i;
  EXPECT_GT(ThreadCpuTime(), start);
}

}  // namespace
}  // namespace quarry

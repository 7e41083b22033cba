#include "common/metrics.h"

#include <prometheus/counter.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;

TEST(MetricsModuleTest, RendersRegistryAndCollectorsInTextFormat) {
  Metrics metrics;
  prometheus::BuildCounter()
      .Name("quarry_test_events_total")
      .Help("events")
      .Register(metrics.registry())
      .Add({})
      .Increment(3);
  int scrapes = 0;
  metrics.AddCollector([&scrapes](SnapshotWriter& out) {
    ++scrapes;
    out.Gauge("quarry_test_things", "things by color", 2, {{"color", "red"}});
    out.Gauge("quarry_test_things", "things by color", 5, {{"color", "blue"}});
    out.Counter("quarry_test_done_total", "done so far", 7);
  });
  const std::string text = metrics.Render();
  EXPECT_EQ(scrapes, 1);  // Collectors run on every scrape, and only then.
  EXPECT_THAT(text, HasSubstr("quarry_test_events_total 3\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE quarry_test_things gauge\n"
                              "quarry_test_things{color=\"red\"} 2\n"
                              "quarry_test_things{color=\"blue\"} 5\n"));
  EXPECT_THAT(text, HasSubstr("# TYPE quarry_test_done_total counter\n"
                              "quarry_test_done_total 7\n"));
}

TEST(MetricsModuleTest, ServeRefusesBadAddressesAndStops) {
  Metrics metrics;
  EXPECT_EQ(metrics.Serve("no-port").code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(metrics.Serve("127.0.0.1:0").ok());
  EXPECT_GT(metrics.port(), 0);
  EXPECT_EQ(metrics.Serve("127.0.0.1:0").code(),
            absl::StatusCode::kFailedPrecondition);

  Metrics other;
  const absl::Status taken =
      other.Serve("127.0.0.1:" + std::to_string(metrics.port()));
  EXPECT_EQ(taken.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(taken.message(), HasSubstr("cannot serve metrics"));

  metrics.StopServing();
  EXPECT_EQ(metrics.port(), 0);
  metrics.StopServing();  // Idempotent.
}

}  // namespace
}  // namespace quarry

// The leader's catalog of job kinds: built-ins plus the plugin kinds that
// registered workers describe, kept up to date by the WorkerPool.
#include "leader/control/kind_catalog.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leader/control/worker_pool.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;

quarry::v1::KindDescription Histogram(int64_t max_count = 1000) {
  quarry::v1::KindDescription kind;
  kind.set_name("byte-histogram");
  kind.set_description("counts bytes");
  kind.set_has_reduce(true);
  kind.set_needs_inputs(true);
  quarry::v1::SettingDescription* setting = kind.add_settings();
  setting->set_name("min_count");
  setting->set_type(quarry::v1::SETTING_TYPE_INTEGER);
  setting->set_max_value(max_count);
  return kind;
}

google::protobuf::RepeatedPtrField<quarry::v1::KindDescription> Kinds(
    std::vector<quarry::v1::KindDescription> kinds) {
  return {kinds.begin(), kinds.end()};
}

// The largest min_count the catalog accepts for byte-histogram.
int64_t MaxCount(const KindCatalog& catalog) {
  std::optional<KindSpec> spec = catalog.Find("byte-histogram");
  if (!spec.has_value()) return -1;
  return spec->settings.at(0).max_value;
}

TEST(KindCatalogTest, BuiltInKindsAreAlwaysKnown) {
  KindCatalog catalog;
  ASSERT_TRUE(catalog.Find("wordcount").has_value());
  EXPECT_TRUE(catalog.Find("wordcount")->has_reduce);
  EXPECT_FALSE(catalog.Find("byte-histogram").has_value());
  EXPECT_EQ(catalog.Names(), KindNames());
}

TEST(KindCatalogTest, PluginKindIsKnownWhileAWorkerDescribesIt) {
  KindCatalog catalog;
  catalog.SetWorkerKinds("w1", Kinds({Histogram()}));
  catalog.SetWorkerKinds("w2", Kinds({Histogram()}));
  std::optional<KindSpec> spec = catalog.Find("byte-histogram");
  ASSERT_TRUE(spec.has_value());
  EXPECT_TRUE(spec->has_reduce);
  EXPECT_TRUE(spec->needs_inputs);
  EXPECT_TRUE(spec->needs_output);
  // Its setting and delay_ms, which every kind accepts.
  ASSERT_EQ(spec->settings.size(), 2u);
  EXPECT_EQ(spec->settings[1].name, "delay_ms");
  EXPECT_THAT(catalog.Names(), HasSubstr("byte-histogram, exec, flaky"));

  catalog.RemoveWorker("w1");
  EXPECT_TRUE(catalog.Find("byte-histogram").has_value());
  // Registering again without it counts as no longer describing it.
  catalog.SetWorkerKinds("w2", Kinds({}));
  EXPECT_FALSE(catalog.Find("byte-histogram").has_value());
  EXPECT_EQ(catalog.Names(), KindNames());
}

TEST(KindCatalogTest, ConflictingDescriptionsResolveToTheSmallestWorkerId) {
  // Whatever the order of registration, w1's description wins.
  KindCatalog forward;
  forward.SetWorkerKinds("w1", Kinds({Histogram(10)}));
  forward.SetWorkerKinds("w2", Kinds({Histogram(20)}));
  KindCatalog backward;
  backward.SetWorkerKinds("w2", Kinds({Histogram(20)}));
  backward.SetWorkerKinds("w1", Kinds({Histogram(10)}));
  EXPECT_EQ(MaxCount(forward), 10);
  EXPECT_EQ(MaxCount(backward), 10);
  // When w1 leaves, w2's is used.
  forward.RemoveWorker("w1");
  EXPECT_EQ(MaxCount(forward), 20);
}

TEST(KindCatalogTest, BuiltInNamesAndBadDescriptionsAreIgnored) {
  KindCatalog catalog;
  quarry::v1::KindDescription clash = Histogram();
  clash.set_name("wordcount");
  quarry::v1::KindDescription bad = Histogram();
  bad.set_name("Bad Name");
  catalog.SetWorkerKinds("w1", Kinds({clash, bad}));
  // The built-in wordcount, not the worker's description of it.
  EXPECT_TRUE(catalog.Find("wordcount")->has_reduce);
  EXPECT_EQ(catalog.Find("wordcount")->settings.size(), 1u);  // delay_ms
  EXPECT_FALSE(catalog.Find("Bad Name").has_value());
  EXPECT_EQ(catalog.Names(), KindNames());
}

TEST(KindCatalogTest, WorkerPoolKeepsItUpToDate) {
  ControllerOptions options;
  options.dead_after = absl::Seconds(2);
  options.forget_dead_after = absl::Seconds(10);
  KindCatalog catalog;
  WorkerPool pool(options, &catalog);
  const absl::Time t0 = absl::FromUnixSeconds(1000);
  auto add = [&](const std::string& id) {
    quarry::v1::RegisterWorkerRequest request;
    request.set_worker_id(id);
    request.set_address("127.0.0.1:1");
    request.set_slots(1);
    request.add_kinds("byte-histogram");
    *request.add_plugin_kinds() = Histogram();
    WorkerRuntime* worker =
        pool.Register(WorkerRuntime::FromRegistration(request, nullptr, t0), 0)
            .worker;
    // The record keeps the description (GetCluster, quarry cluster).
    ASSERT_EQ(worker->record.plugin_kinds_size(), 1);
    EXPECT_TRUE(worker->Offers("byte-histogram"));
  };
  add("a");
  add("b");
  EXPECT_TRUE(catalog.Find("byte-histogram").has_value());
  pool.Forget("a");  // Deregistered.
  EXPECT_TRUE(catalog.Find("byte-histogram").has_value());
  // b dies, and stays known while registered (DEAD), until forgotten.
  std::vector<Probe> probes;
  std::vector<WorkerPool::Lost> lost;
  pool.UpdateHealth(t0 + absl::Seconds(5), &probes, &lost);
  EXPECT_EQ(pool.Find("b")->record.status(), quarry::v1::WORKER_STATUS_DEAD);
  EXPECT_TRUE(catalog.Find("byte-histogram").has_value());
  pool.UpdateHealth(t0 + absl::Seconds(20), &probes, &lost);
  EXPECT_EQ(pool.Find("b"), nullptr);
  EXPECT_FALSE(catalog.Find("byte-histogram").has_value());
}

}  // namespace
}  // namespace quarry

// The rules of a plugin kind's description, shared by the worker's plugin
// loader and the leader's registration checks.
#include "common/kind_description.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using quarry::v1::KindDescription;
using quarry::v1::SettingDescription;
using ::testing::HasSubstr;

KindDescription Valid() {
  KindDescription kind;
  kind.set_name("my_kind-2");
  kind.set_description("does things");
  kind.set_needs_inputs(true);
  SettingDescription* mode = kind.add_settings();
  mode->set_name("mode");
  mode->set_type(quarry::v1::SETTING_TYPE_STRING);
  SettingDescription* limit = kind.add_settings();
  limit->set_name("limit");
  limit->set_type(quarry::v1::SETTING_TYPE_INTEGER);
  limit->set_min_value(-5);
  limit->set_max_value(5);
  limit->set_required(true);
  return kind;
}

std::string Error(const KindDescription& kind) {
  absl::StatusOr<KindSpec> spec = KindSpecFromDescription(kind);
  EXPECT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(spec.status().message());
}

TEST(KindDescriptionTest, ValidDescriptionMakesASpecWithDelay) {
  absl::StatusOr<KindSpec> spec = KindSpecFromDescription(Valid());
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->name, "my_kind-2");
  EXPECT_TRUE(spec->needs_inputs);
  EXPECT_TRUE(spec->needs_output);
  EXPECT_FALSE(spec->has_reduce);
  ASSERT_EQ(spec->settings.size(), 3u);
  EXPECT_EQ(spec->settings[0].type, SettingType::kString);
  EXPECT_EQ(spec->settings[0].max_value, kDefaultMaxStringSetting);
  EXPECT_EQ(spec->settings[2].name, "delay_ms");

  // Settings are then validated like a built-in kind's.
  google::protobuf::Map<std::string, std::string> settings;
  settings["limit"] = "3";
  settings["mode"] = "fast";
  EXPECT_TRUE(ValidateSettings(*spec, settings).ok());
  settings["limit"] = "9";
  EXPECT_THAT(std::string(ValidateSettings(*spec, settings).message()),
              HasSubstr("settings.limit must be an integer in [-5, 5]"));
  settings["limit"] = "3";
  settings["mode"] = std::string(5000, 'x');
  EXPECT_THAT(std::string(ValidateSettings(*spec, settings).message()),
              HasSubstr("settings.mode must be text of 0 to 4096 bytes"));

  // And back: the description without delay_ms.
  KindDescription round_trip = DescribeKind(*spec);
  EXPECT_EQ(round_trip.settings_size(), 2);
  EXPECT_EQ(round_trip.settings(1).name(), "limit");
  EXPECT_EQ(round_trip.settings(1).min_value(), -5);
}

TEST(KindDescriptionTest, BrokenRulesAreRefusedNamingTheField) {
  KindDescription kind = Valid();
  kind.set_name("Upper");
  EXPECT_THAT(Error(kind), HasSubstr("name \"Upper\" must match"));
  kind.set_name(std::string(65, 'a'));
  EXPECT_THAT(Error(kind), HasSubstr("must match [a-z][a-z0-9_-]{0,63}"));
  kind.set_name("");
  EXPECT_THAT(Error(kind), HasSubstr("name \"\" must match"));

  kind = Valid();
  kind.set_description(std::string(2000, 'd'));
  EXPECT_THAT(Error(kind), HasSubstr("description must be at most 1024"));

  kind = Valid();
  kind.set_needs_inputs(false);
  EXPECT_THAT(Error(kind), HasSubstr("needs_inputs must be true"));

  kind = Valid();
  kind.mutable_settings(1)->set_name("delay_ms");
  EXPECT_THAT(Error(kind),
              HasSubstr("settings[1].name \"delay_ms\" is reserved"));
  kind.mutable_settings(1)->set_name("mode");
  EXPECT_THAT(Error(kind),
              HasSubstr("settings[1].name \"mode\" is declared twice"));
  kind.mutable_settings(1)->set_name("9lives");
  EXPECT_THAT(Error(kind), HasSubstr("settings[1].name \"9lives\" must match"));

  kind = Valid();
  kind.mutable_settings(1)->set_min_value(10);
  EXPECT_THAT(Error(kind), HasSubstr("settings[1].min_value (10) is greater "
                                     "than max_value (5)"));
  kind = Valid();
  kind.mutable_settings(0)->set_type(quarry::v1::SETTING_TYPE_BYTES);
  kind.mutable_settings(0)->set_min_value(-1);
  EXPECT_THAT(Error(kind),
              HasSubstr("settings[0].min_value must not be negative"));
  kind.mutable_settings(0)->set_type(static_cast<quarry::v1::SettingType>(42));
  EXPECT_THAT(Error(kind), HasSubstr("settings[0].type 42 is not one of"));
  kind.mutable_settings(0)->set_type(quarry::v1::SETTING_TYPE_STRING);
  kind.mutable_settings(0)->set_min_value(0);
  kind.mutable_settings(0)->set_max_value(int64_t{1} << 20);
  EXPECT_THAT(Error(kind), HasSubstr("settings[0].max_value must be at most"));

  kind = Valid();
  for (int i = 0; i < 70; ++i) kind.add_settings()->set_name("x");
  EXPECT_THAT(Error(kind), HasSubstr("more than 64"));
}

}  // namespace
}  // namespace quarry

// ValidateRegistration: what the leader refuses from a registering worker,
// here its plugin kinds' descriptions.
#include "leader/api/cluster_service.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;

quarry::v1::RegisterWorkerRequest Registration() {
  quarry::v1::RegisterWorkerRequest request;
  request.set_worker_id("worker-1");
  request.set_address("127.0.0.1:7100");
  request.set_slots(2);
  request.add_kinds("wordcount");
  request.add_kinds("byte-histogram");
  quarry::v1::KindDescription* kind = request.add_plugin_kinds();
  kind->set_name("byte-histogram");
  kind->set_needs_inputs(true);
  kind->set_has_reduce(true);
  return request;
}

std::string Error(const quarry::v1::RegisterWorkerRequest& request) {
  absl::Status status = ValidateRegistration(request);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  return std::string(status.message());
}

TEST(ValidateRegistrationTest, AcceptsDescribedPluginKinds) {
  EXPECT_TRUE(ValidateRegistration(Registration()).ok());
}

TEST(ValidateRegistrationTest, RefusesBadPluginKindsNamingTheField) {
  quarry::v1::RegisterWorkerRequest request = Registration();
  request.mutable_plugin_kinds(0)->set_name("Bad");
  EXPECT_THAT(Error(request),
              HasSubstr("plugin_kinds[0].name \"Bad\" must match"));

  request = Registration();
  request.mutable_plugin_kinds(0)->set_name("other");
  EXPECT_THAT(
      Error(request),
      HasSubstr("plugin_kinds[0].name \"other\" is not listed in kinds"));

  request = Registration();
  *request.add_plugin_kinds() = request.plugin_kinds(0);
  EXPECT_THAT(Error(request),
              HasSubstr("plugin_kinds[1].name "
                        "\"byte-histogram\" is described twice"));

  request = Registration();
  quarry::v1::SettingDescription* setting =
      request.mutable_plugin_kinds(0)->add_settings();
  setting->set_name("limit");
  setting->set_type(quarry::v1::SETTING_TYPE_INTEGER);
  setting->set_min_value(10);
  setting->set_max_value(1);
  EXPECT_THAT(Error(request),
              HasSubstr("plugin_kinds[0].settings[0].min_value (10) is "
                        "greater than max_value (1)"));
}

}  // namespace
}  // namespace quarry

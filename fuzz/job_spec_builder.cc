#include "fuzz/job_spec_builder.h"

#include <cstdint>
#include <iterator>
#include <limits>

#include "absl/strings/str_cat.h"

namespace quarry::fuzz {
namespace {

const std::vector<std::string>& SettingNames() {
  static const auto* const kNames = new std::vector<std::string>{
      "tasks",      "pattern",   "ms",         "fail_attempts", "delay_ms",
      "kill_grace", "memory",    "cpu_time",   "max_output",    "label",
      "buckets",    "timeout",   "size",       "regex",         ""};
  return *kNames;
}

const std::vector<std::string>& SettingValues() {
  static const auto* const kValues = new std::vector<std::string>{
      "0", "1", "-1", "3", "100", "1000000", "10000000", "10000001",
      "9223372036854775807", "9223372036854775808", "-9223372036854775808",
      "1e3", " 5", "0x10", "5s", "250ms", "-5s", "inf", "720h", "721h",
      "16M", "15M", "1T", "16T", "17T", "8388607T", "8388608T", "1K", "k",
      "(a*)*b", "[", "\\", ".*", "a{1000}{1000}", "(?P<n>x)", "\xff\xfe",
      std::string("a\0b", 3), ""};
  return *kValues;
}

const std::vector<std::string>& Placeholders() {
  static const auto* const kParts = new std::vector<std::string>{
      "{input}", "{output}", "{name}",  "{index}", "{job}", "{attempt}",
      "{parts}", "{",        "}",       "{{",      "}}",    "{inptu}",
      "{}",      "{{}}",     "{output", "output}", "$(id)", "'",
      "\"",      ";",        " ",       "\n",      "\\"};
  return *kParts;
}

}  // namespace

std::string JobSpecBuilder::Bytes(size_t max) {
  return data_.ConsumeRandomLengthString(max);
}

std::string JobSpecBuilder::PickOr(const std::vector<std::string>& choices) {
  if (data_.ConsumeIntegralInRange<int>(0, 7) == 0) return Bytes();
  return choices[data_.ConsumeIntegralInRange<size_t>(0, choices.size() - 1)];
}

std::string JobSpecBuilder::Path() {
  switch (data_.ConsumeIntegralInRange<int>(0, 5)) {
    case 0:  // Free bytes: relative, "/..", NUL, "//x/./y/" and the like.
      return tree_.Confine(Bytes(128));
    case 1:  // A name of the tree with a hostile tail.
      return tree_.Confine(
          absl::StrCat("/", PickOr(tree_.names()), Bytes(16)));
    default: {
      const std::vector<std::string>& names = tree_.names();
      const std::string& name =
          names[data_.ConsumeIntegralInRange<size_t>(0, names.size() - 1)];
      return tree_.Confine(absl::StrCat("/", name));
    }
  }
}

std::string JobSpecBuilder::SettingValue() {
  return data_.ConsumeBool() ? PickOr(SettingValues()) : Bytes();
}

int64_t JobSpecBuilder::EdgeInt() {
  static constexpr int64_t kEdges[] = {
      0, 1, -1, 2, 3, 4096, 4097, int64_t{1} << 40, (int64_t{1} << 40) + 1,
      std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(),
      std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  if (data_.ConsumeBool()) return data_.ConsumeIntegral<int64_t>();
  return kEdges[data_.ConsumeIntegralInRange<size_t>(0, std::size(kEdges) - 1)];
}

std::string JobSpecBuilder::Template() {
  std::string text;
  const int parts = data_.ConsumeIntegralInRange<int>(0, 6);
  for (int i = 0; i < parts; ++i) {
    text += data_.ConsumeBool() ? PickOr(Placeholders()) : Bytes(16);
  }
  return text;
}

quarry::v1::JobSpec JobSpecBuilder::Spec() {
  quarry::v1::JobSpec spec;
  spec.set_kind(PickOr(kind_names_));
  const int inputs = data_.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < inputs; ++i) spec.add_inputs(Path());
  if (data_.ConsumeBool()) spec.set_output_dir(Path());
  const int settings = data_.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < settings; ++i) {
    (*spec.mutable_settings())[PickOr(SettingNames())] = SettingValue();
  }
  spec.set_overwrite(data_.ConsumeBool());
  if (data_.ConsumeBool()) spec.set_max_attempts(static_cast<int32_t>(EdgeInt()));
  if (data_.ConsumeBool()) spec.set_bytes_per_task(EdgeInt());
  if (data_.ConsumeBool()) {
    spec.mutable_task_timeout()->set_seconds(EdgeInt());
    spec.mutable_task_timeout()->set_nanos(static_cast<int32_t>(EdgeInt()));
  }
  const int args = data_.ConsumeIntegralInRange<int>(0, 5);
  for (int i = 0; i < args; ++i) spec.add_command(Template());
  const int env = data_.ConsumeIntegralInRange<int>(0, 3);
  for (int i = 0; i < env; ++i) {
    (*spec.mutable_env())[PickOr({"PATH", "QUARRY_JOB", "A_1", "1A", "A-B"})] =
        Bytes();
  }
  if (data_.ConsumeBool()) spec.set_reduce(Template());
  return spec;
}

PlannerLimits JobSpecBuilder::Limits() {
  PlannerLimits limits;
  if (data_.ConsumeBool()) {
    limits.max_tasks = data_.ConsumeIntegralInRange<int64_t>(1, 20);
    limits.max_attempts = data_.ConsumeIntegralInRange<int32_t>(1, 5);
    limits.default_max_attempts =
        data_.ConsumeIntegralInRange<int32_t>(1, limits.max_attempts);
  }
  return limits;
}

quarry::v1::KindDescription JobSpecBuilder::Description() {
  quarry::v1::KindDescription description;
  description.set_name(PickOr({"histogram", "wordcount", "a", "A", "1x",
                               "x-y_z", std::string(65, 'k')}));
  description.set_description(Bytes());
  description.set_has_reduce(data_.ConsumeBool());
  description.set_needs_inputs(data_.ConsumeBool());
  const int settings = data_.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < settings; ++i) {
    quarry::v1::SettingDescription* setting = description.add_settings();
    setting->set_name(PickOr(SettingNames()));
    setting->set_type(static_cast<quarry::v1::SettingType>(
        data_.ConsumeIntegralInRange<int>(-1, 7)));
    setting->set_required(data_.ConsumeBool());
    setting->set_min_value(EdgeInt());
    setting->set_max_value(EdgeInt());
    setting->set_help(Bytes());
  }
  return description;
}

}  // namespace quarry::fuzz

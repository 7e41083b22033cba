#include "common/kind_description.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace quarry {
namespace {

using quarry::v1::KindDescription;
using quarry::v1::SettingDescription;

// The names of settings the worker itself handles ("delay_ms") or the
// planner reads ("tasks"): a plugin may not declare them.
bool IsReservedSetting(absl::string_view name) {
  return name == "delay_ms" || name == "tasks";
}

bool IsValidSettingName(absl::string_view name) {
  return !name.empty() && name.size() <= kMaxKindNameBytes &&
         absl::ascii_islower(name[0]) &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_';
         });
}

// `text` for an error message: at most 64 bytes, escaped.
std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, 64)),
                      text.size() > 64 ? "...\"" : "\"");
}

absl::Status CheckText(absl::string_view text, absl::string_view field) {
  if (text.size() > kMaxKindTextBytes ||
      text.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be at most ", kMaxKindTextBytes,
                     " bytes without a NUL byte, got ", text.size(), " bytes"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SettingSpec> SettingFromDescription(
    const SettingDescription& setting, const std::string& field) {
  SettingSpec spec;
  spec.name = setting.name();
  if (!IsValidSettingName(spec.name)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".name ", Quoted(spec.name),
                     " must match [a-z][a-z0-9_]{0,63}"));
  }
  if (IsReservedSetting(spec.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".name \"", spec.name, "\" is reserved (handled by Quarry)"));
  }
  if (absl::Status ok = CheckText(setting.help(), field + ".help"); !ok.ok()) {
    return ok;
  }
  spec.help = setting.help();
  spec.required = setting.required();
  spec.min_value = setting.min_value();
  spec.max_value = setting.max_value();
  bool non_negative = true;
  switch (setting.type()) {
    case quarry::v1::SETTING_TYPE_INTEGER:
      spec.type = SettingType::kInteger;
      non_negative = false;
      break;
    case quarry::v1::SETTING_TYPE_DURATION:
      spec.type = SettingType::kDuration;
      break;
    case quarry::v1::SETTING_TYPE_BYTES:
      spec.type = SettingType::kBytes;
      break;
    case quarry::v1::SETTING_TYPE_STRING:
      spec.type = SettingType::kString;
      if (spec.max_value == 0) spec.max_value = kDefaultMaxStringSetting;
      if (spec.max_value > kMaxStringSetting) {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ".max_value must be at most ", kMaxStringSetting,
            " for a STRING setting, got ", spec.max_value));
      }
      break;
    case quarry::v1::SETTING_TYPE_REGEX:
      spec.type = SettingType::kRegex;
      spec.min_value = spec.max_value = 0;  // Unused.
      break;
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".type ", static_cast<int>(setting.type()),
          " is not one of INTEGER, DURATION, BYTES, STRING, REGEX"));
  }
  if (non_negative && spec.min_value < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".min_value must not be negative, got ", spec.min_value));
  }
  if (spec.min_value > spec.max_value) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".min_value (", spec.min_value,
                     ") is greater than max_value (", spec.max_value, ")"));
  }
  return spec;
}

quarry::v1::SettingType TypeOf(SettingType type) {
  switch (type) {
    case SettingType::kInteger:
      return quarry::v1::SETTING_TYPE_INTEGER;
    case SettingType::kDuration:
      return quarry::v1::SETTING_TYPE_DURATION;
    case SettingType::kBytes:
      return quarry::v1::SETTING_TYPE_BYTES;
    case SettingType::kString:
      return quarry::v1::SETTING_TYPE_STRING;
    case SettingType::kRegex:
      return quarry::v1::SETTING_TYPE_REGEX;
  }
  return quarry::v1::SETTING_TYPE_UNSPECIFIED;
}

}  // namespace

bool IsValidPluginKindName(absl::string_view name) {
  return !name.empty() && name.size() <= kMaxKindNameBytes &&
         absl::ascii_islower(name[0]) &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return absl::ascii_islower(c) || absl::ascii_isdigit(c) ||
                  c == '_' || c == '-';
         });
}

absl::StatusOr<KindSpec> KindSpecFromDescription(
    const KindDescription& description) {
  KindSpec kind;
  kind.name = description.name();
  if (!IsValidPluginKindName(kind.name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "name ", Quoted(kind.name), " must match [a-z][a-z0-9_-]{0,63}"));
  }
  if (absl::Status ok = CheckText(description.description(), "description");
      !ok.ok()) {
    return ok;
  }
  kind.description = description.description();
  if (!description.needs_inputs()) {
    return absl::InvalidArgumentError(
        "needs_inputs must be true: plugin kinds read input files");
  }
  kind.needs_inputs = true;
  kind.needs_output = true;
  kind.has_reduce = description.has_reduce();
  if (description.settings_size() > kMaxKindSettings) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings has ", description.settings_size(),
                     " entries, more than ", kMaxKindSettings));
  }
  absl::flat_hash_set<std::string> names;
  for (int i = 0; i < description.settings_size(); ++i) {
    const std::string field = absl::StrCat("settings[", i, "]");
    absl::StatusOr<SettingSpec> setting =
        SettingFromDescription(description.settings(i), field);
    if (!setting.ok()) return setting.status();
    if (!names.insert(setting->name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".name \"", setting->name, "\" is declared twice"));
    }
    kind.settings.push_back(*std::move(setting));
  }
  kind.settings.push_back(DelaySetting());
  return kind;
}

KindDescription DescribeKind(const KindSpec& spec) {
  KindDescription description;
  description.set_name(spec.name);
  description.set_description(spec.description);
  description.set_has_reduce(spec.has_reduce);
  description.set_needs_inputs(spec.needs_inputs);
  for (const SettingSpec& setting : spec.settings) {
    if (setting.name == "delay_ms") continue;
    SettingDescription* out = description.add_settings();
    out->set_name(setting.name);
    out->set_type(TypeOf(setting.type));
    out->set_required(setting.required);
    out->set_min_value(setting.min_value);
    out->set_max_value(setting.max_value);
    out->set_help(setting.help);
  }
  return description;
}

}  // namespace quarry

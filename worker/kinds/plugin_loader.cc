// Loading plugin kinds from shared objects (see plugin_api.h).

#include "worker/kinds/plugin_loader.h"

#include <dlfcn.h>
#include <glog/logging.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/job_kinds.h"
#include "common/kind_description.h"
#include "worker/kinds/plugin_api.h"
#include "worker/kinds/plugin_kind.h"

namespace quarry::worker {
namespace {

constexpr size_t kMaxKindsPerPlugin = 64;

// OK if only the operator can change what `st` describes: not writable by
// group or others, owned by root or by the worker's own user.
absl::Status CheckOwnership(const struct stat& st, absl::string_view what) {
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s is writable by group or others (mode %04o); a plugin runs "
        "inside the worker, so only the operator may be able to change it",
        what, st.st_mode & 07777));
  }
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    return absl::PermissionDeniedError(absl::StrCat(
        what, " is owned by uid ", st.st_uid,
        ", neither root nor the worker's user (uid ", geteuid(), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckDirectory(const std::string& dir) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read the directory: ", std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError("not a directory");
  }
  return CheckOwnership(st, "the directory");
}

// The real path of the plugin file `path`, once it is known to be a safe
// regular file (a symbolic link is followed).
absl::StatusOr<std::string> CheckPluginFile(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("cannot resolve the path: ", std::strerror(errno)));
  }
  struct stat st;
  if (stat(resolved, &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot stat ", resolved, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(resolved == path ? "" : absl::StrCat(resolved, ": "),
                     "not a regular file"));
  }
  if (absl::Status safe = CheckOwnership(
          st, resolved == path ? "the file"
                               : absl::StrCat("its target ", resolved));
      !safe.ok()) {
    return safe;
  }
  return std::string(resolved);
}

// A string of the plugin's table: at most `limit` bytes (never reads
// further), "" for null unless `required`.
absl::StatusOr<std::string> PluginText(const char* text, size_t limit,
                                       absl::string_view field, bool required) {
  if (text == nullptr) {
    if (!required) return std::string();
    return absl::InvalidArgumentError(absl::StrCat(field, " is null"));
  }
  const size_t length = strnlen(text, limit + 1);
  if (length > limit) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is longer than ", limit, " bytes"));
  }
  return std::string(text, length);
}

// The description of one entry of a plugin's table (checked against the
// rules of KindDescription), or an error naming the field.
absl::StatusOr<quarry::v1::KindDescription> DescribeEntry(
    const quarry_kind_v1& entry) {
  quarry::v1::KindDescription description;
  absl::StatusOr<std::string> name =
      PluginText(entry.name, kMaxKindNameBytes, "name", true);
  if (!name.ok()) return name.status();
  description.set_name(*name);
  absl::StatusOr<std::string> text =
      PluginText(entry.description, kMaxKindTextBytes, "description", false);
  if (!text.ok()) return text.status();
  description.set_description(*text);
  if (entry.map == nullptr) {
    return absl::InvalidArgumentError("map is null (it is required)");
  }
  description.set_has_reduce(entry.reduce != nullptr);
  description.set_needs_inputs(true);
  if (entry.setting_count > static_cast<size_t>(kMaxKindSettings)) {
    return absl::InvalidArgumentError(
        absl::StrCat("setting_count is ", entry.setting_count, ", more than ",
                     kMaxKindSettings));
  }
  if (entry.setting_count > 0 && entry.settings == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "settings is null but setting_count is ", entry.setting_count));
  }
  for (size_t i = 0; i < entry.setting_count; ++i) {
    const quarry_setting_v1& in = entry.settings[i];
    const std::string field = absl::StrCat("settings[", i, "]");
    quarry::v1::SettingDescription* out = description.add_settings();
    absl::StatusOr<std::string> setting_name =
        PluginText(in.name, kMaxKindNameBytes, field + ".name", true);
    if (!setting_name.ok()) return setting_name.status();
    out->set_name(*setting_name);
    absl::StatusOr<std::string> help =
        PluginText(in.help, kMaxKindTextBytes, field + ".help", false);
    if (!help.ok()) return help.status();
    out->set_help(*help);
    if (in.type < QUARRY_SETTING_INTEGER || in.type > QUARRY_SETTING_REGEX) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ".type ", in.type, " is not a quarry_setting_type"));
    }
    // The C and proto enums have the same numbers.
    out->set_type(static_cast<quarry::v1::SettingType>(in.type));
    out->set_required(in.required != 0);
    out->set_min_value(in.min_value);
    out->set_max_value(in.max_value);
  }
  if (absl::StatusOr<KindSpec> spec = KindSpecFromDescription(description);
      !spec.ok()) {
    return spec.status();
  }
  return description;
}

// Loads one plugin; on success registers its kinds, records which file
// provides each (`providers`) and appends their descriptions.
absl::Status LoadPlugin(const std::string& path, KindRegistry& registry,
                        std::map<std::string, std::string>& providers,
                        std::vector<quarry::v1::KindDescription>& kinds) {
  absl::StatusOr<std::string> real_path = CheckPluginFile(path);
  if (!real_path.ok()) return real_path.status();
  dlerror();  // Clears an earlier error.
  void* handle = dlopen(real_path->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = dlerror();
    return absl::FailedPreconditionError(
        absl::StrCat("dlopen failed: ", why != nullptr ? why : "unknown"));
  }
  // From here on a refusal unloads it again.
  auto refuse = [handle](absl::Status status) {
    dlclose(handle);
    return status;
  };
  using EntryPoint = const quarry_plugin_table_v1* (*)();
  void* symbol = dlsym(handle, QUARRY_PLUGIN_ENTRY_POINT);
  if (symbol == nullptr) {
    return refuse(absl::NotFoundError(
        "no symbol quarry_plugin_v1 (not a Quarry plugin, or the function "
        "is not exported with C linkage)"));
  }
  const quarry_plugin_table_v1* table = reinterpret_cast<EntryPoint>(symbol)();
  if (table == nullptr) {
    return refuse(
        absl::InvalidArgumentError("quarry_plugin_v1() returned null"));
  }
  if (table->abi_version != QUARRY_PLUGIN_ABI_VERSION) {
    return refuse(absl::FailedPreconditionError(absl::StrCat(
        "ABI version ", table->abi_version, ", this worker supports version ",
        QUARRY_PLUGIN_ABI_VERSION)));
  }
  if (table->kinds == nullptr || table->kind_count == 0 ||
      table->kind_count > kMaxKindsPerPlugin) {
    return refuse(absl::InvalidArgumentError(absl::StrCat(
        "the table must list 1..", kMaxKindsPerPlugin, " kinds, got ",
        table->kind_count, table->kinds == nullptr ? " (kinds is null)" : "")));
  }
  std::vector<quarry::v1::KindDescription> found;
  for (size_t i = 0; i < table->kind_count; ++i) {
    absl::StatusOr<quarry::v1::KindDescription> description =
        DescribeEntry(table->kinds[i]);
    if (!description.ok()) {
      return refuse(absl::InvalidArgumentError(
          absl::StrCat("kinds[", i, "].", description.status().message())));
    }
    const std::string& name = description->name();
    if (FindKind(name) != nullptr) {
      return refuse(absl::AlreadyExistsError(
          absl::StrCat("kinds[", i, "]: \"", name, "\" is a built-in kind")));
    }
    auto provider = providers.find(name);
    if (provider != providers.end()) {
      return refuse(absl::AlreadyExistsError(
          absl::StrCat("kinds[", i, "]: kind \"", name,
                       "\" is already provided by ", provider->second)));
    }
    if (std::any_of(found.begin(), found.end(),
                    [&name](const quarry::v1::KindDescription& other) {
                      return other.name() == name;
                    })) {
      return refuse(absl::AlreadyExistsError(
          absl::StrCat("kinds[", i, "]: kind \"", name, "\" is listed twice")));
    }
    found.push_back(*std::move(description));
  }
  for (size_t i = 0; i < found.size(); ++i) {
    const quarry_kind_v1& entry = table->kinds[i];
    const KindSpec spec = *KindSpecFromDescription(found[i]);
    providers[spec.name] = path;
    if (entry.reduce != nullptr) {
      registry.Register(spec.name, true,
                        NewPluginKind(spec, entry.reduce, /*is_reduce=*/true));
    }
    registry.Register(spec.name, false,
                      NewPluginKind(spec, entry.map, /*is_reduce=*/false));
  }
  LOG(INFO) << "plugin " << path << " loaded: kinds "
            << absl::StrJoin(found, ", ",
                             [](std::string* out,
                                const quarry::v1::KindDescription& kind) {
                               out->append(kind.name());
                             });
  for (quarry::v1::KindDescription& kind : found) {
    kinds.push_back(std::move(kind));
  }
  return absl::OkStatus();
}

}  // namespace

PluginLoadResult LoadPlugins(const std::string& dir, KindRegistry& registry) {
  PluginLoadResult result;
  if (absl::Status usable = CheckDirectory(dir); !usable.ok()) {
    LOG(ERROR) << "--plugin_dir " << dir
               << ": no plugin loaded: " << usable.message();
    result.refused.push_back(absl::StrCat(dir, ": ", usable.message()));
    return result;
  }
  std::vector<std::string> paths;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 3 && absl::EndsWith(name, ".so")) {
      paths.push_back(entry.path().string());
    }
  }
  if (error) {
    LOG(ERROR) << "--plugin_dir " << dir
               << ": cannot list it: " << error.message();
    result.refused.push_back(absl::StrCat(dir, ": ", error.message()));
  }
  std::sort(paths.begin(), paths.end());
  std::map<std::string, std::string> providers;  // kind -> file
  for (const std::string& path : paths) {
    if (absl::Status loaded =
            LoadPlugin(path, registry, providers, result.kinds);
        !loaded.ok()) {
      LOG(ERROR) << "plugin " << path << " refused: " << loaded.message();
      result.refused.push_back(absl::StrCat(path, ": ", loaded.message()));
    }
  }
  return result;
}

}  // namespace quarry::worker

#include "common/data_roots.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace quarry {
namespace {

constexpr absl::string_view kReadOnlySuffix = ":ro";

// One entry of a --data_root value, checked.
absl::StatusOr<DataRoot> ParseEntry(absl::string_view entry) {
  DataRoot root;
  absl::string_view path = entry;
  if (absl::ConsumeSuffix(&path, kReadOnlySuffix)) root.read_only = true;
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--data_root \"", absl::CHexEscape(entry), "\" contains a NUL byte"));
  }
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("--data_root \"", entry,
                     "\" is not an absolute directory (DIR or DIR:ro)"));
  }
  root.path = CleanAbsolutePath(path);
  return root;
}

std::string Describe(const DataRoot& root) {
  return root.read_only ? absl::StrCat(root.path, kReadOnlySuffix) : root.path;
}

}  // namespace

std::string CleanAbsolutePath(absl::string_view raw) {
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(raw, '/', absl::SkipEmpty())) {
    if (part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

bool IsPathWithin(absl::string_view dir, absl::string_view path) {
  if (dir == "/") return absl::StartsWith(path, "/");
  // "/srv/data2" starts with "/srv/data" but is not beneath it: the next
  // character must end the path or start a new component.
  return absl::StartsWith(path, dir) &&
         (path.size() == dir.size() || path[dir.size()] == '/');
}

std::string PathBelowRoot(const DataRoot& root, absl::string_view path) {
  absl::string_view rest = path.substr(std::min(root.path.size(), path.size()));
  absl::ConsumePrefix(&rest, "/");
  return rest.empty() ? "." : std::string(rest);
}

absl::StatusOr<DataRoots> DataRoots::Parse(
    const std::vector<std::string>& values) {
  DataRoots parsed;
  for (const std::string& value : values) {
    for (absl::string_view entry : absl::StrSplit(value, ',')) {
      entry = absl::StripAsciiWhitespace(entry);
      if (entry.empty()) continue;
      absl::StatusOr<DataRoot> root = ParseEntry(entry);
      if (!root.ok()) return root.status();
      auto same = std::find_if(
          parsed.roots_.begin(), parsed.roots_.end(),
          [&](const DataRoot& other) { return other.path == root->path; });
      if (same == parsed.roots_.end()) {
        parsed.roots_.push_back(*std::move(root));
      } else if (same->read_only != root->read_only) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--data_root ", root->path,
            " is given both read-only (:ro) and writable; name it once"));
      }
    }
  }
  return parsed;
}

absl::Status DataRoots::CheckDirectoriesExist() const {
  for (const DataRoot& root : roots_) {
    struct stat info;
    if (stat(root.path.c_str(), &info) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("--data_root ", Describe(root), ": ", strerror(errno)));
    }
    if (!S_ISDIR(info.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("--data_root ", Describe(root), " is not a directory"));
    }
  }
  return absl::OkStatus();
}

const DataRoot* DataRoots::RootOf(absl::string_view path) const {
  const DataRoot* innermost = nullptr;
  for (const DataRoot& root : roots_) {
    if (!IsPathWithin(root.path, path)) continue;
    if (innermost == nullptr || root.path.size() > innermost->path.size()) {
      innermost = &root;
    }
  }
  return innermost;
}

absl::Status DataRoots::CheckInput(absl::string_view field,
                                   absl::string_view path) const {
  if (roots_.empty() || RootOf(path) != nullptr) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      field, " \"", path, "\" is outside the data roots (", ToString(), ")"));
}

absl::Status DataRoots::CheckOutput(absl::string_view field,
                                    absl::string_view path) const {
  if (roots_.empty()) return absl::OkStatus();
  const DataRoot* root = RootOf(path);
  if (root == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " \"", path, "\" is outside the data roots (", ToString(), ")"));
  }
  if (root->read_only) {
    std::vector<absl::string_view> writable;
    for (const DataRoot& other : roots_) {
      if (!other.read_only) writable.push_back(other.path);
    }
    return absl::InvalidArgumentError(absl::StrCat(
        field, " \"", path, "\" is under the read-only data root ",
        Describe(*root), " (inputs only; writable roots: ",
        writable.empty() ? "none" : absl::StrJoin(writable, ", "), ")"));
  }
  return absl::OkStatus();
}

std::string DataRoots::ToString() const {
  if (roots_.empty()) return "none";
  return absl::StrJoin(roots_, ", ", [](std::string* out, const DataRoot& r) {
    out->append(Describe(r));
  });
}

}  // namespace quarry

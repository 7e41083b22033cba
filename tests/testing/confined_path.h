#ifndef QUARRY_TESTS_TESTING_CONFINED_PATH_H_
#define QUARRY_TESTS_TESTING_CONFINED_PATH_H_

#include <filesystem>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"

namespace quarry::testing {

// Keeping fuzzed paths inside a scratch directory, so that a fuzzer that
// sends paths to code which reads or creates them (the job planner, the
// leader's SubmitJob) touches nothing else. Pure functions.

// Whether `path` (absolute and lexically normal) is `root` or lies beneath
// it. `root`: absolute, normal, no trailing slash.
inline bool IsWithin(absl::string_view root, absl::string_view path) {
  return path == root || (absl::StartsWith(path, root) &&
                          path.size() > root.size() && path[root.size()] == '/');
}

// `raw` moved under `root`: an absolute path is taken relative to the root,
// and one whose lexically normal form would leave the root becomes
// root/outside. Paths the planner refuses before it touches the filesystem
// (empty, relative, holding a NUL) come back unchanged, so that those
// checks are exercised too. Symlinks inside `root` must not point out.
inline std::string ConfinePath(const std::string& root, const std::string& raw) {
  if (raw.empty() || raw[0] != '/' || raw.find('\0') != std::string::npos) {
    return raw;
  }
  const std::string joined = IsWithin(root, raw) ? raw : root + raw;
  std::string normal = std::filesystem::path(joined).lexically_normal().string();
  if (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return IsWithin(root, normal) ? joined : root + "/outside";
}

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_CONFINED_PATH_H_

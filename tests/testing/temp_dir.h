#ifndef QUARRY_TESTS_TESTING_TEMP_DIR_H_
#define QUARRY_TESTS_TESTING_TEMP_DIR_H_

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace quarry::testing {

// A fresh directory under $TMPDIR (or /tmp), removed with its contents when
// the object goes away.
class TempDir {
 public:
  TempDir() {
    const char* base = getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr ? base : "/tmp") + "/quarry-test-XXXXXX";
    path_ = mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // `name` inside this directory.
  std::string Join(absl::string_view name) const {
    return absl::StrCat(path_, "/", name);
  }
  // Writes `content` to `name` here (creating subdirectories) and returns
  // its path.
  std::string WriteFile(absl::string_view name, absl::string_view content) const;

 private:
  std::string path_;
};

// Writes `content` to `path`, creating parent directories.
inline void WriteFile(const std::string& path, absl::string_view content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
}

inline std::string TempDir::WriteFile(absl::string_view name,
                                     absl::string_view content) const {
  const std::string path = Join(name);
  ::quarry::testing::WriteFile(path, content);
  return path;
}

// Names in `dir`, sorted; empty if it cannot be read.
inline std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(dir, error)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The whole content of `path` ("" if unreadable).
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_TEMP_DIR_H_

#include "fuzz/fuzz_tree.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "glog/logging.h"
#include "tests/testing/confined_path.h"

namespace quarry::fuzz {
namespace {

namespace fs = std::filesystem;

// Relative paths: directories end with '/', symlinks are "NAME -> TARGET"
// (targets relative and inside the tree), "NAME|" is a FIFO, the rest are
// files holding their own name.
constexpr const char* kLayout[] = {
    "in/",           "in/a.txt",          "in/b.txt",
    "in/sub/",       "in/sub/c.txt",      "in/sub/deeper/",
    "in/sub/deeper/d.txt",                "in/empty/",
    "in/link-a -> a.txt",                 "in/loop -> .",
    "in/dangling -> missing",             "in/fifo|",
    "out-empty/",    "out-used/",         "out-used/part-00000",
    "out-used/result.tsv",                "file.txt",
};
// Names that do not exist in the tree.
constexpr const char* kAbsent[] = {"missing", "out-new", "in/sub/none/x"};

void RemoveTree(const std::string& root) {
  std::error_code error;
  fs::remove_all(root, error);
}

}  // namespace

const FuzzTree& FuzzTree::Get() {
  static const FuzzTree* const kTree = [] {
    auto* tree = new FuzzTree();
    static std::string root_to_remove = tree->root();
    std::atexit([] { RemoveTree(root_to_remove); });
    return tree;
  }();
  return *kTree;
}

FuzzTree::FuzzTree() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern =
      absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp",
                   "/quarry-fuzz-XXXXXX");
  CHECK(mkdtemp(pattern.data()) != nullptr) << "mkdtemp " << pattern;
  root_ = fs::path(pattern).lexically_normal().string();
  names_.push_back("");
  for (const char* entry : kLayout) {
    std::string name = entry;
    const size_t arrow = name.find(" -> ");
    if (arrow != std::string::npos) {
      const std::string link = name.substr(0, arrow);
      fs::create_symlink(name.substr(arrow + 4), root_ + "/" + link);
      names_.push_back(link);
    } else if (absl::EndsWith(name, "/")) {
      name.pop_back();
      fs::create_directory(root_ + "/" + name);
      names_.push_back(name);
    } else if (absl::EndsWith(name, "|")) {
      name.pop_back();
      CHECK_EQ(mkfifo((root_ + "/" + name).c_str(), 0600), 0) << name;
      names_.push_back(name);
    } else {
      std::ofstream(root_ + "/" + name) << name << "\n";
      names_.push_back(name);
    }
  }
  for (const char* name : kAbsent) names_.push_back(name);
}

std::string FuzzTree::Confine(const std::string& raw) const {
  return testing::ConfinePath(root_, raw);
}

bool FuzzTree::Contains(absl::string_view path) const {
  return testing::IsWithin(root_, path);
}

}  // namespace quarry::fuzz

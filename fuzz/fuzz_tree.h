#ifndef QUARRY_FUZZ_FUZZ_TREE_H_
#define QUARRY_FUZZ_FUZZ_TREE_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace quarry::fuzz {

// A small fixed directory tree in a private temp dir ($TMPDIR or /tmp),
// for fuzz targets whose code reads the filesystem (the job planner walks
// inputs and looks at the output directory): files, nested and empty
// directories, a FIFO, and symlinks that stay inside the tree (to a file,
// a loop back to its own directory, a dangling one). Made once per
// process and removed at exit. Nothing here writes outside it. Not
// thread-safe (libFuzzer runs one input at a time).
class FuzzTree {
 public:
  // The tree of this process, made on the first call (CHECK-fails if it
  // cannot be made).
  static const FuzzTree& Get();

  // Absolute, without a trailing slash.
  const std::string& root() const { return root_; }
  // Paths relative to the root worth naming in a job: every entry of the
  // tree, the root itself ("") and a few absent names.
  const std::vector<std::string>& names() const { return names_; }

  // `raw` moved into the tree: an absolute path is taken relative to the
  // root, and one whose lexically normal form would leave the root becomes
  // root/outside (absent). Paths the planner refuses before it touches the
  // filesystem (empty, relative, holding a NUL) come back unchanged, so
  // that those checks are fuzzed too.
  std::string Confine(const std::string& raw) const;
  // Whether `path` (absolute and normal) is the root or lies beneath it.
  bool Contains(absl::string_view path) const;

 private:
  FuzzTree();

  std::string root_;
  std::vector<std::string> names_;
};

}  // namespace quarry::fuzz

#endif  // QUARRY_FUZZ_FUZZ_TREE_H_

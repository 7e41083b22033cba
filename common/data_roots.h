#ifndef QUARRY_COMMON_DATA_ROOTS_H_
#define QUARRY_COMMON_DATA_ROOTS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace quarry {

// One --data_root: a directory beneath which jobs may read (and, unless
// read_only, write).
struct DataRoot {
  std::string path;        // Absolute and lexically clean, no trailing '/'.
  bool read_only = false;  // Given as "DIR:ro": inputs only.
};

// The data roots of a leader or worker (--data_root DIR[:ro], repeatable or
// comma separated): every input of a job must lie beneath one of them, and
// every output beneath one that is not read-only. No roots: no restriction.
//
// This class judges paths by their text only (after lexical cleaning, so
// "ROOT/../etc" is outside ROOT); it never touches the filesystem. Where a
// symbolic link could lead a path elsewhere, BeneathOpener
// (common/beneath_opener.h) resolves it beneath its root. The root
// directories themselves are trusted as the operator named them (a root
// that is itself a symlink is followed).
//
// Nested roots: the innermost root that holds a path governs it, so
// "/data" with "/data/reference:ro" lets jobs write under /data but not
// under /data/reference.
//
// Immutable after Parse; thread-safe.
class DataRoots {
 public:
  // No roots: every path allowed.
  DataRoots() = default;

  // Parses the values of --data_root, each "DIR" or "DIR:ro" or a
  // comma-separated list of them (blank entries are skipped). INVALID_ARGUMENT
  // naming the value for a relative path or a NUL byte, and for one
  // directory given both read-only and writable.
  static absl::StatusOr<DataRoots> Parse(
      const std::vector<std::string>& values);

  // OK if every root is an existing directory; else FAILED_PRECONDITION
  // naming it (a mistyped root is better refused at start than found by
  // the first job).
  absl::Status CheckDirectoriesExist() const;

  bool empty() const { return roots_.empty(); }
  const std::vector<DataRoot>& roots() const { return roots_; }

  // The innermost root holding `path` (absolute, lexically clean), or null
  // when none does. "/srv/data2/x" is not held by "/srv/data".
  const DataRoot* RootOf(absl::string_view path) const;

  // OK if `path` (absolute, lexically clean) may be read: with no roots, or
  // beneath one. Else INVALID_ARGUMENT: `<field> "<path>" is outside the
  // data roots (/srv/data, /srv/in:ro)`.
  absl::Status CheckInput(absl::string_view field,
                          absl::string_view path) const;
  // OK if `path` may be written: with no roots, or beneath a root whose
  // innermost one is not read-only. INVALID_ARGUMENT naming the field and
  // the roots otherwise.
  absl::Status CheckOutput(absl::string_view field,
                           absl::string_view path) const;

  // "/srv/data, /srv/in:ro" (the roots as given, for messages and logs);
  // "none" when empty.
  std::string ToString() const;

 private:
  std::vector<DataRoot> roots_;
};

// `path` relative to `root` (which holds it): "a/b" for root "/srv" and
// path "/srv/a/b", "." for the root itself.
std::string PathBelowRoot(const DataRoot& root, absl::string_view path);

// Whether the lexically clean absolute `path` is `dir` or beneath it.
bool IsPathWithin(absl::string_view dir, absl::string_view path);

// `raw` made absolute-and-clean: "." and ".." components resolved by text,
// duplicate and trailing slashes dropped ("/a/./b/../c/" -> "/a/c"; ".."
// at the top stays at "/"). `raw` must be absolute.
std::string CleanAbsolutePath(absl::string_view raw);

}  // namespace quarry

#endif  // QUARRY_COMMON_DATA_ROOTS_H_

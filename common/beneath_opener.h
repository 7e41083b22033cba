#ifndef QUARRY_COMMON_BENEATH_OPENER_H_
#define QUARRY_COMMON_BENEATH_OPENER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/data_roots.h"
#include "common/scoped_fd.h"

namespace quarry {

// How symbolic links met below the starting directory are treated.
enum class Symlinks {
  kFollow,       // Anywhere, as open(2) does (no data roots).
  kStayBeneath,  // Followed only while they stay beneath it (inputs).
  kRefuse,       // Never crossed (output directories).
};

// How paths are resolved beneath a directory.
enum class Resolver {
  // openat2(2) with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (Linux 5.6+),
  // which follows a link only while it stays beneath the directory; when
  // the kernel lacks it (ENOSYS), kPerComponent.
  kAuto,
  // openat(2) one component at a time with O_NOFOLLOW. It cannot follow a
  // link and know where the link leads, so it refuses every symlink:
  // kStayBeneath is treated as kRefuse.
  kPerComponent,
};

// Opens `relative` beneath the directory `dir_fd` with `flags` (O_CLOEXEC
// is added). `relative` is clean: no ".." component and no leading '/'
// ("." is dir_fd itself). Returns the new descriptor, or -1 with errno set:
// EXDEV when a ".." or a link would lead out of dir_fd (or a link has an
// absolute target), ELOOP when a symlink is refused, else open(2)'s errno.
// With Symlinks::kFollow it is plain openat(2).
int OpenBeneath(int dir_fd, const std::string& relative, int flags,
                Symlinks symlinks, Resolver resolver = Resolver::kAuto);

// Opens the files of jobs beneath the data roots, so that no symbolic link
// (planted before submission, or between submission and run) makes Quarry
// read or write outside them:
//  - an input is opened beneath the innermost root holding its path,
//    following symlinks only while they stay beneath that root (never an
//    absolute link, never /proc's magic links);
//  - an output directory is opened beneath a writable root crossing no
//    symlink at all below the root: outputs are never written through one.
// Files in an output directory are then created, renamed and removed
// relative to its descriptor (openat, renameat, unlinkat), never by path.
// Paths are cleaned lexically first ("ROOT/../etc" is "/etc", outside).
// Without roots it opens paths as open(2) does, as Quarry always did.
//
// Immutable; thread-safe. The leader uses it to plan inputs and make output
// directories, the worker to read inputs and stage outputs.
class BeneathOpener {
 public:
  explicit BeneathOpener(DataRoots roots = DataRoots(),
                         Resolver resolver = Resolver::kAuto);

  const DataRoots& roots() const { return roots_; }

  // Opens the input file or directory `path` (absolute) read-only with
  // `flags` added (O_PATH, O_NONBLOCK, O_NOCTTY, O_DIRECTORY). Errors start
  // with `field` and the path: INVALID_ARGUMENT when it is relative, or
  // outside the roots by its text, or a link leads it out of its root (or,
  // with Resolver::kPerComponent, for any link); else open(2)'s error
  // (NOT_FOUND, PERMISSION_DENIED, ...).
  absl::StatusOr<ScopedFd> OpenInput(absl::string_view path, int flags = 0,
                                     absl::string_view field = "input") const;

  // Opens the directory `path` (absolute) to write outputs in (O_RDONLY |
  // O_DIRECTORY). With roots it must lie beneath a writable root and no
  // component below the root may be a symlink. `create`: missing
  // directories are made first (mode 0755), as mkdir -p. Errors start
  // with `field` and the path: INVALID_ARGUMENT outside the roots or under
  // a read-only one, or naming the symlink crossed; NOT_FOUND when it does
  // not exist (and not `create`); else open(2)'s or mkdir(2)'s error
  // (`output_dir "/d/a.txt/x" cannot be created: Not a directory`).
  absl::StatusOr<ScopedFd> OpenOutputDir(
      absl::string_view path, bool create = false,
      absl::string_view field = "output directory") const;

 private:
  // Opens `root`'s directory as the starting point (O_PATH).
  absl::StatusOr<ScopedFd> OpenRoot(absl::string_view root) const;

  const DataRoots roots_;
  const Resolver resolver_;
};

}  // namespace quarry

#endif  // QUARRY_COMMON_BENEATH_OPENER_H_

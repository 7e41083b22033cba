#include "common/beneath_opener.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/errno_status.h"

namespace quarry {
namespace {

// openat2 may fail with EAGAIN when a rename or mount elsewhere raced its
// ".." checks; trying again is what the man page asks for.
constexpr int kMaxOpenat2Retries = 16;

// Whether the kernel lacks openat2 (ENOSYS once: it will not grow it while
// the process runs). A fact about the kernel, hence process-wide.
std::atomic<bool>& Openat2Missing() {
  static std::atomic<bool> missing{false};
  return missing;
}

bool UsesPerComponent(Resolver resolver) {
  return resolver == Resolver::kPerComponent || Openat2Missing().load();
}

// The components of a clean relative path; "." ones dropped.
std::vector<std::string> Components(const std::string& relative) {
  std::vector<std::string> parts;
  for (absl::string_view part :
       absl::StrSplit(relative, '/', absl::SkipEmpty())) {
    if (part != ".") parts.emplace_back(part);
  }
  return parts;
}

// Whether `name` in `dir_fd` is itself a symlink. O_NOFOLLOW reports one as
// ELOOP, or as ENOTDIR when O_DIRECTORY is given too; this tells them apart
// from a real loop or a real non-directory.
bool IsSymlinkAt(int dir_fd, const std::string& name) {
  struct stat info;
  return fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) == 0 &&
         S_ISLNK(info.st_mode);
}

// Sets errno to ELOOP when `name` is a symlink that O_NOFOLLOW refused,
// else to `error`.
void SetOpenErrno(int dir_fd, const std::string& name, int error) {
  errno = (error == ELOOP || error == ENOTDIR) && IsSymlinkAt(dir_fd, name)
              ? ELOOP
              : error;
}

int OpenWithOpenat2(int dir_fd, const std::string& relative, int flags,
                    Symlinks symlinks) {
#ifdef SYS_openat2
  struct open_how how;
  memset(&how, 0, sizeof(how));
  how.flags = static_cast<uint64_t>(flags);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  if (symlinks == Symlinks::kRefuse) how.resolve |= RESOLVE_NO_SYMLINKS;
  for (int attempt = 0;; ++attempt) {
    const long fd =
        syscall(SYS_openat2, dir_fd, relative.c_str(), &how, sizeof(how));
    if (fd >= 0) return static_cast<int>(fd);
    if (errno == EINTR || (errno == EAGAIN && attempt < kMaxOpenat2Retries)) {
      continue;
    }
    return -1;
  }
#else
  errno = ENOSYS;
  return -1;
#endif
}

// One component at a time, none of them followed if it is a symlink.
// Intermediate directories are held as O_PATH descriptors.
int OpenPerComponent(int dir_fd, const std::string& relative, int flags) {
  const std::vector<std::string> parts = Components(relative);
  if (parts.empty()) return openat(dir_fd, ".", flags);
  ScopedFd current;
  int at = dir_fd;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    const int fd = openat(at, parts[i].c_str(),
                          O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      SetOpenErrno(at, parts[i], errno);
      return -1;
    }
    current.reset(fd);
    at = fd;
  }
  const std::string& last = parts.back();
  const int fd = openat(at, last.c_str(), flags | O_NOFOLLOW);
  if (fd < 0) {
    SetOpenErrno(at, last, errno);
    return -1;
  }
  // O_PATH | O_NOFOLLOW opens a symlink itself rather than failing.
  struct stat info;
  if ((flags & O_PATH) != 0 && fstat(fd, &info) == 0 && S_ISLNK(info.st_mode)) {
    close(fd);
    errno = ELOOP;
    return -1;
  }
  return fd;
}

// mkdir -p of `relative` beneath `dir_fd`: each component opened (not
// followed if a symlink, unless kFollow) and made when missing. 0, or -1
// with errno.
int MakeDirsBeneath(int dir_fd, const std::string& relative,
                    Symlinks symlinks) {
  const int nofollow = symlinks == Symlinks::kFollow ? 0 : O_NOFOLLOW;
  ScopedFd current;
  int at = dir_fd;
  for (const std::string& part : Components(relative)) {
    int fd = -1;
    for (int attempt = 0; attempt < 2 && fd < 0; ++attempt) {
      fd =
          openat(at, part.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC | nofollow);
      if (fd >= 0) break;
      if (errno != ENOENT) {
        SetOpenErrno(at, part, errno);
        return -1;
      }
      if (mkdirat(at, part.c_str(), 0755) != 0 && errno != EEXIST) return -1;
    }
    if (fd < 0) return -1;
    current.reset(fd);
    at = fd;
  }
  return 0;
}

// The first component of `relative` beneath `dir_fd` that is a symlink,
// as a relative path ("a/b"), or "" (for error messages only).
std::string FirstSymlink(int dir_fd, const std::string& relative) {
  std::string prefix;
  for (const std::string& part : Components(relative)) {
    prefix = prefix.empty() ? part : absl::StrCat(prefix, "/", part);
    struct stat info;
    if (fstatat(dir_fd, prefix.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
      return "";
    }
    if (S_ISLNK(info.st_mode)) return prefix;
  }
  return "";
}

// "ROOT/relative" for messages.
std::string Join(absl::string_view root, absl::string_view relative) {
  if (root == "/") return absl::StrCat("/", relative);
  return absl::StrCat(root, "/", relative);
}

// Paths judged against data roots must be absolute, and hold no NUL byte
// (the kernel would see a shorter path than the one checked).
absl::Status CheckRootedPath(absl::string_view field, absl::string_view path) {
  if (path.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " contains a NUL byte"));
  }
  if (path.empty() || path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", path, "\" is not an absolute path"));
  }
  return absl::OkStatus();
}

bool IsClean(const std::string& relative) {
  if (!relative.empty() && relative[0] == '/') return false;
  for (absl::string_view part : absl::StrSplit(relative, '/')) {
    if (part == "..") return false;
  }
  return true;
}

}  // namespace

int OpenBeneath(int dir_fd, const std::string& relative, int flags,
                Symlinks symlinks, Resolver resolver) {
  flags |= O_CLOEXEC;
  if (symlinks == Symlinks::kFollow) {
    return openat(dir_fd, relative.c_str(), flags);
  }
  if (!IsClean(relative)) {
    errno = EXDEV;
    return -1;
  }
  if (!UsesPerComponent(resolver)) {
    const int fd = OpenWithOpenat2(dir_fd, relative, flags, symlinks);
    if (fd >= 0 || errno != ENOSYS) return fd;
    Openat2Missing().store(true);
  }
  return OpenPerComponent(dir_fd, relative, flags);
}

BeneathOpener::BeneathOpener(DataRoots roots, Resolver resolver)
    : roots_(std::move(roots)), resolver_(resolver) {}

absl::StatusOr<ScopedFd> BeneathOpener::OpenRoot(absl::string_view root) const {
  ScopedFd fd(
      open(std::string(root).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) {
    const int error = errno;
    return ErrnoToStatus(error,
                         absl::StrCat("cannot open the data root ", root));
  }
  return fd;
}

absl::StatusOr<ScopedFd> BeneathOpener::OpenInput(
    absl::string_view path, int flags, absl::string_view field) const {
  flags |= O_RDONLY | O_CLOEXEC;
  if (roots_.empty()) {  // As open(2), on the path as given.
    ScopedFd fd(open(std::string(path).c_str(), flags));
    if (!fd.valid()) {
      const int error = errno;
      return ErrnoToStatus(
          error, absl::StrCat("cannot open ", field, " \"", path, "\""));
    }
    return fd;
  }
  if (absl::Status valid = CheckRootedPath(field, path); !valid.ok()) {
    return valid;
  }
  const std::string clean = CleanAbsolutePath(path);
  if (absl::Status inside = roots_.CheckInput(field, clean); !inside.ok()) {
    return inside;
  }
  const DataRoot& root = *roots_.RootOf(clean);
  absl::StatusOr<ScopedFd> root_fd = OpenRoot(root.path);
  if (!root_fd.ok()) return root_fd.status();
  const std::string relative = PathBelowRoot(root, clean);
  ScopedFd fd(OpenBeneath(root_fd->get(), relative, flags,
                          Symlinks::kStayBeneath, resolver_));
  if (fd.valid()) return fd;
  const int error = errno;
  if (error == EXDEV) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " \"", path, "\" leads outside the data root ", root.path,
        ": a symbolic link below the root points out of it (links are "
        "followed only while they stay beneath the root, never to an "
        "absolute target)"));
  }
  const std::string link = error == ELOOP && UsesPerComponent(resolver_)
                               ? FirstSymlink(root_fd->get(), relative)
                               : "";
  if (!link.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " \"", path, "\" passes through the symbolic link \"",
        Join(root.path, link),
        "\", which is not followed: without openat2 (Linux 5.6+) a link "
        "cannot be kept beneath the data root ",
        root.path));
  }
  return ErrnoToStatus(error,
                       absl::StrCat("cannot open ", field, " \"", path, "\""));
}

absl::StatusOr<ScopedFd> BeneathOpener::OpenOutputDir(
    absl::string_view path, bool create, absl::string_view field) const {
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  }
  std::string base;
  std::string relative;
  Symlinks symlinks;
  if (roots_.empty()) {  // As mkdir -p and open(2) would.
    base = path[0] == '/' ? "/" : ".";
    relative = std::string(path);
    symlinks = Symlinks::kFollow;
  } else {
    if (absl::Status valid = CheckRootedPath(field, path); !valid.ok()) {
      return valid;
    }
    const std::string clean = CleanAbsolutePath(path);
    if (absl::Status writable = roots_.CheckOutput(field, clean);
        !writable.ok()) {
      return writable;
    }
    const DataRoot& root = *roots_.RootOf(clean);
    base = root.path;
    relative = PathBelowRoot(root, clean);
    symlinks = Symlinks::kRefuse;
  }
  absl::StatusOr<ScopedFd> base_fd = OpenRoot(base);
  if (!base_fd.ok()) return base_fd.status();
  int error = 0;
  ScopedFd fd;
  if (create && MakeDirsBeneath(base_fd->get(), relative, symlinks) != 0) {
    error = errno;
  } else {
    fd.reset(OpenBeneath(base_fd->get(), relative, O_RDONLY | O_DIRECTORY,
                         symlinks, resolver_));
    if (!fd.valid()) error = errno;
  }
  if (error == 0) return fd;
  const std::string link = symlinks == Symlinks::kRefuse && error == ELOOP
                               ? FirstSymlink(base_fd->get(), relative)
                               : "";
  if (!link.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " \"", path, "\" passes through the symbolic link \"",
        Join(base, link),
        "\": outputs are never written through a symbolic link below the "
        "data root ",
        base));
  }
  if (error == ENOENT && !create) {
    return absl::NotFoundError(
        absl::StrCat(field, " \"", path, "\" does not exist"));
  }
  return ErrnoToStatus(error, absl::StrCat(field, " \"", path, "\" cannot be ",
                                           create ? "created" : "opened"));
}

}  // namespace quarry

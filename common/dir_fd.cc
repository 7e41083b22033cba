#include "common/dir_fd.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "common/errno_status.h"

namespace quarry {
namespace {

// Deeper trees are refused rather than risk the stack or the descriptors
// (Quarry's own staging directories are one level deep).
constexpr int kMaxRemoveDepth = 64;

absl::Status RemoveTreeAt(int dir_fd, const std::string& name, int depth) {
  if (unlinkat(dir_fd, name.c_str(), 0) == 0) return absl::OkStatus();
  const int unlink_error = errno;
  if (unlink_error == ENOENT) return absl::OkStatus();
  if (unlink_error != EISDIR) {
    return ErrnoToStatus(unlink_error, name);
  }
  if (depth >= kMaxRemoveDepth) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, ": deeper than ", kMaxRemoveDepth, " levels"));
  }
  // O_NOFOLLOW: if a symlink took the directory's place meanwhile, this
  // fails instead of emptying the link's target.
  const int fd = openat(dir_fd, name.c_str(),
                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == ENOENT) return absl::OkStatus();
    return ErrnoToStatus(error, name);
  }
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    const int error = errno;
    close(fd);
    return ErrnoToStatus(error, name);
  }
  absl::Status children;  // The first error, after trying every child.
  while (const dirent* entry = readdir(dir)) {
    const std::string child = entry->d_name;
    if (child == "." || child == "..") continue;
    children.Update(RemoveTreeAt(dirfd(dir), child, depth + 1));
  }
  closedir(dir);
  if (!children.ok()) {
    return absl::Status(children.code(),
                        absl::StrCat(name, "/", children.message()));
  }
  if (unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0) {
    const int error = errno;
    if (error != ENOENT) return ErrnoToStatus(error, name);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListDirectory(int dir_fd) {
  // fdopendir needs a descriptor open for reading and takes it over.
  const int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    return ErrnoToStatus(error, "cannot open the directory");
  }
  DIR* dir = fdopendir(fd);
  if (dir == nullptr) {
    const int error = errno;
    close(fd);
    return ErrnoToStatus(error, "cannot list the directory");
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  const int error = errno;
  closedir(dir);
  if (error != 0) return ErrnoToStatus(error, "cannot list the directory");
  return names;
}

absl::Status RemoveTreeAt(int dir_fd, const std::string& name) {
  return RemoveTreeAt(dir_fd, name, 0);
}

}  // namespace quarry

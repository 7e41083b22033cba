#include "leader/scheduling/input_walk.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace quarry {
namespace {

// One input's walk: appends to `out`, refusing past `max_files` or
// `deadline`.
class InputWalk {
 public:
  InputWalk(const BeneathOpener& files, const std::string& field,
            const std::string& top, int64_t max_files, absl::Time deadline,
            std::vector<std::string>* out)
      : files_(files),
        field_(field),
        top_(top),
        max_files_(max_files),
        deadline_(deadline),
        out_(out) {}

  absl::Status AddFile(std::string path) {
    out_->push_back(std::move(path));
    if (static_cast<int64_t>(out_->size()) > max_files_) {
      return absl::InvalidArgumentError(absl::StrCat(
          field_, ": more than ", max_files_, " input files in one job"));
    }
    return absl::OkStatus();
  }

  // Walks the directory open (for reading) as `fd`, which it takes over.
  absl::Status Directory(int fd, const std::string& path) {
    DIR* dir = fdopendir(fd);
    if (dir == nullptr) {
      const int error = errno;
      close(fd);
      return CannotRead(path, error);
    }
    absl::Status status;
    while (status.ok()) {
      if (++entries_, absl::Now() >= deadline_) {
        status = absl::InvalidArgumentError(absl::StrCat(
            field_, " \"", top_, "\": the walk of the inputs took too long (",
            entries_, " entries seen here); name smaller directories"));
        break;
      }
      errno = 0;
      const dirent* entry = readdir(dir);
      if (entry == nullptr) {
        if (errno != 0) status = CannotRead(path, errno);
        break;
      }
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      status = Entry(dirfd(dir), name, entry->d_type,
                     path == "/" ? "/" + name : absl::StrCat(path, "/", name));
    }
    closedir(dir);
    return status;
  }

  // A symlink met in the tree (or at the top): counts when it leads to a
  // regular file beneath the data roots; refuses the job when it leads out.
  absl::Status Symlink(const std::string& path) {
    absl::StatusOr<ScopedFd> target = files_.OpenInput(
        path, O_PATH, absl::StrCat(field_, ": the symbolic link"));
    if (absl::IsInvalidArgument(target.status())) return target.status();
    // Dangling or unreadable: skipped, as files the leader cannot see are.
    if (!target.ok()) return absl::OkStatus();
    struct stat info;
    if (fstat(target->get(), &info) == 0 && S_ISREG(info.st_mode)) {
      return AddFile(path);
    }
    return absl::OkStatus();  // A link to a directory is not descended.
  }

 private:
  absl::Status Entry(int dir_fd, const std::string& name, unsigned char type,
                     const std::string& path) {
    if (type == DT_UNKNOWN) {  // Some filesystems do not say: ask.
      struct stat info;
      if (fstatat(dir_fd, name.c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) {
        return absl::OkStatus();  // Gone meanwhile.
      }
      type = S_ISREG(info.st_mode)   ? DT_REG
             : S_ISDIR(info.st_mode) ? DT_DIR
             : S_ISLNK(info.st_mode) ? DT_LNK
                                     : DT_UNKNOWN;
    }
    switch (type) {
      case DT_REG:
        return AddFile(path);
      case DT_LNK:
        return Symlink(path);
      case DT_DIR: {
        // O_NOFOLLOW: a directory swapped for a symlink since readdir is
        // not walked into.
        const int fd = openat(dir_fd, name.c_str(),
                              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) return Directory(fd, path);
        const int error = errno;
        if (error == ELOOP || error == ENOTDIR) return Symlink(path);
        if (error == EACCES || error == EPERM || error == ENOENT) {
          return absl::OkStatus();  // Unreadable or gone: skipped.
        }
        return CannotRead(path, error);
      }
      default:
        return absl::OkStatus();  // FIFOs, sockets, devices: not inputs.
    }
  }

  absl::Status CannotRead(const std::string& path, int error) const {
    return absl::InvalidArgumentError(absl::StrCat(
        field_, " \"", path, "\" cannot be read: ", strerror(error)));
  }

  const BeneathOpener& files_;
  const std::string& field_;
  const std::string top_;
  const int64_t max_files_;
  const absl::Time deadline_;
  int64_t entries_ = 0;
  std::vector<std::string>* const out_;
};

}  // namespace

absl::Status ExpandInput(const BeneathOpener& files, const std::string& path,
                         const std::string& field, int64_t max_files,
                         absl::Time deadline, std::vector<std::string>* out) {
  absl::StatusOr<ScopedFd> top = files.OpenInput(path, O_PATH, field);
  if (absl::IsNotFound(top.status())) {
    return absl::NotFoundError(
        absl::StrCat(field, " \"", path, "\" does not exist"));
  }
  if (absl::IsInvalidArgument(top.status())) return top.status();
  if (!top.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", top.status().message()));
  }
  struct stat info;
  if (fstat(top->get(), &info) != 0) {
    return absl::NotFoundError(
        absl::StrCat(field, " \"", path, "\" does not exist"));
  }
  InputWalk walk(files, field, path, max_files, deadline, out);
  if (S_ISREG(info.st_mode)) return walk.AddFile(path);
  if (!S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, " \"", path, "\" is neither a file nor a directory"));
  }
  // The directory exactly as resolved above, now open for reading.
  const int fd = openat(top->get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    if (error == EACCES || error == EPERM) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat(
        field, " \"", path, "\" cannot be read: ", strerror(error)));
  }
  return walk.Directory(fd, path);
}

absl::StatusOr<int64_t> InputFileSize(const BeneathOpener& files,
                                      const std::string& path) {
  absl::StatusOr<ScopedFd> fd = files.OpenInput(path, O_PATH);
  if (!fd.ok()) return fd.status();
  struct stat info;
  if (fstat(fd->get(), &info) != 0) {
    const int error = errno;
    return absl::NotFoundError(
        absl::StrCat("cannot stat \"", path, "\": ", strerror(error)));
  }
  return static_cast<int64_t>(info.st_size);
}

}  // namespace quarry

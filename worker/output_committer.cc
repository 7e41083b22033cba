#include "worker/output_committer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/job_kinds.h"
#include "worker/file_util.h"

namespace quarry::worker {
namespace {

constexpr size_t kBufferBytes = size_t{1} << 20;

// "dir" of "dir/name"; "/" of "/name"; "." of "name".
std::string DirName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

// "name" of "dir/name".
absl::string_view BaseName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

// The staging directory in `output_dir`, made if missing and opened without
// following a symlink put in its place.
absl::StatusOr<ScopedFd> OpenStagingDir(int output_dir,
                                        const std::string& staging_path) {
  const char* name = kStagingDirName.data();
  if (mkdirat(output_dir, name, 0755) != 0 && errno != EEXIST) {
    const int error = errno;
    return ErrnoToStatus(
        error,
        absl::StrCat("cannot create staging directory \"", staging_path, "\""));
  }
  ScopedFd fd(
      openat(output_dir, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.valid()) return fd;
  const int error = errno;
  struct stat info;
  if (fstatat(output_dir, name, &info, AT_SYMLINK_NOFOLLOW) == 0 &&
      S_ISLNK(info.st_mode)) {
    return absl::PermissionDeniedError(
        absl::StrCat("staging directory \"", staging_path,
                     "\" is a symbolic link; outputs are never written "
                     "through one"));
  }
  return ErrnoToStatus(error, absl::StrCat("cannot open staging directory \"",
                                           staging_path, "\""));
}

// Creates `name` in `dir` for writing. O_EXCL | O_NOFOLLOW: never an
// existing file, never through a symlink. A leftover of the same name (a
// worker that died mid-attempt, or something planted) is unlinked first:
// a symlink is removed itself, its target untouched.
int CreateTempFile(int dir, const std::string& name) {
  constexpr int kFlags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = openat(dir, name.c_str(), kFlags, 0644);
  if (fd < 0 && errno == EEXIST && unlinkat(dir, name.c_str(), 0) == 0) {
    fd = openat(dir, name.c_str(), kFlags, 0644);
  }
  return fd;
}

}  // namespace

std::string StagedOutput::TempPathFor(absl::string_view output_path,
                                      absl::string_view attempt_id) {
  return absl::StrCat(DirName(output_path), "/", kStagingDirName, "/",
                      attempt_id, ".tmp");
}

absl::StatusOr<std::unique_ptr<StagedOutput>> StagedOutput::Create(
    const BeneathOpener& files, absl::string_view output_path,
    absl::string_view attempt_id) {
  if (output_path.empty() || output_path.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("output_path \"", output_path, "\" does not name a file"));
  }
  if (absl::Status valid = ValidatePlainFileName(attempt_id, "attempt_id");
      !valid.ok()) {
    return valid;
  }
  const absl::string_view output_name = BaseName(output_path);
  if (absl::Status valid =
          ValidatePlainFileName(output_name, "output_path's file name");
      !valid.ok()) {
    return valid;
  }
  const std::string output_dir = DirName(output_path);
  absl::StatusOr<ScopedFd> dir = files.OpenOutputDir(output_dir);
  if (absl::IsNotFound(dir.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("output directory \"", output_dir, "\" does not exist"));
  }
  if (!dir.ok()) return dir.status();
  absl::StatusOr<ScopedFd> staging = OpenStagingDir(
      dir->get(), absl::StrCat(output_dir, "/", kStagingDirName));
  if (!staging.ok()) return staging.status();
  const std::string temp_name = absl::StrCat(attempt_id, ".tmp");
  const int fd = CreateTempFile(staging->get(), temp_name);
  if (fd < 0) {
    const int error = errno;
    return ErrnoToStatus(
        error, absl::StrCat("cannot create temp file \"",
                            TempPathFor(output_path, attempt_id), "\""));
  }
  return std::unique_ptr<StagedOutput>(
      new StagedOutput(std::string(output_path), *std::move(dir),
                       *std::move(staging), temp_name, fd));
}

StagedOutput::StagedOutput(std::string output_path, ScopedFd output_dir,
                           ScopedFd staging_dir, std::string temp_name, int fd)
    : output_path_(std::move(output_path)),
      output_name_(BaseName(output_path_)),
      output_dir_(std::move(output_dir)),
      staging_dir_(std::move(staging_dir)),
      temp_name_(std::move(temp_name)),
      temp_path_(absl::StrCat(DirName(output_path_), "/", kStagingDirName, "/",
                              temp_name_)),
      fd_(fd) {}

StagedOutput::~StagedOutput() { Abort(); }

absl::Status StagedOutput::Write(absl::string_view data) {
  if (fd_ < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("write to closed output \"", temp_path_, "\""));
  }
  buffer_.append(data.data(), data.size());
  if (buffer_.size() >= kBufferBytes) return FlushBuffer();
  return absl::OkStatus();
}

absl::Status StagedOutput::FlushBuffer() {
  const char* data = buffer_.data();
  size_t left = buffer_.size();
  while (left > 0) {
    const ssize_t n = write(fd_, data, left);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      return ErrnoToStatus(error,
                           absl::StrCat("cannot write \"", temp_path_, "\""));
    }
    data += n;
    left -= static_cast<size_t>(n);
    bytes_written_ += n;
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status StagedOutput::Close() {
  if (finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat("output \"", temp_path_, "\" already finished"));
  }
  if (fd_ < 0) return absl::OkStatus();
  absl::Status status = FlushBuffer();
  // The file may also have been written by another process (an exec
  // command writing {output}): its size is what gets committed.
  struct stat written;
  if (status.ok() && fstat(fd_, &written) == 0)
    bytes_written_ = written.st_size;
  const int fd = fd_;
  fd_ = -1;
  if (close(fd) != 0 && status.ok()) {
    const int error = errno;
    status =
        ErrnoToStatus(error, absl::StrCat("cannot close \"", temp_path_, "\""));
  }
  if (!status.ok()) Abort();
  return status;
}

absl::StatusOr<int64_t> StagedOutput::Commit() {
  if (absl::Status closed = Close(); !closed.ok()) return closed;
  // Between the directories opened at Create: a symlink swapped in for
  // either since then changes nothing, and one at output_path is replaced.
  if (renameat(staging_dir_.get(), temp_name_.c_str(), output_dir_.get(),
               output_name_.c_str()) != 0) {
    const int error = errno;
    Abort();
    return ErrnoToStatus(error, absl::StrCat("cannot rename \"", temp_path_,
                                             "\" to \"", output_path_, "\""));
  }
  finished_ = true;
  return bytes_written_;
}

void StagedOutput::Abort() {
  if (finished_) return;
  finished_ = true;
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  unlinkat(staging_dir_.get(), temp_name_.c_str(), 0);
}

}  // namespace quarry::worker

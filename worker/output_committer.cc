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

}  // namespace

std::string StagedOutput::TempPathFor(absl::string_view output_path,
                                      absl::string_view attempt_id) {
  return absl::StrCat(DirName(output_path), "/", kStagingDirName, "/",
                      attempt_id, ".tmp");
}

absl::StatusOr<std::unique_ptr<StagedOutput>> StagedOutput::Create(
    absl::string_view output_path, absl::string_view attempt_id) {
  if (output_path.empty() || output_path.back() == '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("output_path \"", output_path, "\" does not name a file"));
  }
  if (absl::Status valid = ValidatePlainFileName(attempt_id, "attempt_id");
      !valid.ok()) {
    return valid;
  }
  const std::string output_dir = DirName(output_path);
  const std::string staging_dir =
      absl::StrCat(output_dir, "/", kStagingDirName);
  if (mkdir(staging_dir.c_str(), 0755) != 0 && errno != EEXIST) {
    const int error = errno;
    if (error == ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat("output directory \"", output_dir, "\" does not exist"));
    }
    return ErrnoToStatus(
        error,
        absl::StrCat("cannot create staging directory \"", staging_dir, "\""));
  }
  std::string temp_path = TempPathFor(output_path, attempt_id);
  const int fd =
      open(temp_path.c_str(),
           O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    const int error = errno;
    return ErrnoToStatus(
        error, absl::StrCat("cannot create temp file \"", temp_path, "\""));
  }
  return std::unique_ptr<StagedOutput>(
      new StagedOutput(std::string(output_path), std::move(temp_path), fd));
}

StagedOutput::StagedOutput(std::string output_path, std::string temp_path,
                           int fd)
    : output_path_(std::move(output_path)),
      temp_path_(std::move(temp_path)),
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
  if (rename(temp_path_.c_str(), output_path_.c_str()) != 0) {
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
  unlink(temp_path_.c_str());
}

}  // namespace quarry::worker

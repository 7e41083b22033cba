#include "worker/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace quarry::worker {
namespace {

std::string Quoted(absl::string_view path) {
  return absl::StrCat("input \"", path, "\"");
}

}  // namespace

absl::Status ValidatePlainFileName(absl::string_view name,
                                   absl::string_view field) {
  constexpr size_t kMaxFileNameBytes = 255;
  if (name.empty() || name == "." || name == ".." ||
      name.size() > kMaxFileNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", name, "\" cannot name a file"));
  }
  for (const char c : name) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '.' &&
        c != '_' && c != '-') {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " \"", name,
                       "\" may only contain letters, digits, '.', '_', '-'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ReadFileChunks(
    const BeneathOpener& files, absl::string_view path, size_t chunk_size,
    const CancelFlag& cancel,
    absl::FunctionRef<absl::Status(absl::string_view chunk)> on_chunk) {
  if (cancel.cancelled()) return absl::CancelledError("attempt cancelled");
  if (path.empty()) {
    return absl::InvalidArgumentError("input path is empty");
  }
  if (chunk_size == 0) chunk_size = kDefaultChunkSize;
  // O_NONBLOCK keeps open() of a FIFO from blocking; it does not affect
  // reads of regular files, the only kind accepted below.
  absl::StatusOr<ScopedFd> opened =
      files.OpenInput(path, O_NONBLOCK | O_NOCTTY);
  if (!opened.ok()) return opened.status();
  const ScopedFd fd = *std::move(opened);
  struct stat info;
  if (fstat(fd.get(), &info) != 0) {
    const int error = errno;
    return ErrnoToStatus(error, absl::StrCat("cannot stat ", Quoted(path)));
  }
  if (S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(Quoted(path), " is a directory, not a file"));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(Quoted(path), " is not a regular file"));
  }
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<char[]> buffer(new char[chunk_size]);
  while (true) {
    if (cancel.cancelled()) return absl::CancelledError("attempt cancelled");
    const ssize_t n = read(fd.get(), buffer.get(), chunk_size);
    if (n < 0) {
      const int error = errno;
      if (error == EINTR) continue;
      return ErrnoToStatus(error, absl::StrCat("cannot read ", Quoted(path)));
    }
    if (n == 0) return absl::OkStatus();
    if (absl::Status status =
            on_chunk(absl::string_view(buffer.get(), static_cast<size_t>(n)));
        !status.ok()) {
      return status;
    }
  }
}

absl::Status ForEachLine(
    const BeneathOpener& files, absl::string_view path, size_t chunk_size,
    const CancelFlag& cancel,
    absl::FunctionRef<absl::Status(absl::string_view line, int64_t number)>
        on_line) {
  std::string partial;  // The start of a line that spans chunks.
  int64_t number = 0;
  absl::Status status = ReadFileChunks(
      files, path, chunk_size, cancel,
      [&](absl::string_view chunk) -> absl::Status {
        while (!chunk.empty()) {
          const void* found = memchr(chunk.data(), '\n', chunk.size());
          if (found == nullptr) {
            if (partial.size() + chunk.size() > kMaxLineBytes) {
              return absl::ResourceExhaustedError(
                  absl::StrCat(Quoted(path), " line ", number + 1,
                               " is longer than ", kMaxLineBytes, " bytes"));
            }
            partial.append(chunk.data(), chunk.size());
            return absl::OkStatus();
          }
          const size_t length = static_cast<size_t>(
              static_cast<const char*>(found) - chunk.data());
          absl::string_view line = chunk.substr(0, length);
          chunk.remove_prefix(length + 1);
          ++number;
          absl::Status line_status;
          if (partial.empty()) {
            line_status = on_line(line, number);
          } else {
            partial.append(line.data(), line.size());
            line_status = on_line(partial, number);
            partial.clear();
          }
          if (!line_status.ok()) return line_status;
        }
        return absl::OkStatus();
      });
  if (!status.ok()) return status;
  if (!partial.empty()) return on_line(partial, ++number);
  return absl::OkStatus();
}

}  // namespace quarry::worker

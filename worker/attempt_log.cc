#include "worker/attempt_log.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <utility>

#include <glog/logging.h>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "worker/file_util.h"

namespace quarry::worker {
namespace {

constexpr absl::string_view kLogSuffix = ".log";

// `text` with every byte outside printable ASCII and tab as \xNN.
std::string Printable(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\t' || (byte >= 0x20 && byte < 0x7f)) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "\\x%02x", byte);
    }
  }
  return out;
}

void WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // A full disk loses log lines, never the attempt.
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

AttemptLog::AttemptLog(const std::string& path, size_t max_bytes,
                       const Clock* clock)
    : max_bytes_(max_bytes), clock_(clock) {
  const int fd = open(path.c_str(),
                      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                      0644);
  if (fd < 0) {
    LOG(WARNING) << "cannot create attempt log " << path << ": "
                 << strerror(errno);
    return;
  }
  absl::MutexLock lock(&mu_);
  fd_ = fd;
}

AttemptLog::~AttemptLog() {
  absl::MutexLock lock(&mu_);
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

void AttemptLog::Append(absl::string_view line) {
  absl::MutexLock lock(&mu_);
  AppendLocked(line);
}

void AttemptLog::Finish(absl::string_view line) {
  absl::MutexLock lock(&mu_);
  AppendLocked(line);
  finished_ = true;
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

bool AttemptLog::finished() const {
  absl::MutexLock lock(&mu_);
  return finished_;
}

void AttemptLog::AppendLocked(absl::string_view line) {
  if (fd_ < 0 || finished_ || truncated_) return;
  const std::string text =
      absl::StrCat(absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", clock_->Now(),
                                    absl::UTCTimeZone()),
                   " ", Printable(line), "\n");
  if (bytes_ + text.size() > max_bytes_) {
    truncated_ = true;
    WriteAll(fd_, absl::StrCat(kAttemptLogTruncatedMarker, "\n"));
    return;
  }
  bytes_ += text.size();
  WriteAll(fd_, text);
}

absl::StatusOr<std::unique_ptr<AttemptLogStore>> AttemptLogStore::Open(
    Options options, const Clock* clock) {
  if (options.max_bytes < kMinMaxBytes || options.max_bytes > kMaxMaxBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--attempt_log_max_bytes must be between ", kMinMaxBytes, " and ",
        kMaxMaxBytes, ", got ", options.max_bytes));
  }
  if (options.keep < 1) {
    return absl::InvalidArgumentError("--attempt_log_keep must be at least 1");
  }
  if (options.max_age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--attempt_log_max_age must be positive, got ",
                     absl::FormatDuration(options.max_age)));
  }
  std::string dir = options.dir;
  const bool temporary = dir.empty();
  if (temporary) {
    const char* base = getenv("TMPDIR");
    std::string pattern = absl::StrCat(base != nullptr ? base : "/tmp",
                                       "/quarry-attempt-logs-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return ErrnoToStatus(errno, absl::StrCat("cannot create a temporary "
                                               "attempt log directory ",
                                               pattern));
    }
    dir = std::move(pattern);
  } else {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error || !std::filesystem::is_directory(dir, error)) {
      return absl::FailedPreconditionError(
          absl::StrCat("--attempt_log_dir \"", dir,
                       "\" is not a directory that can be created: ",
                       error ? error.message() : "not a directory"));
    }
  }
  auto store = absl::WrapUnique(
      new AttemptLogStore(std::move(options), std::move(dir), temporary, clock));
  store->IndexExistingLogs();
  return store;
}

AttemptLogStore::AttemptLogStore(Options options, std::string dir,
                                 bool temporary, const Clock* clock)
    : options_(std::move(options)),
      dir_(std::move(dir)),
      temporary_(temporary),
      clock_(clock) {}

AttemptLogStore::~AttemptLogStore() {
  if (!temporary_) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string AttemptLogStore::PathOf(absl::string_view attempt_id) const {
  return absl::StrCat(dir_, "/", attempt_id, kLogSuffix);
}

void AttemptLogStore::IndexExistingLogs() {
  std::vector<std::pair<absl::Time, std::string>> found;
  std::error_code error;
  for (const auto& file : std::filesystem::directory_iterator(dir_, error)) {
    const std::string name = file.path().filename().string();
    absl::string_view id = name;
    if (!absl::ConsumeSuffix(&id, kLogSuffix) ||
        !ValidatePlainFileName(id, "attempt_id").ok()) {
      continue;
    }
    struct stat info {};
    if (stat(file.path().c_str(), &info) != 0 || !S_ISREG(info.st_mode)) {
      continue;
    }
    found.emplace_back(absl::TimeFromTimespec(info.st_mtim), std::string(id));
  }
  std::sort(found.begin(), found.end());
  absl::MutexLock lock(&mu_);
  for (auto& [time, id] : found) {
    const int64_t sequence = next_sequence_++;
    entries_[id] = Entry{time, sequence, {}};
    order_.emplace_back(std::move(id), sequence);
  }
  Prune(clock_->Now());
}

std::shared_ptr<AttemptLog> AttemptLogStore::Create(
    absl::string_view attempt_id) {
  if (!ValidatePlainFileName(attempt_id, "attempt_id").ok()) {
    return std::make_shared<AttemptLog>();
  }
  auto log =
      std::make_shared<AttemptLog>(PathOf(attempt_id), options_.max_bytes, clock_);
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  const int64_t sequence = next_sequence_++;
  entries_[attempt_id] = Entry{now, sequence, log};
  order_.emplace_back(std::string(attempt_id), sequence);
  Prune(now);
  return log;
}

absl::StatusOr<AttemptLogStore::Contents> AttemptLogStore::Read(
    absl::string_view attempt_id) {
  if (absl::Status valid = ValidatePlainFileName(attempt_id, "attempt_id");
      !valid.ok()) {
    return valid;
  }
  Contents contents;
  {
    absl::MutexLock lock(&mu_);
    Prune(clock_->Now());
    auto it = entries_.find(attempt_id);
    if (it == entries_.end()) {
      return absl::NotFoundError(absl::StrCat(
          "no log of attempt ", attempt_id,
          " here: this worker did not run it, or retention removed it"));
    }
    const std::shared_ptr<AttemptLog> log = it->second.log.lock();
    contents.finished = log == nullptr || log->finished();
  }
  std::ifstream in(PathOf(attempt_id), std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("the log of attempt ", attempt_id,
                                            " was removed from ", dir_));
  }
  contents.text.assign(std::istreambuf_iterator<char>(in), {});
  contents.truncated =
      absl::StrContains(contents.text, kAttemptLogTruncatedMarker);
  return contents;
}

std::vector<std::string> AttemptLogStore::AttemptIds() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ids;
  for (const auto& [id, sequence] : order_) {
    auto it = entries_.find(id);
    if (it != entries_.end() && it->second.sequence == sequence) {
      ids.push_back(id);
    }
  }
  return ids;
}

void AttemptLogStore::Prune(absl::Time now) {
  // Walk from the oldest; stop at the first log that is young enough once
  // few enough are left. Logs still written are skipped, not deleted.
  for (size_t i = 0; i < order_.size();) {
    const auto& [id, sequence] = order_[i];
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.sequence != sequence) {
      order_.erase(order_.begin() + static_cast<ptrdiff_t>(i));
      continue;  // Replaced or already deleted.
    }
    const bool too_many = entries_.size() > options_.keep;
    const bool too_old = it->second.created + options_.max_age < now;
    if (!too_many && !too_old) return;
    const std::shared_ptr<AttemptLog> log = it->second.log.lock();
    if (log != nullptr && !log->finished()) {
      ++i;  // Its attempt still runs.
      continue;
    }
    unlink(PathOf(id).c_str());
    entries_.erase(it);
    order_.erase(order_.begin() + static_cast<ptrdiff_t>(i));
  }
}

}  // namespace quarry::worker

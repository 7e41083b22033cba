#include "worker/attempt_log_store.h"

#include <fcntl.h>
#include <glog/logging.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/memory/memory.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "worker/file_util.h"

namespace quarry::worker {
namespace {

constexpr absl::string_view kSegmentPrefix = "segment-";
constexpr absl::string_view kSegmentSuffix = ".log";
constexpr absl::string_view kRecordMagic = "QUARRY-ATTEMPT-LOG";

// Writes all of `data`; false on an error (errno set).
bool WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The number of "segment-NNNNNN.log", or -1.
int64_t SegmentNumber(absl::string_view name) {
  int64_t number = -1;
  if (!absl::ConsumePrefix(&name, kSegmentPrefix) ||
      !absl::ConsumeSuffix(&name, kSegmentSuffix) ||
      !absl::SimpleAtoi(name, &number) || number < 0) {
    return -1;
  }
  return number;
}

// Reads `length` bytes at `offset` of the file at `path`.
absl::StatusOr<std::string> ReadRange(const std::string& path, int64_t offset,
                                      int64_t length) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoToStatus(errno, absl::StrCat("cannot open ", path));
  std::string data(static_cast<size_t>(length), '\0');
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = pread(fd, data.data() + done, data.size() - done,
                            static_cast<off_t>(offset) + done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  if (done != data.size()) {
    return absl::DataLossError(
        absl::StrCat(path, " is shorter than its index"));
  }
  return data;
}

}  // namespace

absl::Status AttemptLogStore::Validate(const Options& options) {
  if (options.max_bytes < kMinMaxBytes || options.max_bytes > kMaxMaxBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("--attempt_log_max_bytes must be between ", kMinMaxBytes,
                     " and ", kMaxMaxBytes, ", got ", options.max_bytes));
  }
  if (options.keep < 1) {
    return absl::InvalidArgumentError("--attempt_log_keep must be at least 1");
  }
  if (options.max_age <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--attempt_log_max_age must be positive, got ",
                     absl::FormatDuration(options.max_age)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<AttemptLogStore>> AttemptLogStore::Open(
    Options options, const Clock* clock) {
  if (absl::Status valid = Validate(options); !valid.ok()) return valid;
  options.segment_bytes =
      std::max(options.segment_bytes, 2 * options.max_bytes);
  std::string dir = options.dir;
  const bool temporary = dir.empty();
  if (temporary) {
    const char* base = getenv("TMPDIR");
    std::string pattern = absl::StrCat(base != nullptr ? base : "/tmp",
                                       "/quarry-attempt-logs-XXXXXX");
    if (mkdtemp(pattern.data()) == nullptr) {
      return ErrnoToStatus(
          errno,
          absl::StrCat("cannot create the attempt log directory ", pattern));
    }
    dir = std::move(pattern);
  } else {
    std::error_code error;
    std::filesystem::create_directories(dir, error);
    if (error || !std::filesystem::is_directory(dir, error)) {
      return absl::FailedPreconditionError(
          absl::StrCat("--attempt_log_dir \"", dir,
                       "\" is not a directory and cannot be created",
                       error ? absl::StrCat(": ", error.message()) : ""));
    }
  }
  auto store = absl::WrapUnique(new AttemptLogStore(
      std::move(options), std::move(dir), temporary, clock));
  store->IndexExistingSegments();
  AttemptLogStore* const self = store.get();
  store->flusher_ = std::thread([self] { self->FlushPeriodically(); });
  return store;
}

AttemptLogStore::AttemptLogStore(Options options, std::string dir,
                                 bool temporary, const Clock* clock)
    : options_(std::move(options)),
      dir_(std::move(dir)),
      temporary_(temporary),
      clock_(clock) {}

AttemptLogStore::~AttemptLogStore() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (flusher_.joinable()) flusher_.join();
  {
    absl::MutexLock lock(&mu_);
    Flush();
    if (current_fd_ >= 0) close(current_fd_);
    current_fd_ = -1;
  }
  if (!temporary_) return;
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string AttemptLogStore::SegmentPath(int64_t segment) const {
  return absl::StrFormat("%s/%s%06d%s", dir_, kSegmentPrefix, segment,
                         kSegmentSuffix);
}

std::shared_ptr<AttemptLog> AttemptLogStore::NewLog(
    absl::string_view attempt_id) {
  if (!ValidatePlainFileName(attempt_id, "attempt_id").ok()) {
    return std::make_shared<AttemptLog>();
  }
  return std::make_shared<AttemptLog>(
      options_.max_bytes, clock_,
      [this, id = std::string(attempt_id)](const std::string& text,
                                           bool truncated) {
        Persist(id, text, truncated);
      });
}

void AttemptLogStore::Persist(const std::string& attempt_id,
                              const std::string& text, bool truncated) {
  const absl::Time now = clock_->Now();
  const std::string header =
      absl::StrCat(kRecordMagic, " ", attempt_id, " ", absl::ToUnixMicros(now),
                   " ", text.size(), " ", truncated ? 1 : 0, "\n");
  const int64_t size = static_cast<int64_t>(header.size() + text.size());
  absl::MutexLock lock(&mu_);
  if (segments_[current_segment_].bytes + size >
      static_cast<int64_t>(options_.segment_bytes)) {
    NextSegment();
  }
  Segment& segment = segments_[current_segment_];
  Record record;
  record.segment = current_segment_;
  record.offset = segment.bytes + static_cast<int64_t>(header.size());
  record.length = static_cast<int64_t>(text.size());
  record.truncated = truncated;
  record.ended = now;
  segment.bytes += size;
  pending_.append(header);
  pending_.append(text);
  AddRecord(attempt_id, record);
  if (pending_.size() >= kFlushBytes) Flush();
  Prune(now);
}

void AttemptLogStore::Flush() {
  if (pending_.empty()) return;
  if (current_fd_ < 0) {
    current_fd_ = open(SegmentPath(current_segment_).c_str(),
                       O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  }
  if (current_fd_ >= 0 && WriteAll(current_fd_, pending_)) {
    flushed_ += static_cast<int64_t>(pending_.size());
    pending_.clear();
    return;
  }
  LOG_EVERY_N(WARNING, 10) << "cannot write attempt logs to "
                           << SegmentPath(current_segment_) << ": "
                           << strerror(errno) << "; they are lost";
  // Forget what did not reach the disk; go on in a new segment.
  for (auto it = records_.begin(); it != records_.end();) {
    auto next = std::next(it);
    if (it->second.segment == current_segment_ &&
        it->second.offset >= flushed_) {
      --segments_[current_segment_].live;
      records_.erase(it);
    }
    it = next;
  }
  pending_.clear();
  NextSegment();
}

void AttemptLogStore::FlushPeriodically() {
  absl::MutexLock lock(&mu_);
  while (!mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                               options_.flush_interval)) {
    Flush();
  }
}

void AttemptLogStore::Sync() {
  absl::MutexLock lock(&mu_);
  Flush();
}

void AttemptLogStore::NextSegment() {
  Flush();
  if (current_fd_ >= 0) close(current_fd_);
  current_fd_ = -1;
  flushed_ = 0;
  const int64_t previous = current_segment_++;
  auto it = segments_.find(previous);
  if (it != segments_.end() && it->second.live <= 0) {
    unlink(SegmentPath(previous).c_str());
    segments_.erase(it);
  }
}

void AttemptLogStore::AddRecord(const std::string& attempt_id, Record record) {
  record.sequence = next_sequence_++;
  ++segments_[record.segment].live;
  auto [it, inserted] = records_.try_emplace(attempt_id, record);
  if (!inserted) {
    const Record old = it->second;
    it->second = record;
    DropRecord(old);
  }
  order_.emplace_back(attempt_id, record.sequence);
}

void AttemptLogStore::DropRecord(const Record& record) {
  auto it = segments_.find(record.segment);
  if (it == segments_.end() || --it->second.live > 0) return;
  if (record.segment == current_segment_) return;  // Still appended to.
  unlink(SegmentPath(record.segment).c_str());
  segments_.erase(it);
}

void AttemptLogStore::Prune(absl::Time now) {
  while (!order_.empty()) {
    const auto& [id, sequence] = order_.front();
    auto it = records_.find(id);
    if (it == records_.end() || it->second.sequence != sequence) {
      order_.pop_front();  // Replaced by a newer log of the same id.
      continue;
    }
    const bool too_many = records_.size() > options_.keep;
    const bool too_old = it->second.ended + options_.max_age < now;
    if (!too_many && !too_old) return;
    const Record dropped = it->second;
    records_.erase(it);
    order_.pop_front();
    DropRecord(dropped);
  }
}

absl::StatusOr<AttemptLogStore::Contents> AttemptLogStore::Read(
    absl::string_view attempt_id) {
  if (absl::Status valid = ValidatePlainFileName(attempt_id, "attempt_id");
      !valid.ok()) {
    return valid;
  }
  Record record;
  {
    absl::MutexLock lock(&mu_);
    Prune(clock_->Now());
    auto it = records_.find(attempt_id);
    if (it == records_.end()) {
      return absl::NotFoundError(absl::StrCat(
          "no log of attempt ", attempt_id,
          " here: this worker did not run it, or retention removed it"));
    }
    record = it->second;
    if (record.segment == current_segment_ && record.offset >= flushed_) {
      return Contents{
          pending_.substr(static_cast<size_t>(record.offset - flushed_),
                          static_cast<size_t>(record.length)),
          record.truncated, true};
    }
  }
  absl::StatusOr<std::string> text =
      ReadRange(SegmentPath(record.segment), record.offset, record.length);
  if (!text.ok()) {
    return absl::NotFoundError(
        absl::StrCat("the log of attempt ", attempt_id,
                     " is gone: ", text.status().message()));
  }
  return Contents{*std::move(text), record.truncated, true};
}

std::vector<std::string> AttemptLogStore::FinishedAttemptIds() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> ids;
  for (const auto& [id, sequence] : order_) {
    auto it = records_.find(id);
    if (it != records_.end() && it->second.sequence == sequence) {
      ids.push_back(id);
    }
  }
  return ids;
}

std::vector<std::string> AttemptLogStore::SegmentFiles() const {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& file : std::filesystem::directory_iterator(dir_, error)) {
    const std::string name = file.path().filename().string();
    if (SegmentNumber(name) >= 0) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void AttemptLogStore::IndexExistingSegments() {
  std::vector<int64_t> found;
  for (const std::string& name : SegmentFiles()) {
    found.push_back(SegmentNumber(name));
  }
  std::sort(found.begin(), found.end());
  absl::MutexLock lock(&mu_);
  for (const int64_t segment : found) {
    std::error_code error;
    const uintmax_t size =
        std::filesystem::file_size(SegmentPath(segment), error);
    absl::StatusOr<std::string> content =
        error ? absl::StatusOr<std::string>(absl::NotFoundError(""))
              : ReadRange(SegmentPath(segment), 0, static_cast<int64_t>(size));
    segments_[segment].bytes = static_cast<int64_t>(size);
    if (content.ok()) IndexSegment(segment, *content);
    if (segments_[segment].live == 0) {
      unlink(SegmentPath(segment).c_str());
      segments_.erase(segment);
    }
  }
  // Never append to a segment of an earlier process (its end may be torn).
  if (!found.empty()) current_segment_ = found.back() + 1;
  segments_[current_segment_];
  Prune(clock_->Now());
}

void AttemptLogStore::IndexSegment(int64_t segment,
                                   const std::string& content) {
  size_t pos = 0;
  while (pos < content.size()) {
    const size_t eol = content.find('\n', pos);
    if (eol == std::string::npos) return;  // Torn header.
    const std::vector<absl::string_view> fields =
        absl::StrSplit(absl::string_view(content).substr(pos, eol - pos), ' ');
    int64_t micros = 0;
    int64_t length = -1;
    if (fields.size() != 5 || fields[0] != kRecordMagic ||
        !ValidatePlainFileName(fields[1], "attempt_id").ok() ||
        !absl::SimpleAtoi(fields[2], &micros) ||
        !absl::SimpleAtoi(fields[3], &length) || length < 0 ||
        eol + 1 + static_cast<size_t>(length) > content.size()) {
      LOG(WARNING) << "attempt log segment " << SegmentPath(segment)
                   << " is damaged at byte " << pos
                   << "; the logs after it are ignored";
      return;
    }
    Record record;
    record.segment = segment;
    record.offset = static_cast<int64_t>(eol + 1);
    record.length = length;
    record.truncated = fields[4] == "1";
    record.ended = absl::FromUnixMicros(micros);
    AddRecord(std::string(fields[1]), record);
    pos = eol + 1 + static_cast<size_t>(length);
  }
}

}  // namespace quarry::worker

#ifndef QUARRY_WORKER_OUTPUT_COMMITTER_H_
#define QUARRY_WORKER_OUTPUT_COMMITTER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/beneath_opener.h"
#include "common/scoped_fd.h"
#include "worker/kinds/job_kind.h"

namespace quarry::worker {

// One attempt's output on its way to output_path. Owns the temp file
// "<dirname(output_path)>/.quarry-staging/<attempt_id>.tmp" (and its file
// descriptor) until Commit() renames it onto output_path, atomically: a
// reader sees either no file or the whole file, never a partial one. An
// output that is never committed (failure, cancellation, destruction)
// deletes its temp file. The staging directory is created if missing (mode
// 0755) and never deleted here: the leader removes it when the job ends.
//
// Nothing is written through a symlink: the output directory is opened
// once through BeneathOpener (beneath a writable data root, crossing no
// symlink below it), the staging directory in it with O_NOFOLLOW, the temp
// file in that with O_CREAT | O_EXCL | O_NOFOLLOW, and the commit is a
// renameat between those directory descriptors. A symlink planted at the
// output path is replaced by the rename; its target is never touched.
// Not thread-safe: owned and called by one slot thread.
class StagedOutput : public OutputSink {
 public:
  // Creates the temp file. The directory of `output_path` must exist (the
  // leader creates it) and is opened through `files`. `attempt_id` names
  // the temp file and the last component of `output_path` the output, so
  // both must be plain names: [A-Za-z0-9._-], not "." or "..".
  static absl::StatusOr<std::unique_ptr<StagedOutput>> Create(
      const BeneathOpener& files, absl::string_view output_path,
      absl::string_view attempt_id);

  // Where the temp file of (output_path, attempt_id) lives.
  static std::string TempPathFor(absl::string_view output_path,
                                 absl::string_view attempt_id);

  StagedOutput(const StagedOutput&) = delete;
  StagedOutput& operator=(const StagedOutput&) = delete;
  // Aborts unless committed.
  ~StagedOutput() override;

  // Appends to the temp file (buffered).
  absl::Status Write(absl::string_view data) override;

  // Flushes and closes the temp file; no more writes. Idempotent. On error
  // the temp file is deleted.
  absl::Status Close();

  // Close()s if needed, then renames the temp file onto output_path
  // (replacing any file there). Returns the committed size in bytes. On
  // error the temp file is deleted and nothing is committed.
  absl::StatusOr<int64_t> Commit();

  // Closes and deletes the temp file without committing. Idempotent; a
  // no-op after Commit().
  void Abort();

  const std::string& output_path() const { return output_path_; }
  // Bytes written to the temp file so far; after Close(), the file's size
  // (which counts what another process wrote to temp_path() too).
  int64_t bytes_written() const { return bytes_written_; }
  const std::string& temp_path() const { return temp_path_; }
  // The temp file's descriptor until Close() (-1 after): for handing the
  // file to another user (fchown) without going by its path.
  int fd() const { return fd_; }

 private:
  StagedOutput(std::string output_path, ScopedFd output_dir,
               ScopedFd staging_dir, std::string temp_name, int fd);

  // Writes the buffer out to fd_.
  absl::Status FlushBuffer();

  const std::string output_path_;
  const std::string output_name_;  // The last component of output_path_.
  const ScopedFd output_dir_;      // The directory of output_path_.
  const ScopedFd staging_dir_;     // Its .quarry-staging, holding the temp.
  const std::string temp_name_;    // "<attempt_id>.tmp".
  const std::string temp_path_;    // For messages and exec's {output}.
  int fd_;  // -1 once closed.
  std::string buffer_;
  int64_t bytes_written_ = 0;
  bool finished_ = false;  // Committed or aborted: the temp file is gone.
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_OUTPUT_COMMITTER_H_

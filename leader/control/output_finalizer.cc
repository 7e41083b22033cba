#include "leader/control/output_finalizer.h"

#include <fcntl.h>
#include <unistd.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "common/dir_fd.h"
#include "common/job_kinds.h"

namespace quarry {

absl::Status StagingDirRemover::Finalize(const quarry::v1::Job& job) {
  const std::string& dir = job.spec().output_dir();
  if (dir.empty()) return absl::OkStatus();
  absl::StatusOr<ScopedFd> opened = files_.OpenOutputDir(dir);
  if (absl::IsNotFound(opened.status())) return absl::OkStatus();
  if (!opened.ok()) return opened.status();
  const int fd = opened->get();
  if (absl::Status removed = RemoveTreeAt(fd, std::string(kStagingDirName));
      !removed.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot remove ", dir, "/", removed.message()));
  }
  if (job.state() != quarry::v1::JOB_STATE_CANCELLED) return absl::OkStatus();
  // Committed files only: unlinkat never follows a symlink, nor removes a
  // directory.
  for (int32_t index = 0; index < job.task_count(); ++index) {
    unlinkat(fd, PartFileName(index).c_str(), 0);
  }
  unlinkat(fd, std::string(kResultFileName).c_str(), 0);
  unlinkat(fd, std::string(kExecResultFileName).c_str(), 0);
  return absl::OkStatus();
}

}  // namespace quarry

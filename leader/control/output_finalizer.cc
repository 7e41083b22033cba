#include "leader/control/output_finalizer.h"

#include <filesystem>
#include <string>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/job_kinds.h"

namespace quarry {

absl::Status StagingDirRemover::Finalize(const quarry::v1::Job& job) {
  if (job.spec().output_dir().empty()) return absl::OkStatus();
  const std::filesystem::path staging =
      std::filesystem::path(job.spec().output_dir()) /
      std::string(kStagingDirName);
  std::error_code error;
  std::filesystem::remove_all(staging, error);
  if (error) {
    return absl::InternalError(absl::StrCat("cannot remove ", staging.string(),
                                            ": ", error.message()));
  }
  if (job.state() != quarry::v1::JOB_STATE_CANCELLED) return absl::OkStatus();
  const std::filesystem::path dir(job.spec().output_dir());
  for (int32_t index = 0; index < job.task_count(); ++index) {
    std::filesystem::remove(dir / PartFileName(index), error);
  }
  std::filesystem::remove(dir / std::string(kResultFileName), error);
  std::filesystem::remove(dir / std::string(kExecResultFileName), error);
  return absl::OkStatus();
}

}  // namespace quarry

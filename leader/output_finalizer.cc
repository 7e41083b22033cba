#include "leader/output_finalizer.h"

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
  return absl::OkStatus();
}

}  // namespace quarry

#ifndef QUARRY_LEADER_CONTROL_OUTPUT_FINALIZER_H_
#define QUARRY_LEADER_CONTROL_OUTPUT_FINALIZER_H_

#include "absl/status/status.h"
#include "quarry/v1/types.pb.h"

namespace quarry {

// Tidies a job's output directory once no attempt of the job runs any more,
// so that only committed files (part-NNNNN, result.tsv) remain visible.
// Called by the controller outside its lock, before the job's final state is
// stored. Implementations are thread-safe.
class OutputFinalizer {
 public:
  virtual ~OutputFinalizer() = default;
  virtual absl::Status Finalize(const quarry::v1::Job& job) = 0;
};

// Removes the staging directory (common kStagingDirName) of the job's
// output; for a CANCELLED job also the files its tasks committed, so a
// cancelled job leaves no partial output behind.
class StagingDirRemover : public OutputFinalizer {
 public:
  absl::Status Finalize(const quarry::v1::Job& job) override;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_OUTPUT_FINALIZER_H_

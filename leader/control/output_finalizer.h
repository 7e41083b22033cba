#ifndef QUARRY_LEADER_CONTROL_OUTPUT_FINALIZER_H_
#define QUARRY_LEADER_CONTROL_OUTPUT_FINALIZER_H_

#include <utility>

#include "absl/status/status.h"
#include "common/beneath_opener.h"
#include "common/data_roots.h"
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
// cancelled job leaves no partial output behind. The output directory is
// opened beneath the data roots crossing no symlink (BeneathOpener), and
// everything in it is removed by descriptor without following symlinks: a
// link planted as part-00000 or .quarry-staging is removed, its target
// never touched.
class StagingDirRemover : public OutputFinalizer {
 public:
  // `roots`: the leader's --data_root (none: anywhere).
  explicit StagingDirRemover(DataRoots roots = DataRoots())
      : files_(std::move(roots)) {}

  absl::Status Finalize(const quarry::v1::Job& job) override;

 private:
  const BeneathOpener files_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_OUTPUT_FINALIZER_H_

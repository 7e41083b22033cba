#ifndef QUARRY_LEADER_SCHEDULING_INPUT_WALK_H_
#define QUARRY_LEADER_SCHEDULING_INPUT_WALK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/beneath_opener.h"

namespace quarry {

// Appends every regular file named by the input `path` (absolute, clean):
// the file itself, or every regular file below the directory, walked by
// descriptor without descending into a symlinked directory. A symlink in
// the tree counts when it leads to a regular file; through `files`, so with
// data roots a link that leads out of its root (or any link, on a kernel
// without openat2) refuses the whole job, naming the link: silently
// skipping it would hide a mistake or an attack. Dangling links and
// directories the leader may not read are skipped. Errors name `field`:
// NOT_FOUND when `path` does not exist; INVALID_ARGUMENT otherwise (outside
// the roots, a link out, neither file nor directory, more than `max_files`
// files, or a walk still going at `deadline`: a submission naming "/"
// must not keep the leader walking). Reads the filesystem, changes
// nothing; thread-safe.
absl::Status ExpandInput(const BeneathOpener& files, const std::string& path,
                         const std::string& field, int64_t max_files,
                         absl::Time deadline, std::vector<std::string>* out);

// The size of the input file `path`, opened through `files`; NOT_FOUND
// naming it when it cannot be read.
absl::StatusOr<int64_t> InputFileSize(const BeneathOpener& files,
                                      const std::string& path);

}  // namespace quarry

#endif  // QUARRY_LEADER_SCHEDULING_INPUT_WALK_H_

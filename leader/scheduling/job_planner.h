#ifndef QUARRY_LEADER_SCHEDULING_JOB_PLANNER_H_
#define QUARRY_LEADER_SCHEDULING_JOB_PLANNER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/data_roots.h"
#include "common/job_kinds.h"
#include "leader/scheduling/task_plan.h"
#include "quarry/v1/types.pb.h"

namespace quarry {

// A validated job and its tasks (compact: see TaskPlan).
struct JobPlan {
  quarry::v1::JobSpec spec;  // Normalized: absolute paths, max_attempts set.
  TaskPlan tasks;
};

// Limits that keep one submission from overwhelming the leader.
// Most files packed into one task (JobSpec.bytes_per_task), and the largest
// bytes_per_task accepted.
inline constexpr int32_t kMaxFilesPerTask = 4096;
inline constexpr int64_t kMaxBytesPerTask = int64_t{1} << 40;

// Most JobSpec.inputs entries (each may be a directory), and most bytes of
// settings (keys and values together) or entries in them.
inline constexpr int kMaxInputEntries = 100'000;
inline constexpr size_t kMaxSettingsBytes = 64 * 1024;
inline constexpr int kMaxSettingsEntries = 256;

struct PlannerLimits {
  int64_t max_tasks = 10'000'000;
  int32_t max_attempts = 100;
  int32_t default_max_attempts = 3;
  // Unfinished tasks (of every job) the leader holds at most: SubmitJob
  // answers RESOURCE_EXHAUSTED rather than taking a job past it (checked
  // by JobManager, not by PlanJob). 0: no limit.
  int64_t max_pending_tasks = 10'000'000;
  // Where inputs and the output directory may be (--data_root): beneath a
  // root, the output beneath a writable one; empty: anywhere.
  DataRoots data_roots;
  // Longest walk of the input directories: a submission naming "/" or
  // another huge tree is refused (INVALID_ARGUMENT) once its walk has
  // taken this long, rather than keep the leader walking.
  absl::Duration max_walk_time = absl::Seconds(30);
};

// The job kinds a submission may name. The planner's default is the
// built-in catalog (common/job_kinds.h); the leader's KindCatalog adds the
// plugin kinds its registered workers describe. Implementations are
// thread-safe.
class KindLookup {
 public:
  virtual ~KindLookup() = default;
  // The kind named `name`, or nullopt when it is unknown.
  virtual std::optional<KindSpec> Find(absl::string_view name) const = 0;
  // Every known name, sorted, comma-separated ("byte-histogram, exec, ...").
  virtual std::string Names() const = 0;
};

// The built-in kinds only.
const KindLookup& BuiltInKinds();

// Turns a JobSpec into tasks: checks the kind and its settings, expands
// input directories (recursively, regular files only, sorted by path,
// duplicates dropped; see input_walk.h), checks the output directory
// (absent, or an empty directory, or overwrite). With limits.data_roots,
// every input must lie beneath a root and the output directory beneath a
// writable one, by the cleaned path and as resolved: a symlink leading out
// of a root refuses the job (BeneathOpener). Reads the filesystem but
// changes nothing. Errors are INVALID_ARGUMENT (or NOT_FOUND for a missing
// input) and name the field, and the roots when outside them; an unknown
// kind's error lists the known ones (`kinds`: null for the built-in
// kinds). Thread-safe (no state).
absl::StatusOr<JobPlan> PlanJob(const quarry::v1::JobSpec& spec,
                                const PlannerLimits& limits = {},
                                const KindLookup* kinds = nullptr);

// Creates the output directory of a planned job (and, with overwrite,
// removes earlier Quarry output from it: part-NNNNN, result.tsv, staging),
// beneath `roots` (none: anywhere) without following a symlink below the
// root, and removing files by descriptor.
absl::Status PrepareOutputDir(const quarry::v1::JobSpec& spec,
                              const DataRoots& roots);

}  // namespace quarry

#endif  // QUARRY_LEADER_SCHEDULING_JOB_PLANNER_H_

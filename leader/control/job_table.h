#ifndef QUARRY_LEADER_CONTROL_JOB_TABLE_H_
#define QUARRY_LEADER_CONTROL_JOB_TABLE_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/store.h"
#include "leader/control/attempt_table.h"
#include "leader/control/controller_stats.h"
#include "leader/control/job_runtime.h"
#include "leader/control/store_writer.h"

namespace quarry {

// An unfinished job as the store keeps it, with its tasks.
struct StoredJob {
  quarry::v1::Job job;
  std::vector<quarry::v1::Task> tasks;
};
// Every PENDING or RUNNING job in `store` (a restarting leader's work).
// The store's error if it cannot be read.
absl::StatusOr<std::vector<StoredJob>> ReadUnfinishedJobs(Store& store);

// The jobs the controller runs, oldest first (the order in which their
// tasks are dispatched), and the output directories they claim: two jobs
// that have not ended never write into one directory. A job leaves the
// table once it is finished and no attempt of it runs any more; its
// directory is free again then.
//
// Not thread-safe: a member of the Controller guarded by its mutex, used
// by the loop thread (steps) and by event handlers under that mutex.
class JobTable {
 public:
  using Jobs = std::map<int64_t, std::unique_ptr<JobRuntime>>;

  // Adds a job (new, or restored from the store).
  JobRuntime& Add(std::unique_ptr<JobRuntime> job);
  // The job `job_id` if the table has it (finished or not), else null.
  JobRuntime* Find(const std::string& job_id);

  // Every job in the table, oldest first.
  Jobs::iterator begin() { return jobs_.begin(); }
  Jobs::iterator end() { return jobs_.end(); }
  Jobs::const_iterator begin() const { return jobs_.begin(); }
  Jobs::const_iterator end() const { return jobs_.end(); }

  // What ending an attempt did to its task.
  enum class Outcome {
    kIgnored,  // Its job is gone or finished, or a newer attempt runs.
    kDone,     // The task is DONE.
    kRetried,  // The task waits for a slot again.
    kFailed,   // The task FAILED for good.
  };
  // The attempt `ref` (no longer live) ended with `status` (`report`, may
  // be null: the worker's account of it); see JobRuntime::RecordDone and
  // RecordUnsuccessful.
  Outcome EndAttempt(const AttemptRef& ref, quarry::v1::ExecutionStatus status,
                     const std::string& error, bool counts_as_failure,
                     const quarry::v1::AttemptStatus* report,
                     int32_t max_dispatches);

  // Why the worker may not commit live attempt `attempt_id` (`ref`) as
  // far as its job goes (ended, superseded, task already DONE), or "".
  std::string CommitRefusal(const std::string& attempt_id,
                            const AttemptRef& ref);

  // Tasks waiting for a slot, of every job.
  int64_t Runnable() const;
  // Tasks not yet ended (pending, assigned, running) of unfinished jobs.
  int64_t UnfinishedTasks() const;
  // Whether some unfinished job limits its attempts' run time.
  bool AnyTaskTimeout() const;

  // Claims `output_dir` for `job_id`. FAILED_PRECONDITION naming the other
  // job if it is taken.
  absl::Status ReserveOutputDir(const std::string& output_dir,
                                const std::string& job_id);
  void ReleaseOutputDir(const std::string& output_dir);
  // Claims `output_dir` (none if empty) for a job restored from the store.
  void ClaimRestoredOutputDir(const std::string& output_dir,
                              const std::string& job_id);

  // Moves the records that changed into `writes` (each job's tasks before
  // the job); jobs done with (finished, no live attempt) leave the table
  // and free their directory, their final record appended to `done_with`.
  void CollectWrites(const std::vector<std::string>& worker_names,
                     StoreWrites* writes,
                     std::vector<quarry::v1::Job>* done_with);

  // Adds the unfinished jobs, their tasks and the runnable ones to `stats`.
  void AddStats(ControllerStats* stats) const;

 private:
  // By sequence number (the job id's), i.e. by submission.
  Jobs jobs_;
  // Output directories of jobs that have not ended, to their job ids.
  absl::flat_hash_map<std::string, std::string> output_dirs_in_use_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_JOB_TABLE_H_

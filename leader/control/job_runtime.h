#ifndef QUARRY_LEADER_CONTROL_JOB_RUNTIME_H_
#define QUARRY_LEADER_CONTROL_JOB_RUNTIME_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "leader/scheduling/task_plan.h"
#include "quarry/v1/types.pb.h"
#include "quarry/v1/worker_service.pb.h"

namespace quarry {

// Adjusts the per-status counter of `counts` by `delta`.
void AdjustTaskCounts(quarry::v1::TaskCounts& counts,
                      quarry::v1::ExecutionStatus status, int delta);

inline bool IsTerminal(quarry::v1::ExecutionStatus status) {
  return status == quarry::v1::EXECUTION_STATUS_DONE ||
         status == quarry::v1::EXECUTION_STATUS_FAILED ||
         status == quarry::v1::EXECUTION_STATUS_CANCELLED ||
         status == quarry::v1::EXECUTION_STATUS_LOST;
}

// One task as the controller tracks it: 24 bytes whatever the job's size
// (its inputs and outputs are in the job's TaskPlan, its attempt id follows
// from the job id, its index and `attempts`; errors and summaries, which
// few tasks have, are kept beside it in the JobRuntime).
struct TaskRuntime {
  int32_t attempts = 0;         // Attempts started (sent to a worker) so far.
  int32_t failed_attempts = 0;  // Count against max_attempts.
  // Where the current (or last) attempt runs: an index into the worker
  // pool's interned names; -1 before the first.
  int32_t worker = -1;
  uint8_t status = quarry::v1::EXECUTION_STATUS_PENDING;
  bool dirty = false;  // Listed in JobRuntime::dirty_tasks.
  int64_t output_bytes = 0;

  quarry::v1::ExecutionStatus execution_status() const {
    return static_cast<quarry::v1::ExecutionStatus>(status);
  }
};

// A live attempt found in the store when a job is restored: it waits for
// its worker to come back and report it (adoption).
struct RestoredAttempt {
  std::string attempt_id;
  int32_t task_index = 0;
  int32_t attempt_number = 0;
  std::string worker_id;
};

// One job the controller runs (or has finished: a finished job stays until
// its last live attempt has ended, so its output can be tidied): its record,
// its tasks' states and counts, the order in which its tasks wait for a
// slot, and which records must be written to the store. Keeps the job's
// task counts equal to its tasks' states, and every changed task listed
// once in dirty_tasks. A plain value owned by the JobTable; not
// thread-safe (the Controller's mutex guards the table).
struct JobRuntime {
  // A new job: every task PENDING, waiting in index order.
  JobRuntime(quarry::v1::Job job, TaskPlan plan);

  // A job read back from the store by a restarted leader: tasks PENDING
  // wait again, tasks ASSIGNED or RUNNING are appended to `live` (they wait
  // for adoption), and the task counts are recomputed. `intern` gives a
  // worker id's index in the worker pool's names.
  static std::unique_ptr<JobRuntime> Restore(
      quarry::v1::Job job, const std::vector<quarry::v1::Task>& tasks,
      absl::FunctionRef<int32_t(const std::string&)> intern,
      std::vector<RestoredAttempt>* live);

  int64_t sequence = 0;
  quarry::v1::Job job;
  TaskPlan plan;
  std::vector<TaskRuntime> tasks;
  // Last error of the tasks that have one; summaries of DONE tasks.
  absl::flat_hash_map<int32_t, std::string> errors;
  absl::flat_hash_map<int32_t, std::string> summaries;
  // Tasks waiting for a slot, in order: `queued` (retries at the front,
  // the reduce task at the back) first, then the map tasks
  // [next_fresh, map_count) that have never been dispatched.
  std::deque<int32_t> queued;
  int32_t next_fresh = 0;
  int32_t maps_remaining = 0;   // Non-reduce tasks not yet DONE.
  int32_t live_attempts = 0;    // Live attempts of this job.
  absl::Duration task_timeout;  // Zero: no limit.
  // Moving average of the run time of its DONE attempts (as the workers
  // timed them); infinite until one is done. Decides queueing.
  absl::Duration typical_run = absl::InfiniteDuration();
  std::vector<std::string> failure_reasons;  // Of permanently failed tasks.
  bool finished = false;                     // Reached a terminal state.
  bool dirty = true;                         // The job record must be stored.
  std::vector<int32_t> dirty_tasks;  // Tasks whose record must be stored.

  int64_t runnable() const {
    return static_cast<int64_t>(queued.size()) + plan.map_count - next_fresh;
  }
  // The next runnable task, left in place; runnable() must be > 0.
  int32_t PeekRunnable() const {
    return queued.empty() ? next_fresh : queued.front();
  }
  // The next runnable task, taken; runnable() must be > 0.
  int32_t PopRunnable() {
    if (queued.empty()) return next_fresh++;
    const int32_t index = queued.front();
    queued.pop_front();
    return index;
  }
  void ClearRunnable() {
    queued.clear();
    next_fresh = plan.map_count;
  }
  void MarkDirty(int32_t index) {
    TaskRuntime& task = tasks[index];
    if (!task.dirty) {
      task.dirty = true;
      dirty_tasks.push_back(index);
    }
  }
  void NoteRunTime(absl::Duration run) {
    typical_run = typical_run == absl::InfiniteDuration()
                      ? run
                      : (typical_run * 3 + run) / 4;
  }

  // Moves task `index` to `status`; the job's task counts follow and both
  // records are marked for writing.
  void SetTaskStatus(int32_t index, quarry::v1::ExecutionStatus status);
  // A new attempt of task `index` goes to worker `worker` (an interned
  // name): ASSIGNED. Returns the attempt's number.
  int32_t StartAttempt(int32_t index, int32_t worker);
  // What a worker needs to run attempt `attempt_id` of task `index`.
  void FillAssignment(int32_t index, const std::string& attempt_id,
                      int32_t slot, quarry::v1::Assignment* assignment) const;
  // The current attempt of task `index` is DONE (`report`, may be null,
  // is the worker's account of it); the reduce task is queued once every
  // map task is done.
  void RecordDone(int32_t index, const quarry::v1::AttemptStatus* report);
  // The current attempt of task `index` ended without success (`error`).
  // Returns true if the task waits again (at the front); false if it
  // FAILED for good: it failed max_attempts times, or could not even be
  // started in max_attempts + `max_dispatches` tries.
  bool RecordUnsuccessful(int32_t index, const std::string& error,
                          bool counts_as_failure, int32_t max_dispatches);
  // Whether some ALIVE worker runs the job's kind: tasks that wait for a
  // slot and cannot get one say so in job.waiting_reason.
  void NoteKindOffered(bool offered);
  // The job reached `state` (terminal) at `now`: nothing waits any more,
  // and tasks not yet ended are CANCELLED.
  void Finish(quarry::v1::JobState state, const std::string& error,
              absl::Time now);

  // The store's record of task `index`; `worker_names` resolves
  // TaskRuntime::worker.
  quarry::v1::Task TaskRecord(
      int32_t index, const std::vector<std::string>& worker_names) const;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_JOB_RUNTIME_H_

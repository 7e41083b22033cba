#ifndef QUARRY_LEADER_CONTROL_ATTEMPT_TABLE_H_
#define QUARRY_LEADER_CONTROL_ATTEMPT_TABLE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/function_ref.h"
#include "absl/time/time.h"
#include "quarry/v1/cluster_service.pb.h"
#include "quarry/v1/types.pb.h"
#include "quarry/v1/worker_service.pb.h"

namespace quarry {

struct WorkerRuntime;

// One live attempt: which task it runs, where, and whether the worker has
// confirmed it.
struct AttemptRef {
  std::string job_id;
  int32_t task_index = 0;
  int32_t attempt_number = 0;
  std::string worker_id;
  int32_t slot = 0;        // Its place on the worker; -1: none (restored,
                           // not yet adopted, or ended there).
  bool accepted = false;   // The worker confirmed it runs.
  absl::Time accepted_at;  // Leader time of the confirmation.
};

// The live attempts (ASSIGNED or RUNNING) by id, from dispatch until their
// end is known; and, after a leader restart, the attempts the store showed
// running, waiting for their worker to register again and report them
// (adoption) until a deadline.
//
// Not thread-safe: a member of the Controller guarded by its mutex, used
// by the loop thread (steps) and by event handlers under that mutex.
class AttemptTable {
 public:
  // What a registering worker's report means for the attempts.
  struct Adoption {
    // Reports to take in as if the worker had just sent them.
    std::vector<quarry::v1::AttemptStatus> reports;
    // Live attempts it no longer runs: they are LOST.
    std::vector<std::string> orphaned;
  };

  AttemptRef* Find(const std::string& attempt_id);
  const AttemptRef* Find(const std::string& attempt_id) const;
  bool contains(const std::string& attempt_id) const {
    return attempts_.contains(attempt_id);
  }
  size_t size() const { return attempts_.size(); }

  void Add(const std::string& attempt_id, AttemptRef ref);
  // Removes a live attempt and returns it; nullopt if it is not live.
  std::optional<AttemptRef> Take(const std::string& attempt_id);
  // The history's record of attempt `attempt_id` (`ref`), ended at `now`
  // with `status`; `report` (may be null) is the worker's account of it.
  static quarry::v1::AttemptRecord HistoryRecord(
      const std::string& attempt_id, const AttemptRef& ref,
      quarry::v1::ExecutionStatus status, const std::string& error,
      const quarry::v1::AttemptStatus* report, absl::Time now);
  // The worker confirmed `ref` runs, at `now`; false if it already had.
  static bool Accept(AttemptRef& ref, absl::Time now);

  // Accepted attempts that have run longer than their job's limit
  // (`limit_of(job_id)`, zero: none), with that limit.
  std::vector<std::pair<std::string, absl::Duration>> Expired(
      absl::Time now,
      absl::FunctionRef<absl::Duration(const std::string&)> limit_of) const;
  // The live attempts of job `job_id`, as one CancelTasks request per
  // worker.
  std::map<std::string, quarry::v1::CancelTasksRequest> CancelsForJob(
      const std::string& job_id) const;

  // Why the worker may not commit `attempt_id`, or "" if it may (as far as
  // the attempt goes: the caller checks its job and task).
  std::string CommitRefusal(const std::string& worker_id,
                            const std::string& attempt_id) const;

  // A live attempt restored from the store: it has no place until its
  // worker reports it. Those not adopted by `deadline` are given up.
  void AddUnadopted(const std::string& attempt_id, AttemptRef ref);
  void set_adopt_deadline(absl::Time deadline) { adopt_deadline_ = deadline; }
  // `worker` (registered afresh) reports `reported`: attempts of the
  // leader it still runs keep their place in it (their status applied
  // through `reports`), `expected` ones it does not report, and restored
  // ones waiting for it, are orphaned; work it runs that the leader does
  // not keeps its place busy.
  Adoption Adopt(
      WorkerRuntime& worker,
      const google::protobuf::RepeatedPtrField<quarry::v1::AttemptStatus>&
          reported,
      std::vector<std::string> expected);
  // Once the deadline has passed: the restored attempts still waiting, by
  // worker id (none wait afterwards).
  absl::flat_hash_map<std::string, std::vector<std::string>>
  TakeUnadoptedPastDeadline(absl::Time now);

 private:
  absl::flat_hash_map<std::string, AttemptRef> attempts_;
  // Restored attempts not yet adopted (no place yet), by worker id.
  absl::flat_hash_map<std::string, std::vector<std::string>> unadopted_;
  absl::Time adopt_deadline_ = absl::InfinitePast();
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_ATTEMPT_TABLE_H_

#ifndef QUARRY_LEADER_CONTROL_WORKER_POOL_H_
#define QUARRY_LEADER_CONTROL_WORKER_POOL_H_

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "leader/control/controller_options.h"
#include "leader/control/controller_stats.h"
#include "leader/control/effects.h"
#include "leader/control/kind_catalog.h"
#include "leader/control/store_writer.h"
#include "leader/workers/worker_client.h"
#include "leader/workers/worker_link.h"
#include "quarry/v1/cluster_service.pb.h"

namespace quarry {

class AttemptTable;

// The names of the job kinds a worker runs. Workers with the same kinds
// share one (WorkerPool interns them), so "do all these workers run the
// same kinds" is a pointer comparison.
using KindSet = absl::flat_hash_set<std::string>;

// A registered worker as the controller tracks it: its record, its places
// (slots, then queue places) and what each holds, how the leader reaches
// it, and its health. Owned by the WorkerPool.
struct WorkerRuntime {
  // A freshly registered worker: every place free, seen `now`.
  static std::unique_ptr<WorkerRuntime> FromRegistration(
      const quarry::v1::RegisterWorkerRequest& request,
      std::shared_ptr<WorkerClient> client, absl::Time now);

  quarry::v1::Worker record;  // id, address, slots, labels, status, times.
  int32_t name = -1;          // Its id's index in the pool's names.
  // The kinds it runs (record.kinds as a set); never null once registered.
  std::shared_ptr<const KindSet> kinds;
  // Per place: the live attempt id, "" when free, or "!<id>" when the
  // worker reports it busy with an attempt the leader does not run (stale
  // work).
  std::vector<std::string> slot_attempts;
  // Free places: slots and queue places that hold no attempt.
  int32_t free_slots = 0;
  std::shared_ptr<WorkerClient> client;
  absl::Time last_seen;
  absl::Time heartbeat_written;                  // last_seen as last stored.
  absl::Time written_at = absl::InfinitePast();  // When last stored.
  // Its places changed since it was last stored (written lazily).
  bool slots_changed = false;
  absl::Time last_probe_sent = absl::InfinitePast();
  bool probe_in_flight = false;
  // The last RPC to it failed: it gets no new work until it answers a probe.
  bool unreachable = false;
  std::string problem;  // Why it is unreachable, for logs.
  // Its ConnectWorker stream (null until it connects) and that stream's id.
  std::shared_ptr<WorkerLink> link;
  int64_t connection_id = -1;
  // Its stream broke: DEAD until it connects or registers again.
  bool disconnected = false;
  // Draining: no new work; it leaves when its attempts end.
  bool draining = false;

  // Attempts (and stale work) it holds, in slots and queue places.
  int32_t held() const {
    return static_cast<int32_t>(slot_attempts.size()) - free_slots;
  }
  // Slots with nothing to run: fewer attempts than slots are placed here.
  int32_t idle_slots() const { return std::max(0, record.slots() - held()); }
  bool Offers(const std::string& kind) const { return kinds->contains(kind); }
  // The live attempts it holds (stale work left out), in place order.
  std::vector<std::string> LiveAttempts() const;
  // Puts `attempt_id` in the first free place; returns the place.
  int32_t Occupy(const std::string& attempt_id);
  // Frees `place` if it holds `attempt_id`.
  void Free(int32_t place, const std::string& attempt_id);
};

// The registered workers: their registrations, health (ALIVE, SUSPECT,
// DEAD, DRAINING), places and what they hold, connections (ConnectWorker
// streams) and which records must be written to the store; and every
// worker id ever seen, interned, so a task names its worker by index.
//
// Not thread-safe: a member of the Controller guarded by its mutex, used
// by the loop thread (steps) and by event handlers under that mutex.
class WorkerPool {
 public:
  // `kinds` (may be null) learns the plugin kinds of the workers that
  // register and leave.
  explicit WorkerPool(const ControllerOptions& options,
                      KindCatalog* kinds = nullptr)
      : options_(options), kinds_(kinds) {}

  // Live attempts a worker had, lost with it (its places are cleared
  // already): the controller ends them with `why`.
  struct Lost {
    std::string why;
    std::vector<std::string> attempt_ids;
  };
  struct Registration {
    WorkerRuntime* worker = nullptr;
    // The live attempts the leader had on it if it registered again.
    std::vector<std::string> expected;
    // Its old stream, to close (outside the lock).
    std::shared_ptr<WorkerLink> old_link;
  };
  struct Connection {
    int64_t id = 0;
    std::shared_ptr<WorkerLink> replaced;  // To close, unless the same.
    bool drain = false;  // The worker drains: tell it at once.
  };

  WorkerRuntime* Find(const std::string& worker_id);
  size_t size() const { return workers_.size(); }

  // The index of `worker_id` in names() (added if new).
  int32_t Intern(const std::string& worker_id);
  const std::vector<std::string>& names() const { return names_; }

  // `worker` joins, replacing an earlier registration of the same id.
  Registration Register(std::unique_ptr<WorkerRuntime> worker,
                        int reported_attempts);
  // A report from `worker_id` (it is alive; `draining`: it drains).
  // NOT_FOUND when it is not registered.
  absl::Status NoteReport(const std::string& worker_id, bool draining,
                          absl::Time now);
  // Its ConnectWorker stream opened. NOT_FOUND when it is not registered.
  absl::StatusOr<Connection> Connect(const std::string& worker_id,
                                     std::shared_ptr<WorkerLink> link,
                                     absl::Time now);
  // Its stream `connection_id` broke; false if that stream was replaced or
  // the worker is gone (nothing to do).
  bool Disconnect(const std::string& worker_id, int64_t connection_id);
  // Marks it DRAINING (no new work). NOT_FOUND, or FAILED_PRECONDITION
  // when it is not connected and cannot be told.
  absl::StatusOr<WorkerRuntime*> Drain(const std::string& worker_id);
  // It leaves the pool (its record is deleted from the store). Returns its
  // stream, to close; null if none.
  std::shared_ptr<WorkerLink> Forget(const std::string& worker_id);

  // Its stream broke: DEAD at once.
  void MarkDisconnectedDead(WorkerRuntime& worker);
  // The kinds that some ALIVE worker runs.
  const KindSet& AliveKinds();

  // Clears every place of `worker`; returns the live attempts it held.
  std::vector<std::string> ClearPlaces(WorkerRuntime& worker);
  void MarkUnreachable(WorkerRuntime& worker, const std::string& why);
  void MarkDirty(const std::string& worker_id) { dirty_.insert(worker_id); }

  // A report of `attempt_id` (ended) from `worker_id`, which the leader
  // does not run there: the place held for it is free again.
  void ReleaseStalePlace(const std::string& worker_id,
                         const std::string& attempt_id);
  // Keeps `place` busy until the worker reports `attempt_id` ended (after
  // the leader gave up on an attempt the worker may still run).
  void HoldPlaceUntilReported(const std::string& worker_id, int32_t place,
                              const std::string& attempt_id);
  // Places that `slot_states` (a probe's answer) shows busy with attempts
  // the leader does not run (`live` says which it runs) are kept out of
  // scheduling until they free up.
  void ReconcileStalePlaces(
      WorkerRuntime& worker,
      const google::protobuf::RepeatedPtrField<quarry::v1::SlotState>&
          slot_states,
      absl::FunctionRef<bool(const std::string&)> live);

  // One health pass at `now`: silence turns a worker SUSPECT, then DEAD
  // (its places are cleared and what they held appended to `lost`);
  // long-dead workers are forgotten; records that changed a little are
  // marked for a lazy write; silent or long-unreconciled workers get a
  // probe (at most max_probes_per_step in `probes`).
  void UpdateHealth(absl::Time now, std::vector<Probe>* probes,
                    std::vector<Lost>* lost);
  // Workers that can take work now (ALIVE, reachable, a free place); at
  // most max_workers_per_step, those with the most room first (`capped`
  // says whether some were left out).
  std::vector<WorkerRuntime*> Schedulable(bool* capped);

  // The store's record of `worker`, with its slot states.
  quarry::v1::Worker Record(const WorkerRuntime& worker,
                            const AttemptTable& attempts) const;
  // Moves the records marked for writing, and the forgotten workers, into
  // `writes`.
  void CollectWrites(absl::Time now, const AttemptTable& attempts,
                     StoreWrites* writes);
  // Adds the workers, their slots and heartbeat ages to `stats`.
  void AddStats(absl::Time now, ControllerStats* stats) const;

 private:
  const ControllerOptions options_;
  KindCatalog* const kinds_;
  std::map<std::string, std::unique_ptr<WorkerRuntime>> workers_;
  // Workers whose record must be written to the store, and those whose
  // record must be deleted.
  absl::flat_hash_set<std::string> dirty_;
  std::vector<std::string> forgotten_;
  int64_t last_connection_id_ = 0;
  // Distinct kind sets of the registered workers (shared by WorkerRuntime).
  std::vector<std::shared_ptr<const KindSet>> kind_sets_;
  // The kinds some ALIVE worker runs; recomputed after a registration,
  // departure or status change (`alive_kinds_stale_`).
  KindSet alive_kinds_;
  bool alive_kinds_stale_ = true;
  // Every worker id ever seen, interned.
  std::vector<std::string> names_;
  absl::flat_hash_map<std::string, int32_t> name_index_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_WORKER_POOL_H_

#ifndef QUARRY_LEADER_CONTROL_CONTROLLER_H_
#define QUARRY_LEADER_CONTROL_CONTROLLER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/store.h"
#include "leader/control/attempt_lifecycle.h"
#include "leader/control/attempt_table.h"
#include "leader/control/change_notifier.h"
#include "leader/control/controller_options.h"
#include "leader/control/controller_stats.h"
#include "leader/control/dispatcher.h"
#include "leader/control/effects.h"
#include "leader/control/effects_applier.h"
#include "leader/control/job_table.h"
#include "leader/control/kind_catalog.h"
#include "leader/control/leader_observer.h"
#include "leader/control/output_finalizer.h"
#include "leader/control/tick_stats.h"
#include "leader/control/worker_pool.h"
#include "leader/history/history.h"
#include "leader/scheduling/task_plan.h"
#include "leader/workers/worker_client.h"
#include "leader/workers/worker_link.h"
#include "quarry/v1/cluster_service.pb.h"
#include "quarry/v1/worker_service.pb.h"

namespace quarry {

// The single writer of task, attempt and worker state: the control loop of
// the leader, done the LevelDB way. One global mutex `mu_` guards all
// state, which three owners hold, each keeping its own invariants: the
// JobTable (jobs, their tasks, output directories), the WorkerPool
// (workers, their health and places) and the AttemptTable (live attempts,
// adoption). Event handlers (submissions, worker registrations and
// reports, RPC completions, cancels) record the event in the inbox under
// `mu_` and wake the loop. RunOnce(now) does one step under `mu_`: (1)
// cluster health, (2) job state refresh from reported attempt statuses, (3)
// rebalance of runnable tasks onto free slots, batched per worker; what the
// step decided (Effects: store writes, output finalization, worker RPCs)
// is applied after `mu_` is released, so a slow worker or store never
// stalls the loop. RunOnce is called by the controller thread (Start) or by
// tests with a FakeClock; never by two threads at once.
class Controller : public WorkerLinkEvents, private EffectsSink {
 public:
  // `history` may be null (no execution history is kept). `observer` (may
  // be null) is told of each step's duration and of failed store writes.
  Controller(Store* store, WorkerClientFactory* clients,
             OutputFinalizer* finalizer, const Clock* clock,
             ChangeNotifier* notifier, ControllerOptions options,
             History* history = nullptr, LeaderObserver* observer = nullptr);
  ~Controller() override;
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Takes over from a previous leader (restart): loads the unfinished jobs
  // from the store, with their tasks. Attempts the store shows running are
  // adopted when their worker registers again and reports them (see
  // ControllerOptions::adopt_within), not run again. Drops the stored
  // worker records (workers register again). Call once, before Start()
  // and before any other event. UNAVAILABLE when the store cannot be read
  // (nothing is loaded; call again).
  absl::Status Restore(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  // Starts / stops the loop thread. Stop waits for RPCs in flight.
  void Start();
  void Stop();

  // One step of the loop (see the class comment).
  void RunOnce(absl::Time now) ABSL_LOCKS_EXCLUDED(mu_);

  // Events. Each returns quickly and wakes the loop.
  // A job already written to the store as PENDING, with its tasks.
  void OnJobSubmitted(const quarry::v1::Job& job, TaskPlan tasks)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status OnRegisterWorker(
      const quarry::v1::RegisterWorkerRequest& request)
      ABSL_LOCKS_EXCLUDED(mu_);
  // NOT_FOUND when the worker is not registered (it should register again).
  absl::Status OnWorkerReport(
      const quarry::v1::ReportWorkerStateRequest& report)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Cancels a running or pending job. NOT_FOUND if the controller does not
  // run it (unknown or already finished).
  absl::Status RequestCancel(absl::string_view job_id) ABSL_LOCKS_EXCLUDED(mu_);

  // A worker opened its ConnectWorker stream. Returns the connection's id,
  // or NOT_FOUND if the worker is not registered.
  absl::StatusOr<int64_t> OnWorkerConnected(
      const std::string& worker_id, std::shared_ptr<WorkerLink> link) override
      ABSL_LOCKS_EXCLUDED(mu_);
  // The stream broke: the worker is DEAD at once (its attempts are LOST and
  // re-queued), unless a newer connection of the same worker exists.
  void OnWorkerDisconnected(const std::string& worker_id,
                            int64_t connection_id) override
      ABSL_LOCKS_EXCLUDED(mu_);
  // Grants the commit of `attempt_id` if it is its task's current attempt
  // and the job goes on; refuses (with the reason) otherwise.
  quarry::v1::RequestCommitResponse OnCommitRequest(
      const std::string& worker_id, const std::string& attempt_id)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Marks the worker DRAINING (no new work) and asks it to drain.
  absl::StatusOr<quarry::v1::Worker> RequestDrain(const std::string& worker_id)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The worker left on purpose: forget it.
  absl::Status OnDeregisterWorker(const std::string& worker_id)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Claims `output_dir` for job `job_id` until the job ends (or
  // ReleaseOutputDir), so two running jobs never write into one directory.
  // FAILED_PRECONDITION naming the other job if it is taken.
  absl::Status ReserveOutputDir(const std::string& output_dir,
                                const std::string& job_id)
      ABSL_LOCKS_EXCLUDED(mu_);
  void ReleaseOutputDir(const std::string& output_dir) ABSL_LOCKS_EXCLUDED(mu_);

  // A snapshot of jobs, tasks, workers and slots now, and the counts so
  // far (for metrics). Takes mu_ once; any thread.
  ControllerStats Stats() ABSL_LOCKS_EXCLUDED(mu_);
  // Tasks not yet ended (pending, assigned, running) of every job,
  // including jobs submitted since the last step.
  int64_t UnfinishedTasks() ABSL_LOCKS_EXCLUDED(mu_);

  // The kinds submissions may name: built-ins and the plugin kinds of the
  // registered workers. Thread-safe (its own lock).
  const KindLookup* kinds() const { return &kinds_; }

  absl::Duration heartbeat_interval() const {
    return options_.heartbeat_interval;
  }

  // How long RunOnce steps took so far (the step under the lock plus
  // applying its effects), in real time and in CPU time of the thread that
  // ran them (the difference is time spent waiting for a core). The loop
  // also logs both every minute and at Stop.
  TickStats::Summary tick_stats() const { return tick_stats_.Get(); }
  TickStats::Summary tick_cpu_stats() const { return tick_cpu_stats_.Get(); }

 private:
  void Loop();
  void Wake() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Steps of RunOnce, in order; `lifecycle` applies what they learn of
  // attempts to the owners of state.
  void IngestEvents(AttemptLifecycle& lifecycle, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateClusterHealth(absl::Time now, AttemptLifecycle& lifecycle,
                           Effects* effects) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshJobs(absl::Time now, AttemptLifecycle& lifecycle,
                   Effects* effects) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CollectWrites(absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A worker leaves the pool (its attempts are LOST, not as failures).
  void ForgetWorker(const std::string& worker_id, const std::string& why,
                    AttemptLifecycle& lifecycle, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // EffectsSink: what the applier reports, recorded under mu_.
  void OnStoreWritten(bool backlog, int64_t starts_delta) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnStartAnswered(StartResult result, bool urgent) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void OnProbeAnswered(ProbeResult result) override ABSL_LOCKS_EXCLUDED(mu_);
  void OnCancelAnswered() override ABSL_LOCKS_EXCLUDED(mu_);

  Store* const store_;
  WorkerClientFactory* const clients_;
  OutputFinalizer* const finalizer_;
  const Clock* const clock_;
  ChangeNotifier* const notifier_;
  const ControllerOptions options_;
  History* const history_;
  LeaderObserver* const observer_;

  absl::Mutex mu_;
  bool wake_requested_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t rpcs_in_flight_ ABSL_GUARDED_BY(mu_) = 0;

  // Updated by workers_ (under mu_), read by submissions (without it):
  // thread-safe on its own. Declared before workers_, which points to it.
  KindCatalog kinds_;
  // The owners of state (plain classes, guarded here).
  JobTable jobs_ ABSL_GUARDED_BY(mu_);
  WorkerPool workers_ ABSL_GUARDED_BY(mu_);
  AttemptTable attempts_ ABSL_GUARDED_BY(mu_);
  ControllerCounts counts_ ABSL_GUARDED_BY(mu_);
  // The store writer has a backlog (the store is down): dispatch pauses.
  bool store_backlog_ ABSL_GUARDED_BY(mu_) = false;

  // Inbox: events recorded by handlers, consumed by the next RunOnce.
  std::vector<std::pair<quarry::v1::Job, TaskPlan>> submitted_
      ABSL_GUARDED_BY(mu_);
  // (reporting worker id, status).
  std::vector<std::pair<std::string, quarry::v1::AttemptStatus>> reported_
      ABSL_GUARDED_BY(mu_);
  // Live attempts of a worker that registered again: they are LOST.
  std::vector<std::string> orphaned_ ABSL_GUARDED_BY(mu_);
  std::vector<StartResult> start_results_ ABSL_GUARDED_BY(mu_);
  std::vector<ProbeResult> probe_results_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> cancel_requests_ ABSL_GUARDED_BY(mu_);
  // Workers whose stream broke, and workers that left on purpose.
  std::vector<std::string> disconnected_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> deregistered_ ABSL_GUARDED_BY(mu_);

  const Dispatcher dispatcher_;
  // Used only by the thread that runs RunOnce, outside mu_.
  EffectsApplier applier_;

  TickStats tick_stats_;
  TickStats tick_cpu_stats_;
  std::thread thread_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_CONTROLLER_H_

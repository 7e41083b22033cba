#ifndef QUARRY_LEADER_CONTROLLER_H_
#define QUARRY_LEADER_CONTROLLER_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/store.h"
#include "leader/change_notifier.h"
#include "leader/controller_stats.h"
#include "leader/history.h"
#include "leader/leader_observer.h"
#include "leader/output_finalizer.h"
#include "leader/store_writer.h"
#include "leader/task_plan.h"
#include "leader/tick_stats.h"
#include "leader/worker_client.h"
#include "leader/worker_link.h"
#include "quarry/v1/cluster_service.pb.h"
#include "quarry/v1/worker_service.pb.h"

namespace quarry {

struct ControllerOptions {
  // The timer: RunOnce runs at least this often, and also at once on events.
  absl::Duration tick = absl::Milliseconds(100);
  // Deadline of every leader→worker RPC.
  absl::Duration worker_rpc_timeout = absl::Seconds(2);
  // A worker silent this long is probed (GetWorkerState); at most this
  // often.
  absl::Duration probe_interval = absl::Milliseconds(100);
  // A worker that is never silent (it reports all the time) is still
  // probed this often, to reconcile the attempts it runs.
  absl::Duration reconcile_interval = absl::Seconds(1);
  // Silence after which a worker is SUSPECT (no new work) and DEAD (its
  // attempts are LOST and their tasks re-queued).
  absl::Duration suspect_after = absl::Milliseconds(500);
  absl::Duration dead_after = absl::Seconds(1);
  // DEAD workers are forgotten after this long.
  absl::Duration forget_dead_after = absl::Minutes(10);
  // Told to workers at registration.
  absl::Duration heartbeat_interval = absl::Milliseconds(500);
  // A worker record whose slots changed (but not its status) is stored at
  // most this often, so GetCluster's slot view may lag this much.
  absl::Duration slot_write_interval = absl::Milliseconds(100);
  // After Restore(), attempts the store shows running wait this long for
  // their worker to register again and report them (adoption); then they
  // are LOST and their tasks re-queued.
  absl::Duration adopt_within = absl::Seconds(5);
  // A task that could not even be started (worker refused it, RPC failed)
  // this many times beyond its max_attempts fails, so a broken cluster
  // cannot loop forever.
  int32_t max_dispatches_per_task = 20;
  // Tasks go to a worker's queue places (RegisterWorkerRequest.queue) only
  // when no slot is idle and only for jobs whose attempts have so far run
  // shorter than this on average: a queued task then waits little, and a
  // stream of short tasks keeps every slot busy. Zero: never queue.
  absl::Duration queue_tasks_shorter_than = absl::Milliseconds(50);
  // A step that takes longer is logged with where its time went.
  absl::Duration slow_step = absl::Milliseconds(50);
  // Work one step does at most, so that steps stay short however big the
  // cluster; what is left is done by the next step, at once.
  size_t max_reports_per_step = 1024;  // Attempt statuses taken in.
  int64_t max_starts_per_step = 256;   // Attempts dispatched.
  int max_workers_per_step = 32;       // StartTasks batches sent.
  int max_probes_per_step = 256;
  int max_lazy_worker_writes_per_step = 256;  // Slot or heartbeat updates.
};

// The single writer of task, attempt and worker state: the control loop of
// the leader, done the LevelDB way. One global mutex `mu_` protects all
// state; event handlers (submissions, worker registrations and reports, RPC
// completions, cancels) record the event under `mu_` and wake the loop.
// RunOnce(now) does one step under `mu_`: (1) cluster health, (2) job state
// refresh from reported attempt statuses, (3) rebalance of runnable tasks
// onto free slots, batched per worker. Store writes, output finalization and
// worker RPCs happen after `mu_` is released, so a slow worker or store never
// stalls the loop. RunOnce is called by the controller thread (Start) or by
// tests with a FakeClock; never by two threads at once.
class Controller {
 public:
  // `history` may be null (no execution history is kept). `observer` (may
  // be null) is told of each step's duration and of failed store writes.
  Controller(Store* store, WorkerClientFactory* clients,
             OutputFinalizer* finalizer, const Clock* clock,
             ChangeNotifier* notifier, ControllerOptions options,
             History* history = nullptr, LeaderObserver* observer = nullptr);
  ~Controller();
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
  absl::StatusOr<int64_t> OnWorkerConnected(const std::string& worker_id,
                                            std::shared_ptr<WorkerLink> link)
      ABSL_LOCKS_EXCLUDED(mu_);
  // The stream broke: the worker is DEAD at once (its attempts are LOST and
  // re-queued), unless a newer connection of the same worker exists.
  void OnWorkerDisconnected(const std::string& worker_id, int64_t connection_id)
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
  struct TaskRuntime;
  struct JobRuntime;
  struct WorkerRuntime;
  struct AttemptRef {
    std::string job_id;
    int32_t task_index = 0;
    int32_t attempt_number = 0;
    std::string worker_id;
    int32_t slot = 0;        // -1: restored, not yet adopted.
    bool accepted = false;   // The worker confirmed it runs.
    absl::Time accepted_at;  // Leader time of the confirmation.
  };
  // RPC results waiting for the loop.
  struct StartResult {
    std::string worker_id;
    std::vector<std::string> attempt_ids;
    absl::Time received_at;  // Leader time of the answer.
    absl::StatusOr<quarry::v1::StartTasksResponse> response;
  };
  struct ProbeResult {
    std::string worker_id;
    absl::Time sent_at;
    absl::StatusOr<quarry::v1::GetWorkerStateResponse> response;
  };
  // Attempts to start on one worker (one StartTasks call).
  struct StartBatch {
    std::shared_ptr<WorkerClient> client;
    quarry::v1::StartTasksRequest request;
  };
  // Everything a step decided that must happen outside the lock.
  struct Effects;

  void Loop();
  void Wake() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Steps of RunOnce.
  void IngestEvents(absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void UpdateClusterHealth(absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void RefreshJobs(absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Rebalance(absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Where Rebalance places tasks: idle slots (tasks of any job), or the
  // free places left, queue places included (tasks of Queueable jobs).
  enum class Tier { kIdleSlots, kQueue };
  // Dispatches one runnable task (oldest job first) per entry of
  // `placement` (indices into `schedulable`) into `batches`; returns how
  // many.
  int64_t PlaceTasks(const std::vector<int32_t>& placement,
                     const std::vector<WorkerRuntime*>& schedulable, Tier tier,
                     std::vector<quarry::v1::StartTasksRequest>& batches)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether `job`'s tasks may wait in a worker's queue: its attempts have
  // been short (ControllerOptions::queue_tasks_shorter_than).
  bool Queueable(const JobRuntime& job) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void CollectWrites(absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Apply(Effects effects) ABSL_LOCKS_EXCLUDED(mu_);

  // The runtime of a new job: every task PENDING.
  std::unique_ptr<JobRuntime> MakeJobRuntime(quarry::v1::Job job,
                                             TaskPlan plan) const;
  // A job's runtime from its stored record and tasks (restored: tasks
  // ASSIGNED or RUNNING become attempts awaiting adoption).
  std::unique_ptr<JobRuntime> RestoreJobRuntime(
      quarry::v1::Job job, const std::vector<quarry::v1::Task>& tasks)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Registration of `worker` (fresh runtime) with the attempts it reports:
  // live attempts of the leader there are kept in their slots and their
  // reported status applied; `expected` ones it does not report are LOST;
  // reported work the leader does not run keeps its slot busy.
  void AdoptAttempts(
      WorkerRuntime& worker,
      const google::protobuf::RepeatedPtrField<quarry::v1::AttemptStatus>&
          reported,
      std::vector<std::string> expected) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Restored attempts whose worker did not come back in time are LOST.
  void ExpireUnadopted(absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Event handling.
  void ApplyAttemptStatus(const std::string& worker_id,
                          const quarry::v1::AttemptStatus& status,
                          absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleStartResult(StartResult result, absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleProbeResult(ProbeResult result, absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void HandleCancel(const std::string& job_id, absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends attempts that outlived their job's task_timeout (retried).
  void EnforceTaskTimeouts(absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A worker's report of an attempt the leader no longer runs frees the
  // slot that was held for it.
  void ReleaseStaleSlot(const std::string& worker_id,
                        const quarry::v1::AttemptStatus& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Keeps `slot` busy until the worker reports `attempt_id` ended (after
  // the leader gave up on an attempt the worker may still run).
  void HoldSlotUntilReported(const std::string& worker_id, int32_t slot,
                             const std::string& attempt_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void ForgetWorker(const std::string& worker_id, const std::string& why,
                    absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // State changes.
  void SetTaskStatus(JobRuntime& job, int32_t index,
                     quarry::v1::ExecutionStatus status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Ends the live attempt `attempt_id` with `status`: frees its slot and
  // either records the result, re-queues the task or fails it.
  void EndAttempt(const std::string& attempt_id,
                  quarry::v1::ExecutionStatus status, const std::string& error,
                  bool counts_as_failure, absl::Time now, Effects* effects,
                  const quarry::v1::AttemptStatus* report = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FinishJob(JobRuntime& job, quarry::v1::JobState state,
                 const std::string& error, absl::Time now, Effects* effects)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void MarkWorkerUnreachable(WorkerRuntime& worker, const std::string& why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void LoseWorkerAttempts(WorkerRuntime& worker, const std::string& why,
                          absl::Time now, Effects* effects,
                          bool counts_as_failure = true)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  JobRuntime* FindJob(const std::string& job_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The index of `worker_id` in worker_names_ (added if new).
  int32_t WorkerName(const std::string& worker_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The store's record of task `index`.
  quarry::v1::Task TaskRecord(const JobRuntime& job, int32_t index) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  quarry::v1::Worker WorkerRecord(const WorkerRuntime& worker) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

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
  int64_t last_connection_id_ ABSL_GUARDED_BY(mu_) = 0;
  ControllerCounts counts_ ABSL_GUARDED_BY(mu_);

  // Jobs that are not finished, by sequence number (dispatch order).
  std::map<int64_t, std::unique_ptr<JobRuntime>> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<WorkerRuntime>> workers_
      ABSL_GUARDED_BY(mu_);
  // Live attempts (ASSIGNED or RUNNING) by id.
  absl::flat_hash_map<std::string, AttemptRef> attempts_ ABSL_GUARDED_BY(mu_);
  // Workers whose record must be written to the store.
  absl::flat_hash_set<std::string> dirty_workers_ ABSL_GUARDED_BY(mu_);
  // Output directories of jobs that have not ended, to their job ids.
  absl::flat_hash_map<std::string, std::string> output_dirs_in_use_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::string> forgotten_workers_ ABSL_GUARDED_BY(mu_);
  // Every worker id ever seen, interned: tasks name their worker by index.
  std::vector<std::string> worker_names_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int32_t> worker_name_index_
      ABSL_GUARDED_BY(mu_);
  // Restored attempts not yet adopted (no slot yet), by worker id, and when
  // they stop waiting.
  absl::flat_hash_map<std::string, std::vector<std::string>> unadopted_
      ABSL_GUARDED_BY(mu_);
  absl::Time adopt_deadline_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  // The store writer has a backlog (the store is down): dispatch pauses.
  bool store_backlog_ ABSL_GUARDED_BY(mu_) = false;
  // Used only by the thread that runs RunOnce (in Apply, outside mu_): the
  // store writer, and StartTasks batches held back while the store is down.
  StoreWriter store_writer_;
  std::vector<StartBatch> deferred_starts_;

  TickStats tick_stats_;
  TickStats tick_cpu_stats_;
  std::thread thread_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROLLER_H_

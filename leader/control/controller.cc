#include "leader/control/controller.h"

#include <glog/logging.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "leader/scheduling/placement.h"

namespace quarry {

using quarry::v1::ExecutionStatus;

Controller::Controller(Store* store, WorkerClientFactory* clients,
                       OutputFinalizer* finalizer, const Clock* clock,
                       ChangeNotifier* notifier, ControllerOptions options,
                       History* history, LeaderObserver* observer)
    : store_(store),
      clients_(clients),
      finalizer_(finalizer),
      clock_(clock),
      notifier_(notifier),
      options_(options),
      history_(history),
      observer_(observer),
      workers_(options, &kinds_),
      dispatcher_(options),
      applier_(store, finalizer, history, notifier, observer,
               options.worker_rpc_timeout, this) {}

Controller::~Controller() { Stop(); }

void Controller::Start() {
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

void Controller::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    Wake();
  }
  if (thread_.joinable()) {
    thread_.join();
    LOG(INFO) << "controller tick durations: "
              << TickStats::Format(tick_stats_.Get())
              << "; on CPU: " << TickStats::Format(tick_cpu_stats_.Get());
  }
  // RPC callbacks touch this object: wait for them (bounded by deadlines).
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return rpcs_in_flight_ == 0;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&idle),
                            options_.worker_rpc_timeout * 2)) {
    LOG(WARNING) << rpcs_in_flight_ << " worker RPCs still in flight at stop";
  }
}

void Controller::Wake() { wake_requested_ = true; }

void Controller::Loop() {
  constexpr absl::Duration kStatsLogInterval = absl::Minutes(1);
  absl::Time next_tick = absl::Now() + options_.tick;
  absl::Time next_stats_log = absl::Now() + kStatsLogInterval;
  while (true) {
    if (absl::Now() >= next_stats_log) {
      next_stats_log = absl::Now() + kStatsLogInterval;
      LOG(INFO) << "controller tick durations: "
                << TickStats::Format(tick_stats_.Get())
                << "; on CPU: " << TickStats::Format(tick_cpu_stats_.Get());
    }
    {
      absl::MutexLock lock(&mu_);
      auto woken = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return wake_requested_ || stopping_;
      };
      mu_.AwaitWithDeadline(absl::Condition(&woken), next_tick);
      if (stopping_) return;
      wake_requested_ = false;
    }
    if (absl::Now() >= next_tick) next_tick = absl::Now() + options_.tick;
    RunOnce(clock_->Now());
  }
}

void Controller::RunOnce(absl::Time now) {
  StepTimer timer;  // Real time, even under a FakeClock.
  Effects effects;
  size_t starts = 0, writes = 0;
  {
    absl::MutexLock lock(&mu_);
    timer.Mark();
    AttemptLifecycle lifecycle(jobs_, workers_, attempts_, counts_, options_,
                               history_ != nullptr, now, &effects);
    IngestEvents(lifecycle, &effects);
    timer.Mark();
    UpdateClusterHealth(now, lifecycle, &effects);
    RefreshJobs(now, lifecycle, &effects);
    timer.Mark();
    // While the store is down nothing new starts: a leader restart must
    // find every running attempt in the store.
    if (!store_backlog_ && dispatcher_.Rebalance(jobs_, workers_, attempts_,
                                                 counts_, &effects.starts)) {
      Wake();  // Work was left for the next step.
    }
    timer.Mark();
    CollectWrites(now, &effects);
    timer.Mark();
    rpcs_in_flight_ +=
        effects.starts.size() + effects.cancels.size() + effects.probes.size();
    starts = effects.starts.size();
    for (const auto& [job, tasks] : effects.writes.tasks)
      writes += tasks.size();
  }
  applier_.Apply(std::move(effects));
  const absl::Duration took = timer.Finish(tick_stats_, tick_cpu_stats_,
                                           options_.slow_step, starts, writes);
  if (observer_ != nullptr) observer_->OnControllerStep(took);
}

// ---- Events (any thread): recorded under mu_, taken in by the next step.

void Controller::OnJobSubmitted(const quarry::v1::Job& job, TaskPlan tasks) {
  absl::MutexLock lock(&mu_);
  submitted_.emplace_back(job, std::move(tasks));
  Wake();
}

absl::Status Controller::RequestCancel(absl::string_view job_id) {
  absl::MutexLock lock(&mu_);
  const JobRuntime* job = jobs_.Find(std::string(job_id));
  bool known = job != nullptr && !job->finished;
  for (const auto& [submitted, tasks] : submitted_) {
    known |= submitted.id() == job_id;
  }
  if (!known) {
    return absl::NotFoundError(absl::StrCat("job ", job_id, " is not running"));
  }
  cancel_requests_.emplace_back(job_id);
  Wake();
  return absl::OkStatus();
}

absl::Status Controller::ReserveOutputDir(const std::string& output_dir,
                                          const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  return jobs_.ReserveOutputDir(output_dir, job_id);
}

void Controller::ReleaseOutputDir(const std::string& output_dir) {
  absl::MutexLock lock(&mu_);
  jobs_.ReleaseOutputDir(output_dir);
}

absl::Status Controller::OnRegisterWorker(
    const quarry::v1::RegisterWorkerRequest& request) {
  std::unique_ptr<WorkerRuntime> worker = WorkerRuntime::FromRegistration(
      request, clients_->Connect(request.worker_id(), request.address()),
      clock_->Now());
  std::shared_ptr<WorkerLink> old_link;
  {
    absl::MutexLock lock(&mu_);
    WorkerPool::Registration registration =
        workers_.Register(std::move(worker), request.attempts_size());
    old_link = std::move(registration.old_link);
    // A restarted worker reports nothing: what it ran is LOST. A worker
    // that only lost touch (or outlived a leader restart) keeps its work.
    AttemptTable::Adoption adoption =
        attempts_.Adopt(*registration.worker, request.attempts(),
                        std::move(registration.expected));
    for (quarry::v1::AttemptStatus& status : adoption.reports) {
      reported_.emplace_back(request.worker_id(), std::move(status));
    }
    for (std::string& attempt_id : adoption.orphaned) {
      orphaned_.push_back(std::move(attempt_id));
    }
    Wake();
  }
  if (old_link != nullptr) old_link->Close();
  return absl::OkStatus();
}

absl::Status Controller::OnWorkerReport(
    const quarry::v1::ReportWorkerStateRequest& report) {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  if (absl::Status known =
          workers_.NoteReport(report.worker_id(), report.draining(), now);
      !known.ok()) {
    return known;
  }
  for (const quarry::v1::AttemptStatus& status : report.attempts()) {
    reported_.emplace_back(report.worker_id(), status);
  }
  Wake();
  return absl::OkStatus();
}

absl::StatusOr<int64_t> Controller::OnWorkerConnected(
    const std::string& worker_id, std::shared_ptr<WorkerLink> link) {
  absl::StatusOr<WorkerPool::Connection> connection;
  {
    absl::MutexLock lock(&mu_);
    connection = workers_.Connect(worker_id, link, clock_->Now());
    if (!connection.ok()) return connection.status();
    Wake();
  }
  if (connection->replaced != nullptr && connection->replaced != link) {
    connection->replaced->Close();
  }
  if (connection->drain) link->SendDrain();
  return connection->id;
}

void Controller::OnWorkerDisconnected(const std::string& worker_id,
                                      int64_t connection_id) {
  absl::MutexLock lock(&mu_);
  if (!workers_.Disconnect(worker_id, connection_id)) return;
  disconnected_.push_back(worker_id);
  Wake();
}

quarry::v1::RequestCommitResponse Controller::OnCommitRequest(
    const std::string& worker_id, const std::string& attempt_id) {
  quarry::v1::RequestCommitResponse response;
  absl::MutexLock lock(&mu_);
  std::string refusal = attempts_.CommitRefusal(worker_id, attempt_id);
  if (refusal.empty()) {
    refusal = jobs_.CommitRefusal(attempt_id, *attempts_.Find(attempt_id));
  }
  response.set_granted(refusal.empty());
  response.set_reason(std::move(refusal));
  return response;
}

absl::StatusOr<quarry::v1::Worker> Controller::RequestDrain(
    const std::string& worker_id) {
  std::shared_ptr<WorkerLink> link;
  quarry::v1::Worker record;
  {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<WorkerRuntime*> worker = workers_.Drain(worker_id);
    if (!worker.ok()) return worker.status();
    link = (*worker)->link;
    record = workers_.Record(**worker, attempts_);
    Wake();
  }
  link->SendDrain();
  return record;
}

absl::Status Controller::OnDeregisterWorker(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  if (workers_.Find(worker_id) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("worker ", worker_id, " is not registered"));
  }
  deregistered_.push_back(worker_id);
  Wake();
  return absl::OkStatus();
}

// EffectsSink: the applier's reports and the RPCs' answers.

void Controller::OnStoreWritten(bool backlog, int64_t starts_delta) {
  absl::MutexLock lock(&mu_);
  store_backlog_ = backlog;
  rpcs_in_flight_ += starts_delta;
}

void Controller::OnStartAnswered(StartResult result, bool urgent) {
  absl::MutexLock lock(&mu_);
  result.received_at = clock_->Now();
  start_results_.push_back(std::move(result));
  --rpcs_in_flight_;
  if (urgent) Wake();
}

void Controller::OnProbeAnswered(ProbeResult result) {
  absl::MutexLock lock(&mu_);
  probe_results_.push_back(std::move(result));
  --rpcs_in_flight_;
  Wake();
}

void Controller::OnCancelAnswered() {
  absl::MutexLock lock(&mu_);
  --rpcs_in_flight_;
}

// ---- The steps (the loop thread, under mu_).

void Controller::IngestEvents(AttemptLifecycle& lifecycle, Effects* effects) {
  for (auto& [job, plan] : submitted_) {
    auto runtime =
        std::make_unique<JobRuntime>(std::move(job), std::move(plan));
    runtime->dirty = false;  // Stored as submitted.
    ++counts_.jobs_submitted;
    jobs_.Add(std::move(runtime));
  }
  submitted_.clear();
  lifecycle.LoseAll(orphaned_,
                    "the worker restarted and no longer runs this attempt",
                    /*counts_as_failure=*/true);
  orphaned_.clear();
  for (StartResult& result : start_results_) {
    lifecycle.HandleStartResult(std::move(result));
  }
  start_results_.clear();
  // A flood of reports (a thousand busy workers) is taken in portions, so
  // that no step grows long; the next step follows at once.
  const size_t reports =
      std::min(reported_.size(), options_.max_reports_per_step);
  for (size_t i = 0; i < reports; ++i) {
    lifecycle.ApplyStatus(reported_[i].first, reported_[i].second);
  }
  reported_.erase(reported_.begin(), reported_.begin() + reports);
  if (!reported_.empty()) {
    Wake();
  } else {
    // Probe answers only once every report before them is in: an answer
    // that misses an attempt whose DONE report waits here would wrongly
    // make it LOST.
    for (ProbeResult& result : probe_results_) {
      lifecycle.HandleProbeResult(std::move(result));
    }
    probe_results_.clear();
  }
  for (const std::string& job_id : cancel_requests_) {
    JobRuntime* job = jobs_.Find(job_id);
    if (job == nullptr || job->finished) continue;
    lifecycle.FinishJob(*job, quarry::v1::JOB_STATE_CANCELLED,
                        "cancelled by request");
  }
  cancel_requests_.clear();
  for (const std::string& worker_id : disconnected_) {
    WorkerRuntime* worker = workers_.Find(worker_id);
    if (worker == nullptr || !worker->disconnected) continue;
    LOG(INFO) << "worker " << worker_id
              << " lost its connection: DEAD, its attempts are re-queued";
    workers_.MarkDisconnectedDead(*worker);
    lifecycle.LoseAll(workers_.ClearPlaces(*worker),
                      absl::StrCat("the connection to worker ", worker_id,
                                   " broke (the worker died or left)"),
                      /*counts_as_failure=*/true);
  }
  disconnected_.clear();
  for (const std::string& worker_id : deregistered_) {
    ForgetWorker(worker_id, "the worker left the cluster", lifecycle, effects);
  }
  deregistered_.clear();
}

// (1) Cluster health: restored attempts whose worker did not come back in
// time are LOST; silence turns a worker SUSPECT, then DEAD (its attempts
// are LOST); long-dead workers are forgotten; all are probed.
void Controller::UpdateClusterHealth(absl::Time now,
                                     AttemptLifecycle& lifecycle,
                                     Effects* effects) {
  for (auto& [worker_id, attempt_ids] :
       attempts_.TakeUnadoptedPastDeadline(now)) {
    LOG(INFO) << "worker " << worker_id << " did not come back within "
              << absl::FormatDuration(options_.adopt_within)
              << " of the leader's restart: " << attempt_ids.size()
              << " attempts LOST";
    lifecycle.LoseAll(
        attempt_ids,
        absl::StrCat("worker ", worker_id,
                     " did not come back after the leader restarted"),
        /*counts_as_failure=*/false);
  }
  std::vector<WorkerPool::Lost> lost;
  workers_.UpdateHealth(now, &effects->probes, &lost);
  for (const WorkerPool::Lost& work : lost) {
    lifecycle.LoseAll(work.attempt_ids, work.why, /*counts_as_failure=*/true);
  }
}

// (2) Job state refresh: attempts past their job's task_timeout end; jobs
// move to RUNNING, DONE or FAILED from their task counts; finished jobs are
// tidied once no attempt of theirs runs (CollectWrites).
void Controller::RefreshJobs(absl::Time now, AttemptLifecycle& lifecycle,
                             Effects* effects) {
  lifecycle.EnforceTaskTimeouts();
  const KindSet& alive_kinds = workers_.AliveKinds();
  for (auto& [sequence, runtime] : jobs_) {
    JobRuntime& job = *runtime;
    if (job.finished) continue;
    job.NoteKindOffered(alive_kinds.contains(job.job.spec().kind()));
    const quarry::v1::TaskCounts& counts = job.job.task_counts();
    if (job.job.state() == quarry::v1::JOB_STATE_PENDING &&
        counts.running() + counts.done() > 0) {
      job.job.set_state(quarry::v1::JOB_STATE_RUNNING);
      *job.job.mutable_start_time() = ToProtoTime(now);
      job.dirty = true;
      effects->state_changed = true;
    }
    if (counts.failed() > 0) {
      lifecycle.FinishJob(job, quarry::v1::JOB_STATE_FAILED,
                          absl::StrJoin(job.failure_reasons, "; "));
    } else if (counts.done() == job.job.task_count()) {
      lifecycle.FinishJob(job, quarry::v1::JOB_STATE_DONE, "");
    }
  }
}

void Controller::ForgetWorker(const std::string& worker_id,
                              const std::string& why,
                              AttemptLifecycle& lifecycle, Effects* effects) {
  WorkerRuntime* worker = workers_.Find(worker_id);
  if (worker == nullptr) return;
  LOG(INFO) << "worker " << worker_id << " leaves: " << why;
  lifecycle.LoseAll(workers_.ClearPlaces(*worker), why,
                    /*counts_as_failure=*/false);
  if (std::shared_ptr<WorkerLink> link = workers_.Forget(worker_id)) {
    effects->closes.push_back(std::move(link));
  }
}

void Controller::CollectWrites(absl::Time now, Effects* effects) {
  std::vector<quarry::v1::Job> done_with;
  jobs_.CollectWrites(workers_.names(), &effects->writes, &done_with);
  if (history_ != nullptr) effects->ended_jobs = done_with;
  effects->finalize = std::move(done_with);
  workers_.CollectWrites(now, attempts_, &effects->writes);
}

// ---- Restore and stats.

absl::Status Controller::Restore(absl::Time now) {
  absl::StatusOr<std::vector<StoredJob>> stored = ReadUnfinishedJobs(*store_);
  if (!stored.ok()) return stored.status();
  absl::StatusOr<std::vector<quarry::v1::Worker>> workers =
      store_->ListWorkers();
  if (!workers.ok()) return workers.status();
  for (const quarry::v1::Worker& worker : *workers) {
    if (absl::Status deleted = store_->DeleteWorker(worker.id());
        !deleted.ok()) {
      return deleted;
    }
  }

  absl::MutexLock lock(&mu_);
  for (auto& [job, tasks] : *stored) {
    std::vector<RestoredAttempt> live;
    std::unique_ptr<JobRuntime> runtime = JobRuntime::Restore(
        std::move(job), tasks,
        [this](const std::string& id)
            ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return workers_.Intern(id); },
        &live);
    for (RestoredAttempt& attempt : live) {
      attempts_.AddUnadopted(attempt.attempt_id,
                             AttemptRef{runtime->job.id(),
                                        attempt.task_index,
                                        attempt.attempt_number,
                                        attempt.worker_id,
                                        -1,
                                        false,
                                        {}});
    }
    jobs_.ClaimRestoredOutputDir(runtime->job.spec().output_dir(),
                                 runtime->job.id());
    runtime->dirty = true;  // Its counts were recomputed from its tasks.
    jobs_.Add(std::move(runtime));
  }
  attempts_.set_adopt_deadline(now + options_.adopt_within);
  LOG(INFO) << "restored " << stored->size()
            << " unfinished jobs from the store; " << attempts_.size()
            << " running attempts wait for their workers";
  Wake();
  return absl::OkStatus();
}

int64_t Controller::UnfinishedTasks() {
  absl::MutexLock lock(&mu_);
  int64_t tasks = jobs_.UnfinishedTasks();
  for (const auto& [job, plan] : submitted_) tasks += plan.task_count();
  return tasks;
}

ControllerStats Controller::Stats() {
  ControllerStats stats = ControllerStats::Zero();
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  jobs_.AddStats(&stats);
  workers_.AddStats(now, &stats);
  stats.store_backlog = store_backlog_;
  stats.counts = counts_;
  return stats;
}

}  // namespace quarry

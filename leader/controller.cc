// The controller's loop, event handlers and effects. The three steps of
// RunOnce live in controller_steps.cc.
#include "leader/controller.h"

#include <algorithm>
#include <utility>

#include <glog/logging.h>

#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/time_util.h"
#include "leader/controller_state.h"

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
      store_writer_(store) {}

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
  // Real time (even under a FakeClock), for the tick statistics and the
  // slow-step warning.
  absl::Time marks[8];
  marks[0] = absl::Now();
  const absl::Duration cpu_start = ThreadCpuTime();
  Effects effects;
  size_t starts = 0, writes = 0;
  {
    absl::MutexLock lock(&mu_);
    marks[1] = absl::Now();
    IngestEvents(now, &effects);
    marks[2] = absl::Now();
    UpdateClusterHealth(now, &effects);
    RefreshJobs(now, &effects);
    marks[3] = absl::Now();
    Rebalance(now, &effects);
    marks[4] = absl::Now();
    CollectWrites(now, &effects);
    marks[5] = absl::Now();
    rpcs_in_flight_ += effects.starts.size() + effects.cancels.size() +
                       effects.probes.size();
    starts = effects.starts.size();
    for (const auto& [job, tasks] : effects.writes.tasks) writes += tasks.size();
  }
  Apply(std::move(effects));
  marks[6] = absl::Now();
  const absl::Duration took = marks[6] - marks[0];
  const absl::Duration cpu = ThreadCpuTime() - cpu_start;
  tick_stats_.Record(took);
  tick_cpu_stats_.Record(cpu);
  if (observer_ != nullptr) observer_->OnControllerStep(took);
  if (took >= options_.slow_step) {
    auto ms = [&marks](int from, int to) {
      return absl::ToDoubleMilliseconds(marks[to] - marks[from]);
    };
    LOG(WARNING) << "slow controller step: " << absl::FormatDuration(took)
                 << " (" << absl::FormatDuration(cpu) << " on CPU)"
                 << " (lock wait " << ms(0, 1) << " ms, events " << ms(1, 2)
                 << " ms, health+refresh " << ms(2, 3) << " ms, rebalance "
                 << ms(3, 4) << " ms, collect " << ms(4, 5) << " ms, apply "
                 << ms(5, 6) << " ms; " << starts << " StartTasks, " << writes
                 << " task writes)";
  }
}

void Controller::OnJobSubmitted(const quarry::v1::Job& job, TaskPlan tasks) {
  absl::MutexLock lock(&mu_);
  submitted_.emplace_back(job, std::move(tasks));
  Wake();
}

absl::Status Controller::RequestCancel(absl::string_view job_id) {
  absl::MutexLock lock(&mu_);
  bool known = false;
  if (JobRuntime* job = FindJob(std::string(job_id)); job != nullptr) {
    known = !job->finished;
  }
  for (const auto& [job, tasks] : submitted_) known |= job.id() == job_id;
  if (!known) {
    return absl::NotFoundError(
        absl::StrCat("job ", job_id, " is not running"));
  }
  cancel_requests_.emplace_back(job_id);
  Wake();
  return absl::OkStatus();
}

absl::Status Controller::ReserveOutputDir(const std::string& output_dir,
                                          const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = output_dirs_in_use_.try_emplace(output_dir, job_id);
  if (!inserted) {
    return absl::FailedPreconditionError(
        absl::StrCat("output_dir \"", output_dir, "\" is in use by job ",
                     it->second, ", which has not finished"));
  }
  return absl::OkStatus();
}

void Controller::ReleaseOutputDir(const std::string& output_dir) {
  absl::MutexLock lock(&mu_);
  output_dirs_in_use_.erase(output_dir);
}

Controller::JobRuntime* Controller::FindJob(const std::string& job_id) {
  std::optional<int64_t> sequence = ParseJobId(job_id);
  if (!sequence.has_value()) return nullptr;
  auto it = jobs_.find(*sequence);
  return it == jobs_.end() ? nullptr : it->second.get();
}

int32_t Controller::WorkerName(const std::string& worker_id) {
  auto [it, inserted] = worker_name_index_.try_emplace(
      worker_id, static_cast<int32_t>(worker_names_.size()));
  if (inserted) worker_names_.push_back(worker_id);
  return it->second;
}

quarry::v1::Task Controller::TaskRecord(const JobRuntime& job,
                                        int32_t index) const {
  const TaskRuntime& runtime = job.tasks[index];
  quarry::v1::Task task = job.plan.MakeTask(index);
  task.set_status(runtime.execution_status());
  task.set_attempts(runtime.attempts);
  if (runtime.attempts > 0) {
    task.set_attempt_id(FormatAttemptId(job.job.id(), index, runtime.attempts));
  }
  if (runtime.worker >= 0) task.set_worker_id(worker_names_[runtime.worker]);
  if (auto it = job.errors.find(index); it != job.errors.end()) {
    task.set_error(it->second);
  }
  if (auto it = job.summaries.find(index); it != job.summaries.end()) {
    task.set_summary(it->second);
  }
  task.set_output_bytes(runtime.output_bytes);
  task.set_failed_attempts(runtime.failed_attempts);
  return task;
}

void Controller::IngestEvents(absl::Time now, Effects* effects) {
  for (auto& [job, plan] : submitted_) {
    std::unique_ptr<JobRuntime> runtime =
        MakeJobRuntime(std::move(job), std::move(plan));
    runtime->dirty = false;  // Stored as submitted.
    ++counts_.jobs_submitted;
    jobs_[runtime->sequence] = std::move(runtime);
  }
  submitted_.clear();

  for (const std::string& attempt_id : orphaned_) {
    EndAttempt(attempt_id, quarry::v1::EXECUTION_STATUS_LOST,
               "the worker restarted and no longer runs this attempt",
               /*counts_as_failure=*/true, now, effects);
  }
  orphaned_.clear();
  for (StartResult& result : start_results_) {
    HandleStartResult(std::move(result), now, effects);
  }
  start_results_.clear();
  // A flood of reports (a thousand busy workers) is taken in portions, so
  // that no step grows long; the next step follows at once.
  const size_t reports =
      std::min(reported_.size(), options_.max_reports_per_step);
  for (size_t i = 0; i < reports; ++i) {
    ApplyAttemptStatus(reported_[i].first, reported_[i].second, now, effects);
  }
  reported_.erase(reported_.begin(), reported_.begin() + reports);
  if (!reported_.empty()) {
    Wake();
  } else {
    // Probe answers only once every report before them is in: an answer
    // that misses an attempt whose DONE report waits here would wrongly
    // make it LOST.
    for (ProbeResult& result : probe_results_) {
      HandleProbeResult(std::move(result), now, effects);
    }
    probe_results_.clear();
  }
  for (const std::string& job_id : cancel_requests_) {
    HandleCancel(job_id, now, effects);
  }
  cancel_requests_.clear();
  for (const std::string& worker_id : disconnected_) {
    auto it = workers_.find(worker_id);
    if (it == workers_.end() || !it->second->disconnected) continue;
    LOG(INFO) << "worker " << worker_id
              << " lost its connection: DEAD, its attempts are re-queued";
    it->second->record.set_status(quarry::v1::WORKER_STATUS_DEAD);
    LoseWorkerAttempts(*it->second,
                       absl::StrCat("the connection to worker ", worker_id,
                                    " broke (the worker died or left)"),
                       now, effects);
  }
  disconnected_.clear();
  for (const std::string& worker_id : deregistered_) {
    ForgetWorker(worker_id, "the worker left the cluster", now, effects);
  }
  deregistered_.clear();
}

void Controller::Apply(Effects effects) {
  if (history_ != nullptr) {  // Queued: never blocks.
    for (const auto& attempt : effects.ended_attempts) {
      history_->RecordAttempt(attempt);
    }
    for (const quarry::v1::Job& job : effects.ended_jobs) {
      history_->RecordJob(job);
    }
  }
  for (const quarry::v1::Job& job : effects.finalize) {
    if (absl::Status status = finalizer_->Finalize(job); !status.ok()) {
      LOG(WARNING) << "job " << job.id() << ": " << status;
    }
  }
  const int64_t started = effects.starts.size();  // Counted in flight.
  const bool wrote = !effects.writes.empty();
  const bool had_backlog = store_writer_.backlog() > 0;
  if (wrote || had_backlog) {
    absl::Status written = store_writer_.Write(std::move(effects.writes));
    const bool backlog = store_writer_.backlog() > 0;
    if (!written.ok() && observer_ != nullptr) {
      observer_->OnStoreError(StoreOp::kWrite, written);
    }
    if (!written.ok() && !had_backlog) {
      LOG(ERROR) << "store write failed: " << written
                 << "; no new work is dispatched until the store is back";
    } else if (written.ok() && had_backlog) {
      LOG(INFO) << "the store is back; its backlog is written";
    }
    if (backlog) {
      // The store does not show these attempts yet: a leader restarting now
      // would not know them. Send them once it does.
      for (auto& start : effects.starts) deferred_starts_.push_back(std::move(start));
      effects.starts.clear();
    } else {
      for (auto& start : deferred_starts_) effects.starts.push_back(std::move(start));
      deferred_starts_.clear();
    }
    absl::MutexLock lock(&mu_);
    store_backlog_ = backlog;
    rpcs_in_flight_ = rpcs_in_flight_ - started + effects.starts.size();
  }
  if (wrote || had_backlog) notifier_->Notify(effects.state_changed);

  // RPCs last: the store already shows what they start.
  const absl::Duration timeout = options_.worker_rpc_timeout;
  for (Effects::StartBatch& batch : effects.starts) {
    StartResult result;
    result.worker_id = batch.request.worker_id();
    for (const auto& assignment : batch.request.assignments()) {
      result.attempt_ids.push_back(assignment.attempt_id());
    }
    batch.client->StartTasks(
        std::move(batch.request), timeout,
        [this, result = std::move(result)](
            absl::StatusOr<quarry::v1::StartTasksResponse> response) mutable {
          // Attempts all started need no step of their own: the next one
          // (their completion report, at the latest the tick) records them.
          const bool urgent =
              !response.ok() || !response->rejected().empty();
          absl::MutexLock lock(&mu_);
          result.received_at = clock_->Now();
          result.response = std::move(response);
          start_results_.push_back(std::move(result));
          --rpcs_in_flight_;
          if (urgent) Wake();
        });
  }
  for (Effects::CancelBatch& batch : effects.cancels) {
    const std::string worker_id = batch.request.worker_id();
    batch.client->CancelTasks(
        std::move(batch.request), timeout,
        [this, worker_id](absl::StatusOr<quarry::v1::CancelTasksResponse> r) {
          if (!r.ok()) {
            LOG(WARNING) << "CancelTasks on " << worker_id << ": "
                         << r.status();
          }
          absl::MutexLock lock(&mu_);
          --rpcs_in_flight_;
        });
  }
  for (auto& link : effects.drains) link->SendDrain();
  for (auto& link : effects.closes) link->Close();
  for (Effects::Probe& probe : effects.probes) {
    quarry::v1::GetWorkerStateRequest request;
    request.set_worker_id(probe.worker_id);
    for (std::string& attempt_id : probe.attempt_ids) {
      request.add_attempt_ids(std::move(attempt_id));
    }
    probe.client->GetWorkerState(
        std::move(request), timeout,
        [this, worker_id = probe.worker_id, sent_at = probe.sent_at](
            absl::StatusOr<quarry::v1::GetWorkerStateResponse> response) {
          absl::MutexLock lock(&mu_);
          probe_results_.push_back(
              ProbeResult{worker_id, sent_at, std::move(response)});
          --rpcs_in_flight_;
          Wake();
        });
  }
}

}  // namespace quarry

// The controller's loop, event handlers and effects. The three steps of
// RunOnce live in controller_steps.cc.
#include "leader/controller.h"

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
  if (thread_.joinable()) thread_.join();
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
  absl::Time next_tick = absl::Now() + options_.tick;
  while (true) {
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
  const absl::Time step_start = absl::Now();  // Real time, even in tests.
  Effects effects;
  {
    absl::MutexLock lock(&mu_);
    IngestEvents(now, &effects);
    UpdateClusterHealth(now, &effects);
    RefreshJobs(now, &effects);
    Rebalance(now, &effects);
    CollectWrites(now, &effects);
    rpcs_in_flight_ += effects.starts.size() + effects.cancels.size() +
                       effects.probes.size();
  }
  Apply(std::move(effects));
  if (observer_ != nullptr) {
    observer_->OnControllerStep(absl::Now() - step_start);
  }
}

void Controller::OnJobSubmitted(const quarry::v1::Job& job,
                                std::vector<quarry::v1::Task> tasks) {
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

void Controller::IngestEvents(absl::Time now, Effects* effects) {
  for (auto& [job, tasks] : submitted_) {
    std::unique_ptr<JobRuntime> runtime =
        MakeJobRuntime(std::move(job), std::move(tasks));
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
  for (const auto& [worker_id, status] : reported_) {
    ApplyAttemptStatus(worker_id, status, now, effects);
  }
  reported_.clear();
  for (ProbeResult& result : probe_results_) {
    HandleProbeResult(std::move(result), now, effects);
  }
  probe_results_.clear();
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
  if (wrote || had_backlog) notifier_->Notify();

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
          absl::MutexLock lock(&mu_);
          result.response = std::move(response);
          start_results_.push_back(std::move(result));
          --rpcs_in_flight_;
          Wake();
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

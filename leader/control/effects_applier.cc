#include "leader/control/effects_applier.h"

#include <glog/logging.h>

#include <string>
#include <utility>

namespace quarry {

void EffectsApplier::Apply(Effects effects) {
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
  WriteStore(effects);
  SendRpcs(effects);
}

void EffectsApplier::WriteStore(Effects& effects) {
  const int64_t started = effects.starts.size();
  const bool had_backlog = store_writer_.backlog() > 0;
  if (effects.writes.empty() && !had_backlog) return;
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
    for (auto& start : effects.starts) {
      deferred_starts_.push_back(std::move(start));
    }
    effects.starts.clear();
  } else {
    for (auto& start : deferred_starts_) {
      effects.starts.push_back(std::move(start));
    }
    deferred_starts_.clear();
  }
  sink_->OnStoreWritten(backlog,
                        static_cast<int64_t>(effects.starts.size()) - started);
  notifier_->Notify(effects.state_changed);
}

void EffectsApplier::SendRpcs(Effects& effects) {
  EffectsSink* const sink = sink_;
  for (StartBatch& batch : effects.starts) {
    StartResult result;
    result.worker_id = batch.request.worker_id();
    for (const auto& assignment : batch.request.assignments()) {
      result.attempt_ids.push_back(assignment.attempt_id());
    }
    batch.client->StartTasks(
        std::move(batch.request), rpc_timeout_,
        [sink, result = std::move(result)](
            absl::StatusOr<quarry::v1::StartTasksResponse> response) mutable {
          // Attempts all started need no step of their own: the next one
          // (their completion report, at the latest the tick) records them.
          const bool urgent = !response.ok() || !response->rejected().empty();
          result.response = std::move(response);
          sink->OnStartAnswered(std::move(result), urgent);
        });
  }
  for (CancelBatch& batch : effects.cancels) {
    const std::string worker_id = batch.request.worker_id();
    batch.client->CancelTasks(
        std::move(batch.request), rpc_timeout_,
        [sink, worker_id](absl::StatusOr<quarry::v1::CancelTasksResponse> r) {
          if (!r.ok()) {
            LOG(WARNING) << "CancelTasks on " << worker_id << ": "
                         << r.status();
          }
          sink->OnCancelAnswered();
        });
  }
  for (auto& link : effects.drains) link->SendDrain();
  for (auto& link : effects.closes) link->Close();
  for (Probe& probe : effects.probes) {
    quarry::v1::GetWorkerStateRequest request;
    request.set_worker_id(probe.worker_id);
    for (std::string& attempt_id : probe.attempt_ids) {
      request.add_attempt_ids(std::move(attempt_id));
    }
    probe.client->GetWorkerState(
        std::move(request), rpc_timeout_,
        [sink, worker_id = probe.worker_id, sent_at = probe.sent_at](
            absl::StatusOr<quarry::v1::GetWorkerStateResponse> response) {
          sink->OnProbeAnswered(
              ProbeResult{worker_id, sent_at, std::move(response)});
        });
  }
}

}  // namespace quarry

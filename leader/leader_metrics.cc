#include "leader/leader_metrics.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"

namespace quarry {
namespace {

// "JOB_STATE_RUNNING" without `prefix`, in lower case: "running".
std::string Label(absl::string_view enum_name, absl::string_view prefix) {
  absl::ConsumePrefix(&enum_name, prefix);
  return absl::AsciiStrToLower(enum_name);
}

prometheus::Family<prometheus::Counter>& StoreErrors(Metrics* metrics) {
  return prometheus::BuildCounter()
      .Name("quarry_leader_store_errors_total")
      .Help(
          "Failed store calls: op=\"read\" for API reads, \"write\" for "
          "submissions and the controller's writes, \"history\" for API "
          "reads of the execution history")
      .Register(metrics->registry());
}

}  // namespace

LeaderMetrics::LeaderMetrics(Metrics* metrics)
    : metrics_(metrics),
      tick_duration_(prometheus::BuildHistogram()
                         .Name("quarry_leader_tick_duration_seconds")
                         .Help("Wall time of one controller step: health, "
                               "refresh and rebalance under the lock, then "
                               "store writes and RPC sends")
                         .Register(metrics->registry())
                         .Add({}, LatencyBuckets())),
      store_read_errors_(StoreErrors(metrics).Add({{"op", "read"}})),
      store_write_errors_(StoreErrors(metrics).Add({{"op", "write"}})),
      history_read_errors_(StoreErrors(metrics).Add({{"op", "history"}})) {}

void LeaderMetrics::CollectFrom(Controller* controller,
                                const Readiness* readiness) {
  metrics_->AddCollector([controller, readiness](SnapshotWriter& out) {
    out.Gauge("quarry_leader_ready",
              "1 once the leader has restored its state and serves its API",
              readiness->Check().ok() ? 1 : 0);
    WriteControllerStats(controller->Stats(), out);
  });
}

void LeaderMetrics::OnControllerStep(absl::Duration duration) {
  tick_duration_.Observe(absl::ToDoubleSeconds(duration));
}

void LeaderMetrics::CollectFrom(const History* history) {
  metrics_->AddCollector([history](SnapshotWriter& out) {
    out.Counter("quarry_leader_history_dropped_total",
                "Records the execution history dropped because its write "
                "queue was full",
                history->dropped());
  });
}

void LeaderMetrics::OnStoreError(StoreOp op, const absl::Status& status) {
  switch (op) {
    case StoreOp::kRead:
      store_read_errors_.Increment();
      break;
    case StoreOp::kWrite:
      store_write_errors_.Increment();
      break;
    case StoreOp::kHistory:
      history_read_errors_.Increment();
      break;
  }
}

void WriteControllerStats(const ControllerStats& stats, SnapshotWriter& out) {
  for (const auto& [state, count] : stats.jobs) {
    out.Gauge(
        "quarry_leader_jobs", "Jobs the leader runs now, by state", count,
        {{"state", Label(quarry::v1::JobState_Name(state), "JOB_STATE_")}});
  }
  for (const auto& [status, count] : stats.tasks) {
    out.Gauge("quarry_leader_tasks",
              "Tasks of the jobs the leader runs now, by status", count,
              {{"state", Label(quarry::v1::ExecutionStatus_Name(status),
                               "EXECUTION_STATUS_")}});
  }
  out.Gauge("quarry_leader_queue_depth",
            "Runnable tasks waiting for a free slot", stats.queue_depth);
  for (const auto& [status, count] : stats.workers) {
    out.Gauge("quarry_leader_workers", "Registered workers, by status", count,
              {{"status", Label(quarry::v1::WorkerStatus_Name(status),
                                "WORKER_STATUS_")}});
  }
  out.Gauge("quarry_leader_slots", "Slots of the workers that are not DEAD",
            stats.slots);
  out.Gauge("quarry_leader_slots_busy",
            "Slots of the workers that are not DEAD holding an attempt",
            stats.busy_slots);
  out.Gauge("quarry_leader_worker_queued",
            "Attempts waiting in the queues of the workers that are not DEAD "
            "(beyond their slots)",
            stats.queued);
  for (const auto& [worker, age] : stats.heartbeat_age) {
    out.Gauge("quarry_leader_worker_heartbeat_age_seconds",
              "Time since the leader last heard from the worker",
              absl::ToDoubleSeconds(age), {{"worker", worker}});
  }
  out.Gauge("quarry_leader_store_backlog",
            "1 while changes wait for an unreachable store (no new work is "
            "dispatched meanwhile), else 0",
            stats.store_backlog ? 1 : 0);
  const ControllerCounts& counts = stats.counts;
  out.Counter("quarry_leader_jobs_submitted_total",
              "Jobs the controller took in", counts.jobs_submitted);
  for (auto state : {quarry::v1::JOB_STATE_DONE, quarry::v1::JOB_STATE_FAILED,
                     quarry::v1::JOB_STATE_CANCELLED}) {
    auto it = counts.jobs_finished.find(state);
    out.Counter(
        "quarry_leader_jobs_finished_total", "Jobs that ended, by final state",
        it == counts.jobs_finished.end() ? 0 : it->second,
        {{"state", Label(quarry::v1::JobState_Name(state), "JOB_STATE_")}});
  }
  out.Counter("quarry_leader_attempts_started_total",
              "Attempts sent to workers", counts.attempts_started);
  out.Counter("quarry_leader_attempts_failed_total",
              "Attempts that ended FAILED or LOST, counted against their "
              "task's max_attempts",
              counts.attempts_failed);
  out.Counter("quarry_leader_attempts_retried_total",
              "Tasks queued again after an attempt ended without success",
              counts.attempts_retried);
}

}  // namespace quarry

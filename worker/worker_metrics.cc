#include "worker/worker_metrics.h"

#include <string>
#include <vector>

#include "common/time_util.h"

namespace quarry::worker {
namespace {

// Attempts last from milliseconds (noop) to hours.
const std::vector<double>& AttemptBuckets() {
  static const auto* const kBuckets = new std::vector<double>{
      0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600};
  return *kBuckets;
}

}  // namespace

WorkerMetrics::WorkerMetrics(Metrics* metrics)
    : metrics_(metrics),
      finished_(prometheus::BuildCounter()
                    .Name("quarry_worker_attempts_finished_total")
                    .Help("Attempts that ended, by outcome (done, failed, "
                          "cancelled)")
                    .Register(metrics->registry())),
      durations_(prometheus::BuildHistogram()
                     .Name("quarry_worker_attempt_duration_seconds")
                     .Help("Time from the start of an attempt in its slot to "
                           "its end, by outcome")
                     .Register(metrics->registry())),
      done_(MakeOutcome("done")),
      failed_(MakeOutcome("failed")),
      cancelled_(MakeOutcome("cancelled")) {}

WorkerMetrics::Outcome WorkerMetrics::MakeOutcome(const std::string& label) {
  return {&finished_.Add({{"outcome", label}}),
          &durations_.Add({{"outcome", label}}, AttemptBuckets())};
}

void WorkerMetrics::CollectFrom(SlotExecutor* executor, Reporter* reporter) {
  const int slots = executor->slot_count();
  metrics_->AddCollector([executor, reporter, slots](SnapshotWriter& out) {
    const SlotExecutor::Stats load = executor->stats();
    out.Gauge("quarry_worker_slots", "Slots of this worker", slots);
    out.Gauge("quarry_worker_slots_busy", "Slots running an attempt now",
              load.busy_slots);
    out.Gauge("quarry_worker_queued",
              "Attempts accepted and waiting in this worker's queue for a "
              "slot",
              load.queued);
    out.Counter("quarry_worker_attempts_started_total",
                "Attempts this worker accepted and started",
                load.attempts_started);
    const Reporter::Stats reports = reporter->stats();
    out.Counter("quarry_worker_reports_sent_total",
                "ReportWorkerState calls the leader acknowledged (finished "
                "attempts and heartbeats)",
                reports.reports_ok);
    out.Counter("quarry_worker_reports_failed_total",
                "ReportWorkerState calls that failed (retried)",
                reports.reports_failed);
    out.Counter("quarry_worker_registrations_total",
                "Successful registrations with the leader",
                reports.registrations);
    out.Gauge("quarry_worker_draining", "1 while the worker drains, else 0",
              reports.draining ? 1 : 0);
  });
}

void WorkerMetrics::OnAttemptFinished(const quarry::v1::AttemptStatus& status) {
  const Outcome* outcome = &failed_;
  if (status.status() == quarry::v1::EXECUTION_STATUS_DONE) outcome = &done_;
  if (status.status() == quarry::v1::EXECUTION_STATUS_CANCELLED) {
    outcome = &cancelled_;
  }
  outcome->finished->Increment();
  const absl::Duration took =
      FromProtoTime(status.end_time()) - FromProtoTime(status.start_time());
  outcome->duration->Observe(absl::ToDoubleSeconds(took));
}

}  // namespace quarry::worker

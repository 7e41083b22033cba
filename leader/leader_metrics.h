#ifndef QUARRY_LEADER_LEADER_METRICS_H_
#define QUARRY_LEADER_LEADER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "common/metrics.h"
#include "leader/control/controller.h"
#include "leader/control/controller_stats.h"
#include "leader/history/history.h"
#include "leader/control/leader_observer.h"
#include "leader/api/readiness.h"

namespace quarry {

// The leader's metrics (every one is listed in docs/operations.md): the
// controller's snapshot (jobs, tasks, queue, workers, slots, heartbeat
// ages, attempt counts), read at each scrape, and the step durations and
// store errors that the controller and the job manager report as they
// happen. Thread-safe.
class LeaderMetrics : public LeaderObserver {
 public:
  // Registers its families in `metrics`, which must outlive it.
  explicit LeaderMetrics(Metrics* metrics);

  // Adds the controller's snapshot and whether the leader is ready to every
  // scrape. Both must outlive the scrapes (stop serving metrics before
  // destroying them).
  void CollectFrom(Controller* controller, const Readiness* readiness);

  // Adds the history's dropped records to every scrape; it must outlive the
  // scrapes.
  void CollectFrom(const History* history);

  void OnControllerStep(absl::Duration duration) override;
  void OnStoreError(StoreOp op, const absl::Status& status) override;

 private:
  Metrics* const metrics_;
  prometheus::Histogram& tick_duration_;
  prometheus::Counter& store_read_errors_;
  prometheus::Counter& store_write_errors_;
  prometheus::Counter& history_read_errors_;
};

// Writes `stats` as the quarry_leader_* gauges and counters.
void WriteControllerStats(const ControllerStats& stats, SnapshotWriter& out);

}  // namespace quarry

#endif  // QUARRY_LEADER_LEADER_METRICS_H_

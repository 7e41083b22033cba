#ifndef QUARRY_WORKER_WORKER_METRICS_H_
#define QUARRY_WORKER_WORKER_METRICS_H_

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include "common/metrics.h"
#include "quarry/v1/types.pb.h"
#include "worker/reporter.h"
#include "worker/slot_executor.h"

namespace quarry::worker {

// A worker's metrics (every one is listed in docs/operations.md): slots,
// attempts started and reports, read from the slot executor and the
// reporter at each scrape; attempts finished and their durations, counted
// as attempts end. Thread-safe.
class WorkerMetrics {
 public:
  // Registers its families in `metrics`, which must outlive it.
  explicit WorkerMetrics(Metrics* metrics);

  // Adds the executor's and the reporter's figures to every scrape; both
  // must outlive the scrapes (stop serving metrics before destroying them).
  void CollectFrom(SlotExecutor* executor, Reporter* reporter);

  // An attempt ended (DONE, FAILED or CANCELLED, with its start and end
  // times). Called on slot threads.
  void OnAttemptFinished(const quarry::v1::AttemptStatus& status);

 private:
  // The counter and the duration histogram of one outcome.
  struct Outcome {
    prometheus::Counter* finished;
    prometheus::Histogram* duration;
  };
  Outcome MakeOutcome(const std::string& label);

  Metrics* const metrics_;
  prometheus::Family<prometheus::Counter>& finished_;
  prometheus::Family<prometheus::Histogram>& durations_;
  const Outcome done_;
  const Outcome failed_;
  const Outcome cancelled_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_WORKER_METRICS_H_

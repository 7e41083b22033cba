#ifndef QUARRY_LEADER_CONTROL_EFFECTS_H_
#define QUARRY_LEADER_CONTROL_EFFECTS_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "leader/control/store_writer.h"
#include "leader/workers/worker_client.h"
#include "leader/workers/worker_link.h"
#include "quarry/v1/types.pb.h"
#include "quarry/v1/worker_service.pb.h"

namespace quarry {

// Attempts to start on one worker (one StartTasks call).
struct StartBatch {
  std::shared_ptr<WorkerClient> client;
  quarry::v1::StartTasksRequest request;
};

struct CancelBatch {
  std::shared_ptr<WorkerClient> client;
  quarry::v1::CancelTasksRequest request;
};

// A GetWorkerState call: whether the worker is alive, and its attempts'
// states.
struct Probe {
  std::shared_ptr<WorkerClient> client;
  std::string worker_id;
  absl::Time sent_at;
  std::vector<std::string> attempt_ids;  // Its live attempts, to reconcile.
};

// Everything one controller step decided that must happen after the
// controller's mutex is released: store writes, output finalization,
// history records, worker RPCs and stream commands. Filled under the mutex
// by the step, applied by Controller::Apply on the same thread.
struct Effects {
  // Jobs whose output must be tidied before their record is stored.
  std::vector<quarry::v1::Job> finalize;
  StoreWrites writes;
  // For the execution history: ended attempts, and jobs done with.
  std::vector<quarry::v1::AttemptRecord> ended_attempts;
  std::vector<quarry::v1::Job> ended_jobs;
  std::vector<StartBatch> starts;
  std::vector<CancelBatch> cancels;
  std::vector<Probe> probes;
  // Some job changed state (watchers waiting for one wake up).
  bool state_changed = false;
  std::vector<std::shared_ptr<WorkerLink>> drains;
  std::vector<std::shared_ptr<WorkerLink>> closes;
};

// The answer to a StartTasks batch, for the controller's inbox.
struct StartResult {
  std::string worker_id;
  std::vector<std::string> attempt_ids;
  absl::Time received_at;  // Leader time of the answer.
  absl::StatusOr<quarry::v1::StartTasksResponse> response;
};

// The answer to a Probe.
struct ProbeResult {
  std::string worker_id;
  absl::Time sent_at;
  absl::StatusOr<quarry::v1::GetWorkerStateResponse> response;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_EFFECTS_H_

#ifndef QUARRY_LEADER_WORKERS_WORKER_LINK_H_
#define QUARRY_LEADER_WORKERS_WORKER_LINK_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace quarry {

// The leader's end of a worker's ConnectWorker stream, as the controller
// sees it: a way to send commands. The stream's end is reported to the
// controller separately (Controller::OnWorkerDisconnected). Calls after the
// stream ended do nothing. Thread-safe.
class WorkerLink {
 public:
  virtual ~WorkerLink() = default;
  // Asks the worker to drain (finish its attempts, then leave).
  virtual void SendDrain() = 0;
  // Ends the stream (the leader shuts down, or the worker was replaced).
  virtual void Close() = 0;
};

// What a worker's ConnectWorker stream tells the controller: it opened (the
// controller keeps `link` to send commands on) and it broke. Implemented by
// the Controller; declared here so that the stream code needs nothing above
// workers/. Thread-safe.
class WorkerLinkEvents {
 public:
  virtual ~WorkerLinkEvents() = default;
  // Returns the connection's id, or NOT_FOUND if the worker is not
  // registered.
  virtual absl::StatusOr<int64_t> OnWorkerConnected(
      const std::string& worker_id, std::shared_ptr<WorkerLink> link) = 0;
  // The stream `connection_id` of `worker_id` broke.
  virtual void OnWorkerDisconnected(const std::string& worker_id,
                                    int64_t connection_id) = 0;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_WORKERS_WORKER_LINK_H_

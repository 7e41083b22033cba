#ifndef QUARRY_LEADER_WORKER_LINK_H_
#define QUARRY_LEADER_WORKER_LINK_H_

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

}  // namespace quarry

#endif  // QUARRY_LEADER_WORKER_LINK_H_

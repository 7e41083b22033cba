#ifndef QUARRY_WORKER_DRAINER_H_
#define QUARRY_WORKER_DRAINER_H_

#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "worker/leader_client.h"
#include "worker/reporter.h"
#include "worker/slot_executor.h"

namespace quarry::worker {

// Takes a worker out of the cluster without losing work: the first SIGTERM
// or the leader's KIND_DRAIN asks for it (Request()); the main thread then
// runs it (Run()):
//  1. Request(): the executor refuses new attempts ("worker is draining")
//     and the reporter sends draining=true at once (the leader shows the
//     worker DRAINING and gives it no more work);
//  2. Run() lets running attempts finish for up to `grace`; SkipGrace()
//     (a second signal) ends the grace at once;
//  3. cancels what is left: those attempts end CANCELLED, so the leader
//     runs them elsewhere without counting a failure; stops the executor;
//  4. sends a final report and stops the reporter;
//  5. deregisters (ClusterService.DeregisterWorker).
// The caller then stops the leader connection and the gRPC server.
//
// Borrows the executor, reporter and leader client. Thread-safe: Request()
// and SkipGrace() come from the signal thread or the connection thread,
// Run() from one (main) thread; its own state is guarded by mu_, which
// Request() holds while it calls the executor and the reporter (they never
// call back).
class Drainer {
 public:
  struct Options {
    // How long running attempts may take to finish.
    absl::Duration grace = absl::Seconds(30);
    // Bound on the final report.
    absl::Duration final_report_timeout = absl::Seconds(2);
    absl::Duration deregister_timeout = absl::Seconds(2);
  };

  // What Run() did.
  struct Result {
    int running_at_start = 0;  // Attempts running when the drain began.
    int cancelled = 0;         // Attempts cancelled at the end of the grace.
    bool final_report_acknowledged = false;
    absl::Status deregistered;
  };

  // Everything borrowed must outlive the drainer.
  Drainer(Options options, std::string worker_id, SlotExecutor* executor,
          Reporter* reporter, LeaderClient* leader);
  Drainer(const Drainer&) = delete;
  Drainer& operator=(const Drainer&) = delete;

  // Starts draining (step 1) and wakes WaitForRequest(). Returns at once.
  // Only the first call has an effect; `reason` is logged.
  void Request(absl::string_view reason) ABSL_LOCKS_EXCLUDED(mu_);

  // Ends the grace period now: cancels every running attempt (requesting
  // the drain first if needed). Returns at once.
  void SkipGrace() ABSL_LOCKS_EXCLUDED(mu_);

  // Blocks until Request() or `timeout`; returns whether it was requested.
  bool WaitForRequest(absl::Duration timeout = absl::InfiniteDuration())
      ABSL_LOCKS_EXCLUDED(mu_);

  bool requested() const ABSL_LOCKS_EXCLUDED(mu_);

  // Steps 2-5 (requesting the drain first if needed). Blocks for at most
  // about grace + final_report_timeout + deregister_timeout + the time
  // attempts take to stop once cancelled. Call once.
  Result Run() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const Options options_;
  const std::string worker_id_;
  SlotExecutor* const executor_;
  Reporter* const reporter_;
  LeaderClient* const leader_;

  mutable absl::Mutex mu_;
  bool requested_ ABSL_GUARDED_BY(mu_) = false;
  bool skip_grace_ ABSL_GUARDED_BY(mu_) = false;
  int running_at_start_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_DRAINER_H_

#ifndef QUARRY_LEADER_CONTROL_EFFECTS_APPLIER_H_
#define QUARRY_LEADER_CONTROL_EFFECTS_APPLIER_H_

#include <cstdint>
#include <vector>

#include "absl/time/time.h"
#include "common/store.h"
#include "leader/control/change_notifier.h"
#include "leader/control/effects.h"
#include "leader/control/leader_observer.h"
#include "leader/control/output_finalizer.h"
#include "leader/control/store_writer.h"
#include "leader/history/history.h"

namespace quarry {

// What an EffectsApplier tells the controller. Implemented by the
// Controller, which records it under its mutex. OnStoreWritten is called
// by the applying thread; the answers by RPC threads.
class EffectsSink {
 public:
  virtual ~EffectsSink() = default;
  // The store was written (`backlog`: not all of it; new work waits).
  // `starts_delta` StartTasks batches were sent beyond (or, negative, held
  // back from) those of the step, which counted them in flight.
  virtual void OnStoreWritten(bool backlog, int64_t starts_delta) = 0;
  // `urgent`: some attempt did not start (the loop should look at once).
  virtual void OnStartAnswered(StartResult result, bool urgent) = 0;
  virtual void OnProbeAnswered(ProbeResult result) = 0;
  virtual void OnCancelAnswered() = 0;
};

// Applies what a controller step decided, after the controller's mutex is
// released, in this order: history records (queued), output finalization,
// store writes, then worker RPCs (the store already shows what they start)
// and stream commands. While the store has a backlog (it is down),
// StartTasks batches are held back: a leader restarting now would not know
// those attempts; they are sent once the store is written again.
//
// Owns the StoreWriter and the held-back batches. Not thread-safe: only the
// thread that runs the controller's steps calls Apply.
class EffectsApplier {
 public:
  // `history` may be null; `observer` may be null.
  EffectsApplier(Store* store, OutputFinalizer* finalizer, History* history,
                 ChangeNotifier* notifier, LeaderObserver* observer,
                 absl::Duration rpc_timeout, EffectsSink* sink)
      : store_writer_(store),
        finalizer_(finalizer),
        history_(history),
        notifier_(notifier),
        observer_(observer),
        rpc_timeout_(rpc_timeout),
        sink_(sink) {}

  void Apply(Effects effects);

 private:
  void WriteStore(Effects& effects);
  void SendRpcs(Effects& effects);

  StoreWriter store_writer_;
  std::vector<StartBatch> deferred_starts_;
  OutputFinalizer* const finalizer_;
  History* const history_;
  ChangeNotifier* const notifier_;
  LeaderObserver* const observer_;
  const absl::Duration rpc_timeout_;
  EffectsSink* const sink_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_EFFECTS_APPLIER_H_

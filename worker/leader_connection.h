#ifndef QUARRY_WORKER_LEADER_CONNECTION_H_
#define QUARRY_WORKER_LEADER_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "quarry/v1/cluster_service.pb.h"
#include "worker/leader_client.h"

namespace quarry::worker {

// Keeps the worker's command stream (ClusterService.ConnectWorker) open for
// the whole life of the worker. The leader learns from the stream's end,
// within milliseconds, that the worker died; and it sends commands down
// the stream (KIND_DRAIN).
//
// The connection thread waits until the reporter has registered the
// worker, then opens the stream (deadline `stream_timeout`), each stream
// read by a thread of its own. When a stream ends it opens another after a
// backoff (`initial_backoff`, doubling up to `max_backoff` while streams
// fail without connecting). When the leader answers NOT_FOUND it calls
// `on_not_found` (which makes the reporter register again) and waits for
// the next registration before it reconnects. Before a stream's deadline
// (`renew_before` it) it opens the next one and closes the old one only
// once the new one has connected, so the leader never sees the worker go.
// KIND_DRAIN calls `on_drain`.
//
// Owns the connection thread, the streams and their reader threads.
// Thread-safe: OnRegistered() is called by the reporter thread, Start() and
// Stop() by the composition root, stats() by anyone. Shared state is
// guarded by mu_; the callbacks run on reader or connection threads,
// outside it.
class LeaderConnection {
 public:
  struct Options {
    absl::Duration stream_timeout = absl::Hours(1);
    // Renew a stream this long before its deadline (at most half of it).
    absl::Duration renew_before = absl::Minutes(1);
    absl::Duration initial_backoff = absl::Milliseconds(50);
    absl::Duration max_backoff = absl::Seconds(2);
  };
  struct Callbacks {
    // The leader sent KIND_DRAIN.
    std::function<void()> on_drain;
    // The leader does not know the worker; the stream was opened after
    // registration number `registrations`.
    std::function<void(int64_t registrations)> on_not_found;
  };
  struct Stats {
    int64_t streams_opened = 0;
    int64_t connects = 0;    // Streams that delivered KIND_CONNECTED.
    bool connected = false;  // An open stream has connected.
    int64_t renewals = 0;    // Streams replaced before their deadline.
    int64_t drains = 0;      // KIND_DRAIN commands handled.
    int64_t not_found = 0;   // Streams the leader refused with NOT_FOUND.
  };

  // `leader` must outlive the connection.
  LeaderConnection(Options options, std::string worker_id, LeaderClient* leader,
                   Callbacks callbacks);
  LeaderConnection(const LeaderConnection&) = delete;
  LeaderConnection& operator=(const LeaderConnection&) = delete;
  // Stops (see Stop()).
  ~LeaderConnection();

  // Starts the connection thread. Call once.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);

  // The reporter registered the worker (the `registrations`-th time).
  void OnRegistered(int64_t registrations) ABSL_LOCKS_EXCLUDED(mu_);

  // Ends the streams (the leader sees the worker go) and joins the
  // threads. Never blocks on the leader. Idempotent.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // Waits until `stats()` satisfies `done`; false after `timeout` (tests).
  bool WaitForStats(const std::function<bool(const Stats&)>& done,
                    absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

  Stats stats() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // What the reader of stream `id` has seen.
  struct StreamState {
    CommandStream* stream = nullptr;  // Owned by an OpenStream.
    bool connected = false;
    bool ended = false;
    absl::Status status;  // Set when ended.
  };
  // A stream and its reader thread; owned by the connection thread.
  struct OpenStream {
    int64_t id = 0;
    std::unique_ptr<CommandStream> stream;
    std::thread reader;
  };
  // How a closed stream went.
  struct Closed {
    bool connected = false;
    absl::Status status;
  };

  // The connection thread's loop.
  void Run() ABSL_LOCKS_EXCLUDED(mu_);
  // Opens a stream and starts its reader.
  std::unique_ptr<OpenStream> Open() ABSL_LOCKS_EXCLUDED(mu_);
  // Reader thread of stream `id`: handles commands until the stream ends.
  void Read(int64_t id, CommandStream* stream) ABSL_LOCKS_EXCLUDED(mu_);
  // Cancels the stream (a no-op if it ended), joins its reader, forgets it.
  Closed Close(std::unique_ptr<OpenStream> open) ABSL_LOCKS_EXCLUDED(mu_);
  // Replaces `current` with a new stream once the new one has connected;
  // keeps `current` if it does not. Returns when to try the next renewal.
  absl::Time Renew(std::unique_ptr<OpenStream>& current)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until registration number `after` + 1 (or a later one) is done,
  // or Stop(); returns the registration count, or -1 when stopping.
  int64_t AwaitRegistration(int64_t after) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits `delay` or until Stop(); returns true when stopping.
  bool SleepUnlessStopping(absl::Duration delay) ABSL_LOCKS_EXCLUDED(mu_);
  // When a stream opened now should be renewed.
  absl::Time RenewalTime() const;
  void UpdateConnected() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const Options options_;
  const std::string worker_id_;
  LeaderClient* const leader_;
  const Callbacks callbacks_;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t registrations_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t last_stream_id_ ABSL_GUARDED_BY(mu_) = 0;
  // Every open stream by id, so Stop() can cancel them.
  absl::flat_hash_map<int64_t, StreamState> streams_ ABSL_GUARDED_BY(mu_);
  Stats stats_ ABSL_GUARDED_BY(mu_);

  // Touched only by Start() and Stop() (one thread).
  std::thread thread_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_LEADER_CONNECTION_H_

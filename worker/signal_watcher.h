#ifndef QUARRY_WORKER_SIGNAL_WATCHER_H_
#define QUARRY_WORKER_SIGNAL_WATCHER_H_

#include <signal.h>

#include <atomic>
#include <functional>
#include <thread>
#include <vector>

namespace quarry::worker {

// Receives signals synchronously (sigwait) on a dedicated thread and calls
// `on_signal(signal, count)` for each, where `count` numbers them from 1:
// quarry-worker drains on the first SIGTERM/SIGINT and stops at once on
// the second.
//
// The process must block the signals in every thread before any thread
// starts (quarry::InitProgram does, for SIGINT and SIGTERM), else one
// arriving for the process may kill it instead; the watcher thread itself
// is born with them blocked. Owns the thread. The handler runs on it; the
// constructor and destructor are called by one (main) thread.
class SignalWatcher {
 public:
  using Handler = std::function<void(int signal, int count)>;

  // Starts watching `signals` (non-empty).
  SignalWatcher(std::vector<int> signals, Handler on_signal);
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  // Stops watching and joins the thread; a handler call in progress
  // finishes first.
  ~SignalWatcher();

  // Sends `signal` (one of those watched) to the watcher thread itself, as
  // if it had come from outside (tests).
  void SendToWatcher(int signal);

 private:
  void Run();

  const std::vector<int> signals_;
  const Handler on_signal_;
  sigset_t set_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_SIGNAL_WATCHER_H_

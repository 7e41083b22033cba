#include "worker/signal_watcher.h"

#include <glog/logging.h>
#include <pthread.h>

#include <utility>

namespace quarry::worker {

SignalWatcher::SignalWatcher(std::vector<int> signals, Handler on_signal)
    : signals_(std::move(signals)), on_signal_(std::move(on_signal)) {
  CHECK(!signals_.empty());
  sigemptyset(&set_);
  for (int signal : signals_) sigaddset(&set_, signal);
  // The thread inherits this thread's mask: block the signals here while
  // it starts, so it never runs with them deliverable.
  sigset_t old;
  pthread_sigmask(SIG_BLOCK, &set_, &old);
  thread_ = std::thread([this] { Run(); });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

SignalWatcher::~SignalWatcher() {
  stopping_.store(true, std::memory_order_release);
  // Wakes sigwait; the loop sees stopping_ and leaves without a call.
  pthread_kill(thread_.native_handle(), signals_.front());
  thread_.join();
}

void SignalWatcher::SendToWatcher(int signal) {
  pthread_kill(thread_.native_handle(), signal);
}

void SignalWatcher::Run() {
  int count = 0;
  while (true) {
    int signal = 0;
    if (sigwait(&set_, &signal) != 0) continue;
    if (stopping_.load(std::memory_order_acquire)) return;
    ++count;
    LOG(INFO) << "received signal " << signal << " (" << count << ")";
    on_signal_(signal, count);
  }
}

}  // namespace quarry::worker

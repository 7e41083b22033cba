#include "worker/signal_watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quarry::worker {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

TEST(SignalWatcherTest, NumbersTheSignalsItReceives) {
  absl::Mutex mu;
  std::vector<std::pair<int, int>> seen;
  {
    SignalWatcher watcher({SIGUSR1, SIGUSR2}, [&](int signal, int count) {
      absl::MutexLock lock(&mu);
      seen.emplace_back(signal, count);
    });
    watcher.SendToWatcher(SIGUSR1);
    watcher.SendToWatcher(SIGUSR2);
    absl::MutexLock lock(&mu);
    auto both = [&seen] { return seen.size() == 2; };
    ASSERT_TRUE(mu.AwaitWithTimeout(absl::Condition(&both), absl::Seconds(10)));
  }  // Stops without calling the handler again.
  EXPECT_THAT(seen, ElementsAre(Pair(SIGUSR1, 1), Pair(SIGUSR2, 2)));
}

TEST(SignalWatcherTest, StopsWithoutASignal) {
  int calls = 0;
  {
    SignalWatcher watcher({SIGUSR1}, [&](int, int) { ++calls; });
  }
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace quarry::worker

#include "leader/scheduling/placement.h"

#include <algorithm>
#include <queue>
#include <utility>

namespace quarry {

std::vector<int32_t> SpreadTasks(const std::vector<int32_t>& free_slots,
                                 int64_t runnable_tasks) {
  // Max-heap of (free slots, -worker index): most free first, then lowest
  // index.
  std::priority_queue<std::pair<int32_t, int32_t>> heap;
  int64_t total_free = 0;
  for (int32_t i = 0; i < static_cast<int32_t>(free_slots.size()); ++i) {
    if (free_slots[i] > 0) {
      heap.emplace(free_slots[i], -i);
      total_free += free_slots[i];
    }
  }
  const int64_t count = std::min(total_free, std::max<int64_t>(runnable_tasks, 0));
  std::vector<int32_t> placement;
  placement.reserve(count);
  while (static_cast<int64_t>(placement.size()) < count) {
    auto [free, negative_index] = heap.top();
    heap.pop();
    placement.push_back(-negative_index);
    if (free > 1) heap.emplace(free - 1, negative_index);
  }
  return placement;
}

}  // namespace quarry

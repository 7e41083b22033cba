#ifndef QUARRY_LEADER_SCHEDULING_PLACEMENT_H_
#define QUARRY_LEADER_SCHEDULING_PLACEMENT_H_

#include <cstdint>
#include <vector>

namespace quarry {

// Scheduling policy as a pure function, so it can be tested alone.
//
// Given the free slot count of each schedulable worker and the number of
// runnable tasks, returns, for each task that can start now (in queue
// order), the index of the worker it goes to. Tasks are spread: each goes to
// the worker with the most free slots left (ties: the lower index), so load
// evens out across workers and each worker's share forms one batch.
std::vector<int32_t> SpreadTasks(const std::vector<int32_t>& free_slots,
                                 int64_t runnable_tasks);

}  // namespace quarry

#endif  // QUARRY_LEADER_SCHEDULING_PLACEMENT_H_

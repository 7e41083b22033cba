#include "leader/api/cluster_view.h"

#include <algorithm>

#include "common/time_util.h"

namespace quarry {

quarry::v1::ClusterStatus ClusterStatusOf(
    const std::vector<quarry::v1::Worker>& workers) {
  int alive = 0;
  for (const quarry::v1::Worker& worker : workers) {
    alive += worker.status() == quarry::v1::WORKER_STATUS_ALIVE;
  }
  if (alive == 0) return quarry::v1::CLUSTER_STATUS_UNAVAILABLE;
  if (alive == static_cast<int>(workers.size())) {
    return quarry::v1::CLUSTER_STATUS_HEALTHY;
  }
  return quarry::v1::CLUSTER_STATUS_DEGRADED;
}

absl::StatusOr<quarry::v1::GetClusterResponse> ReadCluster(Store* store,
                                                           absl::Time now) {
  absl::StatusOr<std::vector<quarry::v1::Worker>> workers =
      store->ListWorkers();
  if (!workers.ok()) return workers.status();
  quarry::v1::GetClusterResponse response;
  response.set_status(ClusterStatusOf(*workers));
  for (quarry::v1::Worker& worker : *workers) {
    if (worker.has_last_heartbeat_time()) {
      worker.set_heartbeat_age_ms(absl::ToInt64Milliseconds(
          now - FromProtoTime(worker.last_heartbeat_time())));
    }
    if (worker.status() == quarry::v1::WORKER_STATUS_ALIVE) {
      int32_t held = 0;
      for (const quarry::v1::SlotState& slot : worker.slot_states()) {
        held += !slot.attempt_id().empty();
      }
      // Attempts beyond its slots wait in its queue.
      response.set_slots_total(response.slots_total() + worker.slots());
      response.set_slots_used(response.slots_used() +
                              std::min(held, worker.slots()));
      response.set_queued(response.queued() +
                          std::max(0, held - worker.slots()));
    }
    *response.add_workers() = std::move(worker);
  }
  response.set_slots_open(response.slots_total() - response.slots_used());
  return response;
}

absl::StatusOr<quarry::v1::GetClusterResponse> ServeGetCluster(
    const CallerCheck& callers, const Readiness& readiness,
    std::optional<absl::string_view> authorization, Store* store,
    absl::Time now) {
  if (absl::StatusOr<Principal> caller =
          callers.Require(authorization, Role::kReader, "GetCluster");
      !caller.ok()) {
    return caller.status();
  }
  if (absl::Status ready = readiness.Check(); !ready.ok()) return ready;
  return ReadCluster(store, now);
}

}  // namespace quarry

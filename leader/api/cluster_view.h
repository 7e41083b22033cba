#ifndef QUARRY_LEADER_API_CLUSTER_VIEW_H_
#define QUARRY_LEADER_API_CLUSTER_VIEW_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/store.h"
#include "leader/api/caller_check.h"
#include "leader/api/readiness.h"
#include "quarry/v1/cluster_service.pb.h"

namespace quarry {

// GetCluster's answer from the stored worker records at time `now`: cluster
// status, per-worker heartbeat age, slot totals over ALIVE workers.
absl::StatusOr<quarry::v1::GetClusterResponse> ReadCluster(Store* store,
                                                           absl::Time now);

// GetCluster for any transport (the gRPC ClusterService and the HTTP API):
// the caller (`authorization`: the value of its authorization header or
// metadata) needs role reader, the leader must be ready, then ReadCluster.
absl::StatusOr<quarry::v1::GetClusterResponse> ServeGetCluster(
    const CallerCheck& callers, const Readiness& readiness,
    std::optional<absl::string_view> authorization, Store* store,
    absl::Time now);

// HEALTHY when every worker is ALIVE (and there is one), UNAVAILABLE when
// none is, DEGRADED otherwise.
quarry::v1::ClusterStatus ClusterStatusOf(
    const std::vector<quarry::v1::Worker>& workers);

}  // namespace quarry

#endif  // QUARRY_LEADER_API_CLUSTER_VIEW_H_

#ifndef QUARRY_LEADER_HTTP_DASHBOARD_ASSETS_H_
#define QUARRY_LEADER_HTTP_DASHBOARD_ASSETS_H_

#include <vector>

#include "absl/strings/string_view.h"

namespace quarry {

// One file of the dashboard (leader/http/dashboard/), embedded in the
// binary at build time by dashboard/embed.cmake.
struct DashboardAsset {
  const char* path;          // The URL path it is served at, e.g. "/".
  const char* content_type;
  absl::string_view body;
};

// Every file of the dashboard. Immutable; thread-safe.
const std::vector<DashboardAsset>& DashboardAssets();

}  // namespace quarry

#endif  // QUARRY_LEADER_HTTP_DASHBOARD_ASSETS_H_

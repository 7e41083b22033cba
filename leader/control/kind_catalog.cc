#include "leader/control/kind_catalog.h"

#include <glog/logging.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_join.h"
#include "common/kind_description.h"

namespace quarry {

void KindCatalog::SetWorkerKinds(
    const std::string& worker_id,
    const google::protobuf::RepeatedPtrField<quarry::v1::KindDescription>&
        kinds) {
  std::vector<Described> described;
  for (const quarry::v1::KindDescription& description : kinds) {
    if (FindKind(description.name()) != nullptr) {
      LOG(WARNING) << "worker " << worker_id << " describes plugin kind "
                   << description.name()
                   << ", the name of a built-in kind: ignored";
      continue;
    }
    absl::StatusOr<KindSpec> spec = KindSpecFromDescription(description);
    if (!spec.ok()) {
      LOG(WARNING) << "worker " << worker_id << " describes plugin kind "
                   << description.name() << " wrongly: " << spec.status();
      continue;
    }
    described.push_back({description, *std::move(spec)});
  }
  absl::MutexLock lock(&mu_);
  if (described.empty()) {
    if (by_worker_.erase(worker_id) > 0) Resolve();
    return;
  }
  by_worker_[worker_id] = described;
  Resolve();
  // Say so when this worker and another describe a kind differently.
  for (const Described& mine : described) {
    const std::string& winner = plugin_kinds_.at(mine.spec.name).first;
    const std::string serialized = mine.description.SerializeAsString();
    for (const auto& [other, theirs] : by_worker_) {
      if (other == worker_id) continue;
      for (const Described& kind : theirs) {
        if (kind.spec.name == mine.spec.name &&
            kind.description.SerializeAsString() != serialized) {
          LOG(WARNING) << "workers " << worker_id << " and " << other
                       << " describe plugin kind " << mine.spec.name
                       << " differently; submissions are validated against "
                          "the description of "
                       << winner << " (the smallest worker id)";
        }
      }
    }
  }
}

void KindCatalog::RemoveWorker(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  if (by_worker_.erase(worker_id) > 0) Resolve();
}

void KindCatalog::Resolve() {
  plugin_kinds_.clear();
  // by_worker_ is sorted by id: the first description of a name wins.
  for (const auto& [worker_id, kinds] : by_worker_) {
    for (const Described& kind : kinds) {
      plugin_kinds_.try_emplace(kind.spec.name, worker_id, kind.spec);
    }
  }
}

std::optional<KindSpec> KindCatalog::Find(absl::string_view name) const {
  if (const KindSpec* built_in = FindKind(name); built_in != nullptr) {
    return *built_in;
  }
  absl::MutexLock lock(&mu_);
  auto it = plugin_kinds_.find(std::string(name));
  if (it == plugin_kinds_.end()) return std::nullopt;
  return it->second.second;
}

std::string KindCatalog::Names() const {
  std::vector<std::string> names;
  for (const KindSpec& kind : AllKinds()) names.push_back(kind.name);
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [name, kind] : plugin_kinds_) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return absl::StrJoin(names, ", ");
}

}  // namespace quarry

#include "worker/kinds/kind_registry.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "worker/kinds/builtin_kinds.h"

namespace quarry::worker {

void KindRegistry::Register(absl::string_view name, bool is_reduce,
                            std::unique_ptr<JobKind> kind) {
  kinds_[std::make_pair(std::string(name), is_reduce)] = std::move(kind);
}

absl::StatusOr<const JobKind*> KindRegistry::Find(absl::string_view name,
                                                  bool is_reduce) const {
  auto it = kinds_.find(std::make_pair(std::string(name), is_reduce));
  if (it != kinds_.end()) return it->second.get();
  if (kinds_.contains(std::make_pair(std::string(name), !is_reduce))) {
    return absl::NotFoundError(
        is_reduce ? absl::StrCat("kind \"", name, "\" has no reduce step")
                  : absl::StrCat("kind \"", name, "\" has only a reduce step"));
  }
  return absl::NotFoundError(
      absl::StrCat("unknown kind \"", name,
                   "\" (known: ", absl::StrJoin(Names(), ", "), ")"));
}

std::vector<std::string> KindRegistry::Names() const {
  std::vector<std::string> names;
  for (const auto& [key, kind] : kinds_) names.push_back(key.first);
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::unique_ptr<KindRegistry> NewBuiltInKindRegistry(size_t chunk_size) {
  auto registry = std::make_unique<KindRegistry>();
  registry->Register("wordcount", false, NewWordCountMapKind(chunk_size));
  registry->Register("wordcount", true, NewWordCountReduceKind(chunk_size));
  registry->Register("linecount", false, NewLineCountKind(chunk_size));
  registry->Register("grep", false, NewGrepKind(chunk_size));
  registry->Register("sha256", false, NewSha256Kind(chunk_size));
  registry->Register("sleep", false, NewSleepKind());
  registry->Register("noop", false, NewNoopKind());
  registry->Register("flaky", false, NewFlakyKind());
  return registry;
}

}  // namespace quarry::worker

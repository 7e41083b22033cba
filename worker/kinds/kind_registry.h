#ifndef QUARRY_WORKER_KINDS_KIND_REGISTRY_H_
#define QUARRY_WORKER_KINDS_KIND_REGISTRY_H_

#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "worker/file_util.h"
#include "worker/kinds/job_kind.h"

namespace quarry::worker {

// Maps (kind name, is_reduce) to the JobKind that runs it. Owns the kinds.
// Filled once by the composition root (or a test) before any attempt runs;
// after that it is read-only and thread-safe: slot executor Start() calls
// (RPC threads) and slot threads look kinds up concurrently.
class KindRegistry {
 public:
  KindRegistry() = default;
  KindRegistry(const KindRegistry&) = delete;
  KindRegistry& operator=(const KindRegistry&) = delete;

  // Adds (or replaces) the implementation of `name`'s map step
  // (is_reduce=false) or reduce step (is_reduce=true). Not thread-safe:
  // call before sharing the registry.
  void Register(absl::string_view name, bool is_reduce,
                std::unique_ptr<JobKind> kind);

  // The kind, or NOT_FOUND with a reason fit for a rejected assignment
  // ("unknown kind \"x\" (known: ...)" or "kind \"grep\" has no reduce step").
  absl::StatusOr<const JobKind*> Find(absl::string_view name,
                                      bool is_reduce) const;
  // The names of the kinds it runs, sorted, each once.
  std::vector<std::string> Names() const;

 private:
  absl::flat_hash_map<std::pair<std::string, bool>, std::unique_ptr<JobKind>>
      kinds_;
};

// A registry holding every built-in kind (see builtin_kinds.h).
std::unique_ptr<KindRegistry> NewBuiltInKindRegistry(
    size_t chunk_size = kDefaultChunkSize);

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_KINDS_KIND_REGISTRY_H_

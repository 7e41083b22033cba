#ifndef QUARRY_LEADER_CONTROL_KIND_CATALOG_H_
#define QUARRY_LEADER_CONTROL_KIND_CATALOG_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/job_kinds.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "leader/scheduling/job_planner.h"
#include "quarry/v1/types.pb.h"

namespace quarry {

// The job kinds a submission may name: the built-in kinds, and the plugin
// kinds that registered workers describe (RegisterWorkerRequest.
// plugin_kinds), each with the spec SubmitJob validates its settings
// against. A plugin kind stays known while some registered worker (even a
// DEAD one, until it is forgotten) describes it. When workers describe one
// name differently, the description of the worker with the smallest id is
// used, whatever the order they registered in, and the difference is
// logged. A description that names a built-in kind is ignored (logged).
//
// Thread-safe under its own mutex `mu_`, a leaf lock: the WorkerPool
// updates it under the controller's mutex (registrations, departures);
// JobManager reads it on gRPC threads without that mutex.
class KindCatalog : public KindLookup {
 public:
  KindCatalog() = default;
  KindCatalog(const KindCatalog&) = delete;
  KindCatalog& operator=(const KindCatalog&) = delete;

  // `worker_id` registered (again) describing `kinds`, replacing what it
  // described before. Descriptions that break a rule of KindDescription
  // are skipped (ClusterService refuses such registrations before).
  void SetWorkerKinds(
      const std::string& worker_id,
      const google::protobuf::RepeatedPtrField<quarry::v1::KindDescription>&
          kinds) ABSL_LOCKS_EXCLUDED(mu_);
  // `worker_id` left the cluster (deregistered or forgotten).
  void RemoveWorker(const std::string& worker_id) ABSL_LOCKS_EXCLUDED(mu_);

  // KindLookup: built-in kinds first, then plugin kinds.
  std::optional<KindSpec> Find(absl::string_view name) const override
      ABSL_LOCKS_EXCLUDED(mu_);
  std::string Names() const override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A plugin kind as one worker describes it.
  struct Described {
    quarry::v1::KindDescription description;
    KindSpec spec;
  };

  // Recomputes `plugin_kinds_` from `by_worker_`.
  void Resolve() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  // What each worker that describes plugin kinds describes, by worker id
  // (sorted: the smallest id wins a conflict).
  std::map<std::string, std::vector<Described>> by_worker_ ABSL_GUARDED_BY(mu_);
  // The spec used for each plugin kind name, and whose description it is.
  std::map<std::string, std::pair<std::string, KindSpec>> plugin_kinds_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_KIND_CATALOG_H_

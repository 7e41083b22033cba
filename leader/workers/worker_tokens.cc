#include "leader/workers/worker_tokens.h"

#include <glog/logging.h>

#include "absl/strings/str_cat.h"

namespace quarry {

absl::Status WorkerTokens::ClaimLocked(const std::string& worker_id,
                                       const Principal& caller) {
  auto [binding, inserted] = bindings_.try_emplace(worker_id);
  if (inserted) {
    binding->second.principal = caller.name;
    return absl::OkStatus();
  }
  if (binding->second.principal == caller.name ||
      caller.role == Role::kAdmin) {
    return absl::OkStatus();
  }
  LOG(WARNING) << "audit: principal=" << caller.name << " used worker id "
               << worker_id << ", which belongs to principal "
               << binding->second.principal << ": refused";
  return absl::PermissionDeniedError(absl::StrCat(
      "worker id ", worker_id, " belongs to principal ",
      binding->second.principal, ", not ", caller.name,
      " (it registered first; the id is free again once it deregisters)"));
}

absl::Status WorkerTokens::Claim(const std::string& worker_id,
                                 const Principal& caller) {
  absl::MutexLock lock(&mu_);
  return ClaimLocked(worker_id, caller);
}

absl::Status WorkerTokens::Register(const std::string& worker_id,
                                    const Principal& caller,
                                    std::string token) {
  absl::MutexLock lock(&mu_);
  if (absl::Status claimed = ClaimLocked(worker_id, caller); !claimed.ok()) {
    return claimed;
  }
  Binding& binding = bindings_[worker_id];
  // An admin taking over an id makes it its own.
  binding.principal = caller.name;
  binding.token = std::move(token);
  return absl::OkStatus();
}

void WorkerTokens::Release(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  bindings_.erase(worker_id);
}

std::string WorkerTokens::Get(const std::string& worker_id) const {
  absl::MutexLock lock(&mu_);
  const auto found = bindings_.find(worker_id);
  return found == bindings_.end() ? std::string() : found->second.token;
}

}  // namespace quarry

#include "leader/api/caller_check.h"

#include <grpcpp/server_context.h>

#include <glog/logging.h>

#include "absl/strings/str_cat.h"

namespace quarry {

absl::StatusOr<Principal> CallerCheck::Require(
    const grpc::ServerContextBase& context, Role need,
    absl::string_view method) const {
  if (authenticator_ == nullptr) return Principal{"", Role::kAdmin};
  return Require(AuthorizationOf(context), need, method);
}

absl::StatusOr<Principal> CallerCheck::Require(
    std::optional<absl::string_view> authorization, Role need,
    absl::string_view method) const {
  if (authenticator_ == nullptr) return Principal{"", Role::kAdmin};
  absl::StatusOr<Principal> caller =
      authenticator_->Authenticate(authorization);
  if (!caller.ok()) {
    return absl::UnauthenticatedError(
        absl::StrCat(method, ": ", caller.status().message()));
  }
  if (!RoleAllows(caller->role, need)) {
    return absl::PermissionDeniedError(absl::StrCat(
        method, " needs role ", RoleName(need),
        need == Role::kAdmin ? "" : " or admin", "; ", caller->name,
        " has role ", RoleName(caller->role)));
  }
  return caller;
}

absl::Status CallerCheck::RequireOwner(const Principal& caller,
                                       absl::string_view owner,
                                       absl::string_view method,
                                       absl::string_view job_id) {
  if (caller.role == Role::kAdmin || (!owner.empty() && owner == caller.name)) {
    return absl::OkStatus();
  }
  return absl::PermissionDeniedError(
      absl::StrCat(method, " of job ", job_id, " needs role admin or to own ",
                   "it; ", caller.name, " does not (owner: ",
                   owner.empty() ? "none" : owner, ")"));
}

void CallerCheck::Audit(const Principal& caller, absl::string_view method,
                        absl::string_view target, const absl::Status& outcome) {
  LOG(INFO) << "audit: principal="
            << (caller.name.empty() ? "-" : caller.name)
            << " role=" << RoleName(caller.role) << " method=" << method
            << " target=" << (target.empty() ? "-" : target) << " outcome="
            << (outcome.ok() ? "OK" : absl::StatusCodeToString(outcome.code()));
}

}  // namespace quarry

#ifndef QUARRY_LEADER_API_CALLER_CHECK_H_
#define QUARRY_LEADER_API_CALLER_CHECK_H_

#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/auth.h"

namespace grpc {
class ServerContextBase;
}  // namespace grpc

namespace quarry {

// Checks the caller of each leader RPC against the role the call needs
// (docs/security.md has the table) and writes the audit log of mutating
// calls. Without an Authenticator (no --auth_file, so the leader serves
// loopback only unless --insecure) every caller is the anonymous admin.
// Thread-safe.
class CallerCheck {
 public:
  // `authenticator` may be null (auth off); it outlives this.
  explicit CallerCheck(const Authenticator* authenticator)
      : authenticator_(authenticator) {}

  // The caller, if it may make `method`, which needs role `need`:
  // UNAUTHENTICATED without a known token, PERMISSION_DENIED naming the
  // role needed when the caller's role is too little.
  absl::StatusOr<Principal> Require(const grpc::ServerContextBase& context,
                                    Role need, absl::string_view method) const;
  // The same for any transport: `authorization` is the value of the call's
  // authorization header or metadata (nullopt: none). The HTTP API uses it.
  absl::StatusOr<Principal> Require(
      std::optional<absl::string_view> authorization, Role need,
      absl::string_view method) const;

  // Whether `caller` may act (cancel, read logs) on a job owned by `owner`:
  // admin on any, others on their own. PERMISSION_DENIED otherwise.
  static absl::Status RequireOwner(const Principal& caller,
                                   absl::string_view owner,
                                   absl::string_view method,
                                   absl::string_view job_id);

  // One audit line (glog INFO): who, what, on what, and how it ended.
  static void Audit(const Principal& caller, absl::string_view method,
                    absl::string_view target, const absl::Status& outcome);

  bool enabled() const { return authenticator_ != nullptr; }

 private:
  const Authenticator* const authenticator_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_API_CALLER_CHECK_H_

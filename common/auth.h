#ifndef QUARRY_COMMON_AUTH_H_
#define QUARRY_COMMON_AUTH_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace grpc {
class ServerContextBase;
class ClientContext;
}  // namespace grpc

// Who may call what: the principals of an auth file (quarry-leader
// --auth_file), their roles, and the bearer tokens that name them.
namespace quarry {

// What a principal may do. admin: everything; user: submit, read every
// job, cancel and read the logs of its own; reader: read jobs and the
// cluster; worker: the calls a worker makes to its leader, nothing else.
enum class Role { kReader, kUser, kAdmin, kWorker };

absl::string_view RoleName(Role role);

// Whether a principal of role `have` may make a call that needs `need`
// (admin may make every call; user may make a reader's).
bool RoleAllows(Role have, Role need);

struct Principal {
  std::string name;
  Role role = Role::kAdmin;
};

// The parsed auth file: one line per principal, "NAME ROLE TOKEN"; '#'
// starts a comment, blank lines are ignored. Immutable; thread-safe.
class AuthTable {
 public:
  // Reads `path`. Refuses a file readable or writable by group or others,
  // a malformed line (named by number, never echoing a token), an unknown
  // role, a duplicate name or token, a token shorter than 16 bytes, or a
  // file with no principal.
  static absl::StatusOr<AuthTable> Load(const std::string& path);
  // The same rules over the file's text (tests).
  static absl::StatusOr<AuthTable> Parse(absl::string_view text);

  // The principal whose token is `token`, or null. Compares against every
  // token in constant time per byte, so timing tells nothing of a token.
  const Principal* Find(absl::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Principal principal;
    std::string token;
  };
  std::vector<Entry> entries_;
};

// The server side: the caller of an RPC, from its metadata
// ("authorization: Bearer TOKEN"). Reload() replaces the table (SIGHUP);
// calls in flight keep the table they started with. Thread-safe.
class Authenticator {
 public:
  Authenticator(std::string path, AuthTable table);

  // Reads the file again; on error keeps the current table.
  absl::Status Reload();

  // The caller, or UNAUTHENTICATED (no token, a malformed header, an
  // unknown token; never echoing the token).
  absl::StatusOr<Principal> Authenticate(
      const grpc::ServerContextBase& context) const;
  // The same from the value of an authorization header (gRPC metadata or
  // HTTP), nullopt when the call has none.
  absl::StatusOr<Principal> Authenticate(
      std::optional<absl::string_view> authorization) const;

 private:
  const std::string path_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const AuthTable> table_ ABSL_GUARDED_BY(mu_);
};

// The value of the call's "authorization" metadata; nullopt without one.
// Points into `context`.
std::optional<absl::string_view> AuthorizationOf(
    const grpc::ServerContextBase& context);

// The call's bearer token ("" if it has none).
std::string BearerToken(const grpc::ServerContextBase& context);

// Whether the call carries "authorization: Bearer `expected`" (compared in
// constant time); UNAUTHENTICATED otherwise, never echoing a token.
absl::Status RequireBearer(const grpc::ServerContextBase& context,
                           absl::string_view expected,
                           absl::string_view who);

// The client side: a token read from a file (--token_file) that must be
// readable by its owner only; surrounding whitespace is dropped. Errors
// name the file, never its content.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Adds "authorization: Bearer TOKEN" to a call (nothing when `token` is
// empty).
void AddToken(absl::string_view token, grpc::ClientContext& context);

inline constexpr char kAuthorizationHeader[] = "authorization";

}  // namespace quarry

#endif  // QUARRY_COMMON_AUTH_H_

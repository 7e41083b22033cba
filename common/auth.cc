#include "common/auth.h"

#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <sstream>
#include <utility>

#include <grpcpp/client_context.h>
#include <grpcpp/server_context.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace quarry {
namespace {

constexpr size_t kMinTokenBytes = 16;
constexpr size_t kMaxTokenBytes = 4096;
constexpr absl::string_view kBearer = "Bearer ";

bool ParseRole(absl::string_view text, Role* role) {
  for (Role candidate : {Role::kReader, Role::kUser, Role::kAdmin,
                         Role::kWorker}) {
    if (text == RoleName(candidate)) {
      *role = candidate;
      return true;
    }
  }
  return false;
}

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_' && c != '-' && c != '.' &&
        c != '@') {
      return false;
    }
  }
  return true;
}

// Whether `a` equals `b`, in time that depends on their lengths only.
bool ConstantTimeEquals(absl::string_view a, absl::string_view b) {
  unsigned char difference = a.size() == b.size() ? 0 : 1;
  const size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    difference |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return difference == 0;
}

// Refuses a secret file that others than its owner may read or write.
absl::Status CheckPrivate(const std::string& path, absl::string_view what) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(
        absl::StrCat(what, " ", path, ": ", strerror(errno)));
  }
  if (!S_ISREG(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, " is not a regular file"));
  }
  if ((info.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s %s is readable or writable by group or others (mode %04o); "
        "chmod 600 it",
        what, path, info.st_mode & 07777));
  }
  return absl::OkStatus();
}

// The bearer token of an authorization header or metadata value, or
// UNAUTHENTICATED saying what is wrong with it (never echoing it).
absl::StatusOr<absl::string_view> BearerOf(
    std::optional<absl::string_view> authorization) {
  if (!authorization.has_value()) {
    return absl::UnauthenticatedError(
        "no credentials: send the metadata 'authorization: Bearer TOKEN' "
        "(quarry: QUARRY_TOKEN or --token-file)");
  }
  absl::string_view value = *authorization;
  if (!absl::ConsumePrefix(&value, kBearer)) {
    return absl::UnauthenticatedError(
        "malformed authorization metadata: want 'Bearer TOKEN'");
  }
  return value;
}

absl::StatusOr<std::string> ReadPrivateFile(const std::string& path,
                                            absl::string_view what) {
  if (absl::Status ok = CheckPrivate(path, what); !ok.ok()) return ok;
  std::ifstream file(path, std::ios::binary);
  std::ostringstream text;
  text << file.rdbuf();
  if (!file.good() && !file.eof()) {
    return absl::InternalError(absl::StrCat("cannot read ", what, " ", path));
  }
  return text.str();
}

}  // namespace

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kReader:
      return "reader";
    case Role::kUser:
      return "user";
    case Role::kAdmin:
      return "admin";
    case Role::kWorker:
      return "worker";
  }
  return "unknown";
}

bool RoleAllows(Role have, Role need) {
  if (have == Role::kAdmin || have == need) return true;
  return have == Role::kUser && need == Role::kReader;
}

absl::StatusOr<AuthTable> AuthTable::Parse(absl::string_view text) {
  AuthTable table;
  absl::flat_hash_set<std::string> names;
  absl::flat_hash_set<std::string> tokens;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (const size_t hash = line.find('#'); hash != line.npos) {
      line = line.substr(0, hash);
    }
    const std::vector<absl::string_view> fields =
        absl::StrSplit(line, absl::ByAnyChar(" \t\r"), absl::SkipEmpty());
    if (fields.empty()) continue;
    const std::string where = absl::StrCat("auth file line ", number);
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": want NAME ROLE TOKEN, got ", fields.size(), " fields"));
    }
    Entry entry;
    entry.principal.name = std::string(fields[0]);
    if (!ValidName(fields[0])) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": bad name (1..128 of [A-Za-z0-9._@-])"));
    }
    if (!ParseRole(fields[1], &entry.principal.role)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": unknown role \"", fields[1].substr(0, 32),
                       "\" (admin, user, reader or worker)"));
    }
    entry.token = std::string(fields[2]);
    if (entry.token.size() < kMinTokenBytes ||
        entry.token.size() > kMaxTokenBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": the token must be ", kMinTokenBytes, "..",
                       kMaxTokenBytes, " bytes (e.g. openssl rand -hex 32)"));
    }
    if (!names.insert(entry.principal.name).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": duplicate name \"", entry.principal.name, "\""));
    }
    if (!tokens.insert(entry.token).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": duplicate token (each principal needs its own)"));
    }
    table.entries_.push_back(std::move(entry));
  }
  if (table.entries_.empty()) {
    return absl::InvalidArgumentError("auth file names no principal");
  }
  return table;
}

absl::StatusOr<AuthTable> AuthTable::Load(const std::string& path) {
  absl::StatusOr<std::string> text = ReadPrivateFile(path, "auth file");
  if (!text.ok()) return text.status();
  absl::StatusOr<AuthTable> table = Parse(*text);
  if (!table.ok()) {
    return absl::Status(table.status().code(),
                        absl::StrCat(path, ": ", table.status().message()));
  }
  return table;
}

const Principal* AuthTable::Find(absl::string_view token) const {
  const Principal* found = nullptr;
  for (const Entry& entry : entries_) {  // No early exit.
    if (ConstantTimeEquals(entry.token, token)) found = &entry.principal;
  }
  return found;
}

Authenticator::Authenticator(std::string path, AuthTable table)
    : path_(std::move(path)),
      table_(std::make_shared<const AuthTable>(std::move(table))) {}

absl::Status Authenticator::Reload() {
  absl::StatusOr<AuthTable> table = AuthTable::Load(path_);
  if (!table.ok()) return table.status();
  auto loaded = std::make_shared<const AuthTable>(*std::move(table));
  absl::MutexLock lock(&mu_);
  table_ = std::move(loaded);
  return absl::OkStatus();
}

std::optional<absl::string_view> AuthorizationOf(
    const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  const auto header = metadata.find(kAuthorizationHeader);
  if (header == metadata.end()) return std::nullopt;
  return absl::string_view(header->second.data(), header->second.size());
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    const grpc::ServerContextBase& context) const {
  return Authenticate(AuthorizationOf(context));
}

absl::StatusOr<Principal> Authenticator::Authenticate(
    std::optional<absl::string_view> authorization) const {
  absl::StatusOr<absl::string_view> token = BearerOf(authorization);
  if (!token.ok()) return token.status();
  std::shared_ptr<const AuthTable> table;
  {
    absl::MutexLock lock(&mu_);
    table = table_;
  }
  const Principal* principal = table->Find(*token);
  if (principal == nullptr) {
    return absl::UnauthenticatedError("unknown token");
  }
  return *principal;
}

std::string BearerToken(const grpc::ServerContextBase& context) {
  absl::StatusOr<absl::string_view> token = BearerOf(AuthorizationOf(context));
  return token.ok() ? std::string(*token) : std::string();
}

absl::Status RequireBearer(const grpc::ServerContextBase& context,
                           absl::string_view expected,
                           absl::string_view who) {
  absl::StatusOr<absl::string_view> token = BearerOf(AuthorizationOf(context));
  if (token.ok() && ConstantTimeEquals(*token, expected)) {
    return absl::OkStatus();
  }
  return absl::UnauthenticatedError(absl::StrCat(
      "this ", who, " takes calls only from its leader (with its token)"));
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  absl::StatusOr<std::string> text = ReadPrivateFile(path, "token file");
  if (!text.ok()) return text.status();
  const std::string token(absl::StripAsciiWhitespace(*text));
  if (token.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token file ", path, " is empty"));
  }
  if (token.find_first_of(" \t\r\n") != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("token file ", path, " holds more than one word"));
  }
  return token;
}

void AddToken(absl::string_view token, grpc::ClientContext& context) {
  if (token.empty()) return;
  context.AddMetadata(kAuthorizationHeader, absl::StrCat(kBearer, token));
}

}  // namespace quarry

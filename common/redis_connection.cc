#include "common/redis_connection.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace quarry {
namespace {

// argv/argvlen views of `args` for hiredis.
struct Argv {
  explicit Argv(const std::vector<std::string>& args) {
    for (const std::string& arg : args) {
      pointers.push_back(arg.data());
      lengths.push_back(arg.size());
    }
  }
  int argc() const { return static_cast<int>(pointers.size()); }
  std::vector<const char*> pointers;
  std::vector<size_t> lengths;
};

}  // namespace

std::string RedisAddress::ToString() const {
  return absl::StrCat(host, ":", port, "/", db);
}

absl::StatusOr<RedisAddress> ParseRedisUrl(absl::string_view url) {
  auto bad = [url](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "redis URL \"", url, "\" ", why,
        " (expected redis://[:PASSWORD@]HOST:PORT[/DB])"));
  };
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "redis://")) {
    return bad("does not start with redis://");
  }
  RedisAddress address;
  if (size_t at = rest.rfind('@'); at != absl::string_view::npos) {
    absl::string_view credentials = rest.substr(0, at);
    if (!absl::ConsumePrefix(&credentials, ":") || credentials.empty()) {
      return bad("has credentials other than :PASSWORD");
    }
    address.password = std::string(credentials);
    rest.remove_prefix(at + 1);
  }
  if (size_t slash = rest.find('/'); slash != absl::string_view::npos) {
    if (!absl::SimpleAtoi(rest.substr(slash + 1), &address.db) ||
        address.db < 0 || address.db > 1000) {
      return bad("has a database number that is not 0..1000");
    }
    rest = rest.substr(0, slash);
  }
  size_t colon = rest.rfind(':');
  if (colon == absl::string_view::npos) {
    address.host = std::string(rest);
  } else {
    address.host = std::string(rest.substr(0, colon));
    if (!absl::SimpleAtoi(rest.substr(colon + 1), &address.port) ||
        address.port <= 0 || address.port > 65535) {
      return bad("has a port that is not 1..65535");
    }
  }
  if (address.host.empty()) return bad("has no host");
  return address;
}

void RedisReplyDeleter::operator()(redisReply* reply) const {
  freeReplyObject(reply);
}

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisConnection::Connect(
    const RedisAddress& address, absl::Duration timeout) {
  redisContext* context = redisConnectWithTimeout(
      address.host.c_str(), address.port, absl::ToTimeval(timeout));
  if (context == nullptr) {
    return absl::ResourceExhaustedError("cannot allocate a Redis context");
  }
  if (context->err != 0) {
    std::string error = context->errstr;
    redisFree(context);
    return absl::UnavailableError(absl::StrCat(
        "cannot connect to Redis at ", address.ToString(), ": ", error));
  }
  redisSetTimeout(context, absl::ToTimeval(timeout));
  redisEnableKeepAlive(context);
  std::unique_ptr<RedisConnection> connection(new RedisConnection(context));
  if (!address.password.empty()) {
    absl::StatusOr<RedisReplyPtr> reply =
        connection->Command({"AUTH", address.password});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR) {
      return absl::PermissionDeniedError(
          absl::StrCat("Redis refused the password: ", (*reply)->str));
    }
  }
  if (address.db != 0) {
    absl::StatusOr<RedisReplyPtr> reply =
        connection->Command({"SELECT", absl::StrCat(address.db)});
    if (!reply.ok()) return reply.status();
    if ((*reply)->type == REDIS_REPLY_ERROR) {
      return absl::InvalidArgumentError(absl::StrCat(
          "Redis cannot select database ", address.db, ": ", (*reply)->str));
    }
  }
  return connection;
}

RedisConnection::~RedisConnection() { redisFree(context_); }

absl::Status RedisConnection::IoError(absl::string_view what) {
  broken_ = true;
  return absl::UnavailableError(
      absl::StrCat("Redis ", what, " failed: ",
                   context_->err != 0 ? context_->errstr : "no reply"));
}

absl::StatusOr<RedisReplyPtr> RedisConnection::Command(
    const std::vector<std::string>& args) {
  if (broken_) return absl::UnavailableError("Redis connection is broken");
  Argv argv(args);
  auto* reply = static_cast<redisReply*>(redisCommandArgv(
      context_, argv.argc(), argv.pointers.data(), argv.lengths.data()));
  if (reply == nullptr) return IoError(args.empty() ? "command" : args[0]);
  return RedisReplyPtr(reply);
}

absl::StatusOr<std::vector<RedisReplyPtr>> RedisConnection::Pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  if (broken_) return absl::UnavailableError("Redis connection is broken");
  for (const std::vector<std::string>& args : commands) {
    Argv argv(args);
    if (redisAppendCommandArgv(context_, argv.argc(), argv.pointers.data(),
                               argv.lengths.data()) != REDIS_OK) {
      return IoError("pipeline");
    }
  }
  std::vector<RedisReplyPtr> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* reply = nullptr;
    if (redisGetReply(context_, &reply) != REDIS_OK || reply == nullptr) {
      if (reply != nullptr) freeReplyObject(reply);
      return IoError("pipeline");
    }
    replies.emplace_back(static_cast<redisReply*>(reply));
  }
  return replies;
}

absl::Status StatusFromRedisError(absl::string_view error) {
  // Script errors arrive as "ERR <message> script: ..." or bare messages.
  absl::string_view message = error;
  absl::ConsumePrefix(&message, "ERR ");
  struct Prefix {
    absl::string_view text;
    absl::StatusCode code;
  };
  constexpr Prefix kPrefixes[] = {
      {"NOT_FOUND ", absl::StatusCode::kNotFound},
      {"ALREADY_EXISTS ", absl::StatusCode::kAlreadyExists},
      {"INVALID_ARGUMENT ", absl::StatusCode::kInvalidArgument},
      {"FAILED_PRECONDITION ", absl::StatusCode::kFailedPrecondition},
  };
  for (const Prefix& prefix : kPrefixes) {
    if (absl::ConsumePrefix(&message, prefix.text)) {
      return absl::Status(prefix.code, message);
    }
  }
  return absl::InternalError(absl::StrCat("Redis error: ", error));
}

absl::StatusOr<std::string> ReplyString(const redisReply& reply) {
  switch (reply.type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      return std::string(reply.str, reply.len);
    case REDIS_REPLY_NIL:
      return absl::NotFoundError("no such key");
    case REDIS_REPLY_ERROR:
      return StatusFromRedisError(absl::string_view(reply.str, reply.len));
    default:
      return absl::InternalError(
          absl::StrCat("unexpected Redis reply type ", reply.type));
  }
}

absl::StatusOr<long long> ReplyInteger(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_INTEGER) return reply.integer;
  if (reply.type == REDIS_REPLY_ERROR) {
    return StatusFromRedisError(absl::string_view(reply.str, reply.len));
  }
  return absl::InternalError(
      absl::StrCat("expected an integer reply, got type ", reply.type));
}

}  // namespace quarry

#ifndef QUARRY_COMMON_REDIS_CONNECTION_H_
#define QUARRY_COMMON_REDIS_CONNECTION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

struct redisContext;
struct redisReply;

namespace quarry {

// Where a Redis server is: parsed from redis://[:PASSWORD@]HOST:PORT[/DB].
struct RedisAddress {
  std::string host;
  int port = 6379;
  int db = 0;
  std::string password;

  std::string ToString() const;  // host:port/db, without the password.
};

// INVALID_ARGUMENT naming the problem for anything but a well-formed URL.
absl::StatusOr<RedisAddress> ParseRedisUrl(absl::string_view url);

struct RedisReplyDeleter {
  void operator()(redisReply* reply) const;
};
using RedisReplyPtr = std::unique_ptr<redisReply, RedisReplyDeleter>;

// One blocking connection to Redis (hiredis), with a deadline on connecting
// and on every command. After an I/O error or a timeout the connection is
// broken (ok() is false) and must be discarded. Not thread-safe: one thread
// uses it at a time (RedisStore keeps a pool).
class RedisConnection {
 public:
  // Connects, authenticates and selects the database. UNAVAILABLE when the
  // server cannot be reached in `timeout`.
  static absl::StatusOr<std::unique_ptr<RedisConnection>> Connect(
      const RedisAddress& address, absl::Duration timeout);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Runs one command. A Redis error reply becomes INTERNAL with its text
  // (Lua scripts signal NOT_FOUND etc. through error prefixes: see
  // StatusFromRedisError); an I/O error or timeout, UNAVAILABLE.
  absl::StatusOr<RedisReplyPtr> Command(const std::vector<std::string>& args);
  // Sends every command in one round trip and returns their replies in
  // order. Error replies are returned as replies (the caller checks).
  absl::StatusOr<std::vector<RedisReplyPtr>> Pipeline(
      const std::vector<std::vector<std::string>>& commands);

  bool ok() const { return !broken_; }

 private:
  explicit RedisConnection(redisContext* context) : context_(context) {}
  absl::Status IoError(absl::string_view what);

  redisContext* context_;
  bool broken_ = false;
};

// The status a script's error reply stands for: replies that start with
// "NOT_FOUND ", "ALREADY_EXISTS ", "INVALID_ARGUMENT " or
// "FAILED_PRECONDITION " map to those codes
// (with the rest as message); anything else is INTERNAL.
absl::Status StatusFromRedisError(absl::string_view error);

// Accessors that check a reply's type.
absl::StatusOr<std::string> ReplyString(const redisReply& reply);  // nil: NOT_FOUND
absl::StatusOr<long long> ReplyInteger(const redisReply& reply);

}  // namespace quarry

#endif  // QUARRY_COMMON_REDIS_CONNECTION_H_

#include "leader/election/redis_lease.h"

#include <hiredis/hiredis.h>

#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace quarry {
namespace {

// KEYS: lease, epoch. ARGV: value without the epoch ("ID\nADDRESS"), ttl_ms.
constexpr char kAcquireScript[] = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder then return redis.error_reply('ALREADY_EXISTS ' .. holder) end
local epoch = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '\n' .. epoch, 'PX', ARGV[2])
return epoch
)lua";

// KEYS: lease. ARGV: the holder's whole value, ttl_ms.
constexpr char kRenewScript[] = R"lua(
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return redis.error_reply('FAILED_PRECONDITION the lease is no longer ours')
end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])
)lua";

// KEYS: lease. ARGV: the holder's whole value.
constexpr char kReleaseScript[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

std::string Millis(absl::Duration duration) {
  return absl::StrCat(std::max<int64_t>(1, absl::ToInt64Milliseconds(duration)));
}

}  // namespace

std::string EncodeLeaseHolder(const LeaseHolder& holder) {
  return absl::StrCat(holder.id, "\n", holder.address, "\n", holder.epoch);
}

absl::StatusOr<LeaseHolder> DecodeLeaseHolder(const std::string& value) {
  const std::vector<std::string> parts = absl::StrSplit(value, '\n');
  LeaseHolder holder;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[2], &holder.epoch)) {
    return absl::InternalError("malformed leader lease value in Redis");
  }
  holder.id = parts[0];
  holder.address = parts[1];
  return holder;
}

RedisLease::RedisLease(RedisAddress address, const std::string& cluster_name,
                       absl::Duration timeout)
    : address_(std::move(address)),
      lease_key_(absl::StrCat("quarry:", cluster_name, ":leader")),
      epoch_key_(absl::StrCat("quarry:", cluster_name, ":epoch")),
      timeout_(timeout) {}

absl::StatusOr<RedisReplyPtr> RedisLease::Run(
    const std::vector<std::string>& args) {
  if (connection_ == nullptr || !connection_->ok()) {
    connection_.reset();
    absl::StatusOr<std::unique_ptr<RedisConnection>> connected =
        RedisConnection::Connect(address_, timeout_);
    if (!connected.ok()) return connected.status();
    connection_ = *std::move(connected);
  }
  return connection_->Command(args);
}

absl::StatusOr<int64_t> RedisLease::Acquire(const LeaseHolder& me,
                                            absl::Duration ttl) {
  absl::StatusOr<RedisReplyPtr> reply =
      Run({"EVAL", kAcquireScript, "2", lease_key_, epoch_key_,
           absl::StrCat(me.id, "\n", me.address), Millis(ttl)});
  if (!reply.ok()) return reply.status();
  absl::StatusOr<long long> epoch = ReplyInteger(**reply);
  if (!epoch.ok()) return epoch.status();
  return static_cast<int64_t>(*epoch);
}

absl::Status RedisLease::Renew(const LeaseHolder& me, absl::Duration ttl) {
  absl::StatusOr<RedisReplyPtr> reply = Run(
      {"EVAL", kRenewScript, "1", lease_key_, EncodeLeaseHolder(me), Millis(ttl)});
  if (!reply.ok()) return reply.status();
  return ReplyInteger(**reply).status();
}

absl::Status RedisLease::Release(const LeaseHolder& me) {
  absl::StatusOr<RedisReplyPtr> reply = Run(
      {"EVAL", kReleaseScript, "1", lease_key_, EncodeLeaseHolder(me)});
  if (!reply.ok()) return reply.status();
  return ReplyInteger(**reply).status();
}

absl::StatusOr<LeaseHolder> RedisLease::Holder() {
  absl::StatusOr<RedisReplyPtr> reply = Run({"GET", lease_key_});
  if (!reply.ok()) return reply.status();
  absl::StatusOr<std::string> value = ReplyString(**reply);
  if (!value.ok()) {
    if (absl::IsNotFound(value.status())) {
      return absl::NotFoundError("no leader holds the lease");
    }
    return value.status();
  }
  return DecodeLeaseHolder(*value);
}

}  // namespace quarry

#include "common/redis_store.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/time_util.h"

namespace quarry {
namespace {

using quarry::v1::Job;
using quarry::v1::Task;

// KEYS: job, tasks, jobs, jobs:<state>, ended.
// ARGV: id, seq, state, rec, ntasks, end_ms or "", then index/task pairs.
constexpr char kCreateJobScript[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('ALREADY_EXISTS job ' .. ARGV[1] .. ' exists')
end
redis.call('HSET', KEYS[1], 'rec', ARGV[4], 'state', ARGV[3], 'seq', ARGV[2],
           'ntasks', ARGV[5])
redis.call('ZADD', KEYS[3], ARGV[2], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[2], ARGV[1])
if ARGV[6] ~= '' then redis.call('ZADD', KEYS[5], ARGV[6], ARGV[1]) end
for i = 7, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
)lua";

// KEYS: job. ARGV: prefix, id, state, rec, end_ms or "".
constexpr char kUpdateJobScript[] = R"lua(
local old = redis.call('HGET', KEYS[1], 'state')
if not old then
  return redis.error_reply('NOT_FOUND job ' .. ARGV[2] .. ' not found')
end
redis.call('HSET', KEYS[1], 'rec', ARGV[4], 'state', ARGV[3])
if old ~= ARGV[3] then
  local seq = redis.call('HGET', KEYS[1], 'seq')
  redis.call('ZREM', ARGV[1] .. 'jobs:' .. old, ARGV[2])
  redis.call('ZADD', ARGV[1] .. 'jobs:' .. ARGV[3], seq, ARGV[2])
end
if ARGV[5] ~= '' then
  redis.call('ZADD', ARGV[1] .. 'ended', ARGV[5], ARGV[2])
else
  redis.call('ZREM', ARGV[1] .. 'ended', ARGV[2])
end
return 1
)lua";

// KEYS: job, tasks. ARGV: id, then index/task pairs.
constexpr char kUpdateTasksScript[] = R"lua(
local n = redis.call('HGET', KEYS[1], 'ntasks')
if not n then
  return redis.error_reply('NOT_FOUND job ' .. ARGV[1] .. ' not found')
end
n = tonumber(n)
for i = 2, #ARGV, 2 do
  local index = tonumber(ARGV[i])
  if index < 0 or index >= n then
    return redis.error_reply('INVALID_ARGUMENT job ' .. ARGV[1] ..
                             ' has no task ' .. ARGV[i])
  end
end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1]) end
return 1
)lua";

// KEYS: job, tasks. ARGV: id.
constexpr char kGetTasksScript[] = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NOT_FOUND job ' .. ARGV[1] .. ' not found')
end
return redis.call('HVALS', KEYS[2])
)lua";

// KEYS: job, tasks. ARGV: prefix, id.
constexpr char kDeleteJobScript[] = R"lua(
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return redis.error_reply('NOT_FOUND job ' .. ARGV[2] .. ' not found')
end
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', ARGV[1] .. 'jobs', ARGV[2])
redis.call('ZREM', ARGV[1] .. 'jobs:' .. state, ARGV[2])
redis.call('ZREM', ARGV[1] .. 'ended', ARGV[2])
return 1
)lua";

bool ValidClusterName(absl::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-';
  });
}

// "" for an unfinished job, else its end time in Unix milliseconds.
std::string EndScore(const Job& job) {
  if (!IsFinished(job.state())) return "";
  return absl::StrCat(absl::ToUnixMillis(FromProtoTime(job.end_time())));
}

template <typename Message>
absl::StatusOr<Message> Parse(const redisReply& reply, absl::string_view what) {
  absl::StatusOr<std::string> bytes = ReplyString(reply);
  if (!bytes.ok()) return bytes.status();
  Message message;
  if (!message.ParseFromString(*bytes)) {
    return absl::DataLossError(absl::StrCat("cannot parse stored ", what));
  }
  return message;
}

void AppendTasks(const std::vector<Task>& tasks,
                 std::vector<std::string>& args) {
  for (const Task& task : tasks) {
    args.push_back(absl::StrCat(task.index()));
    args.push_back(task.SerializeAsString());
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<RedisStore>> RedisStore::Create(
    RedisStoreOptions options) {
  if (!ValidClusterName(options.cluster_name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cluster name \"", options.cluster_name,
        "\" must be 1..64 characters of [A-Za-z0-9_.-]"));
  }
  if (options.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("Redis timeout must be positive");
  }
  return std::unique_ptr<RedisStore>(new RedisStore(std::move(options)));
}

RedisStore::RedisStore(RedisStoreOptions options)
    : options_(std::move(options)),
      prefix_(absl::StrCat("quarry:", options_.cluster_name, ":")),
      backoff_(options_.initial_backoff) {}

std::string RedisStore::Key(absl::string_view suffix) const {
  return absl::StrCat(prefix_, suffix);
}
std::string RedisStore::JobKey(absl::string_view job_id) const {
  return absl::StrCat(prefix_, "job:", job_id);
}
std::string RedisStore::TasksKey(absl::string_view job_id) const {
  return absl::StrCat(prefix_, "tasks:", job_id);
}

absl::StatusOr<std::unique_ptr<RedisConnection>> RedisStore::Acquire(
    bool* pooled) {
  {
    absl::MutexLock lock(&mu_);
    if (!idle_.empty()) {
      std::unique_ptr<RedisConnection> connection = std::move(idle_.back());
      idle_.pop_back();
      *pooled = true;
      return connection;
    }
    if (absl::Now() < next_connect_) {
      return absl::UnavailableError(absl::StrCat(
          last_connect_error_.message(), " (next try in ",
          absl::FormatDuration(next_connect_ - absl::Now()), ")"));
    }
  }
  *pooled = false;
  absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
      RedisConnection::Connect(options_.address, options_.timeout);
  absl::MutexLock lock(&mu_);
  if (!connection.ok()) {
    last_connect_error_ = connection.status();
    next_connect_ = absl::Now() + backoff_;
    backoff_ = std::min(backoff_ * 2, options_.max_backoff);
    return absl::UnavailableError(connection.status().message());
  }
  backoff_ = options_.initial_backoff;
  next_connect_ = absl::InfinitePast();
  return connection;
}

void RedisStore::Release(std::unique_ptr<RedisConnection> connection) {
  absl::MutexLock lock(&mu_);
  if (connection->ok() &&
      static_cast<int>(idle_.size()) < options_.max_idle_connections) {
    idle_.push_back(std::move(connection));
  }
}

absl::StatusOr<std::vector<RedisReplyPtr>> RedisStore::Run(
    const std::vector<std::vector<std::string>>& commands) {
  for (int attempt = 0;; ++attempt) {
    bool pooled = false;
    absl::StatusOr<std::unique_ptr<RedisConnection>> connection =
        Acquire(&pooled);
    if (!connection.ok()) return connection.status();
    absl::StatusOr<std::vector<RedisReplyPtr>> replies =
        (*connection)->Pipeline(commands);
    if (replies.ok()) {
      Release(*std::move(connection));
      return replies;
    }
    if (!pooled || attempt > 0) return replies.status();
    // A pooled connection died (e.g. Redis restarted): so did its
    // siblings. Retry once on a fresh connection.
    absl::MutexLock lock(&mu_);
    idle_.clear();
  }
}

absl::StatusOr<RedisReplyPtr> RedisStore::RunOne(
    std::vector<std::string> command) {
  absl::StatusOr<std::vector<RedisReplyPtr>> replies = Run({std::move(command)});
  if (!replies.ok()) return replies.status();
  RedisReplyPtr reply = std::move(replies->front());
  if (reply->type == REDIS_REPLY_ERROR) {
    return StatusFromRedisError(absl::string_view(reply->str, reply->len));
  }
  return reply;
}

absl::Status RedisStore::Ping() { return RunOne({"PING"}).status(); }

absl::StatusOr<int64_t> RedisStore::NextJobSequence() {
  absl::StatusOr<RedisReplyPtr> reply = RunOne({"INCR", Key("seq")});
  if (!reply.ok()) return reply.status();
  return ReplyInteger(**reply);
}

absl::Status RedisStore::CreateJob(const Job& job,
                                   const std::vector<Task>& tasks) {
  std::optional<int64_t> sequence = ParseJobId(job.id());
  if (!sequence.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("job id \"", job.id(), "\" is malformed"));
  }
  std::vector<std::string> args = {
      "EVAL",
      kCreateJobScript,
      "5",
      JobKey(job.id()),
      TasksKey(job.id()),
      Key("jobs"),
      Key(absl::StrCat("jobs:", job.state())),
      Key("ended"),
      job.id(),
      absl::StrCat(*sequence),
      absl::StrCat(job.state()),
      job.SerializeAsString(),
      absl::StrCat(tasks.size()),
      EndScore(job)};
  args.reserve(args.size() + 2 * tasks.size());
  AppendTasks(tasks, args);
  return RunOne(std::move(args)).status();
}

absl::Status RedisStore::UpdateJob(const Job& job) {
  return RunOne({"EVAL", kUpdateJobScript, "1", JobKey(job.id()), prefix_,
                 job.id(), absl::StrCat(job.state()), job.SerializeAsString(),
                 EndScore(job)})
      .status();
}

absl::Status RedisStore::UpdateTasks(absl::string_view job_id,
                                     const std::vector<Task>& tasks) {
  std::vector<std::string> args = {"EVAL", kUpdateTasksScript, "2",
                                   JobKey(job_id), TasksKey(job_id),
                                   std::string(job_id)};
  args.reserve(args.size() + 2 * tasks.size());
  AppendTasks(tasks, args);
  return RunOne(std::move(args)).status();
}

absl::StatusOr<Job> RedisStore::GetJob(absl::string_view job_id) {
  absl::StatusOr<RedisReplyPtr> reply =
      RunOne({"HGET", JobKey(job_id), "rec"});
  if (!reply.ok()) return reply.status();
  if ((*reply)->type == REDIS_REPLY_NIL) {
    return absl::NotFoundError(absl::StrCat("job ", job_id, " not found"));
  }
  return Parse<Job>(**reply, "job");
}

absl::StatusOr<std::vector<Task>> RedisStore::GetTasks(
    absl::string_view job_id) {
  absl::StatusOr<RedisReplyPtr> reply =
      RunOne({"EVAL", kGetTasksScript, "2", JobKey(job_id), TasksKey(job_id),
              std::string(job_id)});
  if (!reply.ok()) return reply.status();
  std::vector<Task> tasks;
  tasks.reserve((*reply)->elements);
  for (size_t i = 0; i < (*reply)->elements; ++i) {
    absl::StatusOr<Task> task = Parse<Task>(*(*reply)->element[i], "task");
    if (!task.ok()) return task.status();
    tasks.push_back(*std::move(task));
  }
  std::sort(tasks.begin(), tasks.end(), [](const Task& a, const Task& b) {
    return a.index() < b.index();
  });
  return tasks;
}

absl::StatusOr<JobPage> RedisStore::ListJobs(quarry::v1::JobState state,
                                             int page_size,
                                             absl::string_view page_token) {
  int64_t before = 0;
  if (!page_token.empty() &&
      (!absl::SimpleAtoi(page_token, &before) || before <= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token \"", page_token, "\" is malformed"));
  }
  const std::string index =
      state == quarry::v1::JOB_STATE_UNSPECIFIED
          ? Key("jobs")
          : Key(absl::StrCat("jobs:", static_cast<int>(state)));
  absl::StatusOr<RedisReplyPtr> ids = RunOne(
      {"ZREVRANGEBYSCORE", index,
       page_token.empty() ? "+inf" : absl::StrCat("(", before), "-inf",
       "WITHSCORES", "LIMIT", "0", absl::StrCat(page_size + 1)});
  if (!ids.ok()) return ids.status();
  // Element pairs: id, sequence.
  const size_t found = (*ids)->elements / 2;
  const size_t take = std::min<size_t>(found, page_size);
  JobPage page;
  if (found > take) {
    int64_t next = 0;
    absl::SimpleAtoi(ReplyString(*(*ids)->element[2 * take + 1]).value_or(""),
                     &next);
    page.next_page_token = absl::StrCat(next + 1);
  }
  if (take == 0) return page;
  std::vector<std::vector<std::string>> gets;
  for (size_t i = 0; i < take; ++i) {
    gets.push_back({"HGET", JobKey(ReplyString(*(*ids)->element[2 * i])
                                       .value_or("")),
                    "rec"});
  }
  absl::StatusOr<std::vector<RedisReplyPtr>> records = Run(gets);
  if (!records.ok()) return records.status();
  for (const RedisReplyPtr& record : *records) {
    if (record->type == REDIS_REPLY_NIL) continue;  // Deleted meanwhile.
    absl::StatusOr<Job> job = Parse<Job>(*record, "job");
    if (!job.ok()) return job.status();
    page.jobs.push_back(*std::move(job));
  }
  return page;
}

absl::Status RedisStore::DeleteJob(absl::string_view job_id) {
  return RunOne({"EVAL", kDeleteJobScript, "2", JobKey(job_id),
                 TasksKey(job_id), prefix_, std::string(job_id)})
      .status();
}

absl::StatusOr<std::vector<std::string>> RedisStore::ListJobsEndedBefore(
    absl::Time cutoff, int limit) {
  absl::StatusOr<RedisReplyPtr> reply =
      RunOne({"ZRANGEBYSCORE", Key("ended"), "-inf",
              absl::StrCat("(", absl::ToUnixMillis(cutoff)), "LIMIT", "0",
              absl::StrCat(limit)});
  if (!reply.ok()) return reply.status();
  std::vector<std::string> ids;
  for (size_t i = 0; i < (*reply)->elements; ++i) {
    absl::StatusOr<std::string> id = ReplyString(*(*reply)->element[i]);
    if (!id.ok()) return id.status();
    ids.push_back(*std::move(id));
  }
  return ids;
}

absl::Status RedisStore::PutWorker(const quarry::v1::Worker& worker) {
  return RunOne({"HSET", Key("workers"), worker.id(),
                 worker.SerializeAsString()})
      .status();
}

absl::Status RedisStore::DeleteWorker(absl::string_view worker_id) {
  return RunOne({"HDEL", Key("workers"), std::string(worker_id)}).status();
}

absl::StatusOr<std::vector<quarry::v1::Worker>> RedisStore::ListWorkers() {
  absl::StatusOr<RedisReplyPtr> reply = RunOne({"HVALS", Key("workers")});
  if (!reply.ok()) return reply.status();
  std::vector<quarry::v1::Worker> workers;
  for (size_t i = 0; i < (*reply)->elements; ++i) {
    absl::StatusOr<quarry::v1::Worker> worker =
        Parse<quarry::v1::Worker>(*(*reply)->element[i], "worker");
    if (!worker.ok()) return worker.status();
    workers.push_back(*std::move(worker));
  }
  std::sort(workers.begin(), workers.end(),
            [](const auto& a, const auto& b) { return a.id() < b.id(); });
  return workers;
}

}  // namespace quarry

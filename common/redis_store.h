#ifndef QUARRY_COMMON_REDIS_STORE_H_
#define QUARRY_COMMON_REDIS_STORE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/redis_connection.h"
#include "common/store.h"

namespace quarry {

struct RedisStoreOptions {
  RedisAddress address;
  // Every key starts with "quarry:<cluster_name>:", so clusters can share
  // one Redis. [A-Za-z0-9_.-], 1..64.
  std::string cluster_name = "default";
  // Deadline of connecting and of every command.
  absl::Duration timeout = absl::Seconds(2);
  // After a failed connect, calls fail fast (UNAVAILABLE) for a backoff
  // that doubles from `initial_backoff` up to `max_backoff`.
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(1);
  // Connections kept open between calls.
  int max_idle_connections = 8;
};

// The Store on Redis (hiredis): the shared cache of the design, surviving a
// leader restart. Layout, under the prefix P = "quarry:<cluster>:":
//   P seq            counter of job sequence numbers (INCR)
//   P job:<id>       hash: rec (serialized Job), state, seq, ntasks
//   P tasks:<id>     hash: task index -> serialized Task
//   P jobs           sorted set of job ids by sequence (all jobs)
//   P jobs:<state>   sorted set of job ids by sequence, per JobState number
//   P ended          sorted set of finished job ids by end time (ms)
//   P workers        hash: worker id -> serialized Worker
// Changes that touch several keys run as one Lua script, so they are
// atomic. The scripts build key names from the prefix, so the store needs
// a standalone Redis (not Redis Cluster).
//
// Thread-safe: each call takes a connection from a small pool (mu_ guards
// the pool and the reconnect backoff), so calls from many threads run in
// parallel. Errors: UNAVAILABLE when Redis cannot be reached or a call
// times out (retry later; a call on a pooled connection that turns out to
// be dead is retried once on a fresh one), NOT_FOUND / ALREADY_EXISTS /
// INVALID_ARGUMENT as the Store contract says.
class RedisStore : public Store {
 public:
  // Validates the options; does not connect (the first call does).
  static absl::StatusOr<std::unique_ptr<RedisStore>> Create(
      RedisStoreOptions options);

  // Round trip to the server: OK when Redis answers.
  absl::Status Ping();

  absl::StatusOr<int64_t> NextJobSequence() override;
  absl::Status CreateJob(const quarry::v1::Job& job,
                         const std::vector<quarry::v1::Task>& tasks) override;
  absl::Status UpdateJob(const quarry::v1::Job& job) override;
  absl::Status UpdateTasks(absl::string_view job_id,
                           const std::vector<quarry::v1::Task>& tasks) override;
  absl::StatusOr<quarry::v1::Job> GetJob(absl::string_view job_id) override;
  absl::StatusOr<std::vector<quarry::v1::Task>> GetTasks(
      absl::string_view job_id) override;
  absl::StatusOr<JobPage> ListJobs(quarry::v1::JobState state, int page_size,
                                   absl::string_view page_token) override;
  absl::Status DeleteJob(absl::string_view job_id) override;
  absl::StatusOr<std::vector<std::string>> ListJobsEndedBefore(
      absl::Time cutoff, int limit) override;
  absl::Status PutWorker(const quarry::v1::Worker& worker) override;
  absl::Status DeleteWorker(absl::string_view worker_id) override;
  absl::StatusOr<std::vector<quarry::v1::Worker>> ListWorkers() override;

 private:
  explicit RedisStore(RedisStoreOptions options);

  // Runs `commands` in one round trip on a pooled connection.
  absl::StatusOr<std::vector<RedisReplyPtr>> Run(
      const std::vector<std::vector<std::string>>& commands)
      ABSL_LOCKS_EXCLUDED(mu_);
  // One command; an error reply becomes its status.
  absl::StatusOr<RedisReplyPtr> RunOne(std::vector<std::string> command)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::unique_ptr<RedisConnection>> Acquire(bool* pooled)
      ABSL_LOCKS_EXCLUDED(mu_);
  void Release(std::unique_ptr<RedisConnection> connection)
      ABSL_LOCKS_EXCLUDED(mu_);

  std::string Key(absl::string_view suffix) const;
  std::string JobKey(absl::string_view job_id) const;
  std::string TasksKey(absl::string_view job_id) const;

  const RedisStoreOptions options_;
  const std::string prefix_;

  absl::Mutex mu_;
  std::vector<std::unique_ptr<RedisConnection>> idle_ ABSL_GUARDED_BY(mu_);
  absl::Time next_connect_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  absl::Duration backoff_ ABSL_GUARDED_BY(mu_);
  absl::Status last_connect_error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry

#endif  // QUARRY_COMMON_REDIS_STORE_H_

#ifndef QUARRY_LEADER_HISTORY_POSTGRES_HISTORY_H_
#define QUARRY_LEADER_HISTORY_POSTGRES_HISTORY_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "leader/history/history.h"
#include "leader/history/pg_connection.h"

namespace quarry {

struct PostgresHistoryOptions {
  // postgresql://USER@HOST:PORT/DB
  std::string url;
  // Rows carry it, so clusters can share one database.
  std::string cluster_name = "default";
  // Records waiting for the writer; beyond this, new ones are dropped.
  size_t max_queue = 100000;
  // Deadline of connecting and of every statement.
  absl::Duration timeout = absl::Seconds(5);
  // Backoff between reconnects of the writer.
  absl::Duration max_backoff = absl::Seconds(2);
};

// History in PostgreSQL (libpq). Versioned schema migrations (table
// quarry_schema_migrations) are applied, under an advisory lock, by the
// first connection of the process. A writer thread drains the bounded
// queue in batches (one transaction each; upserts, so a record written
// twice stays one row), reconnecting with backoff while the database is
// down; records stay queued meanwhile. Reads use a connection of their own.
//
// Owns the writer thread, the queue (guarded by mu_) and the read
// connection (guarded by read_mu_). Thread-safe.
class PostgresHistory : public History {
 public:
  // Checks the options and starts the writer; does not wait for the
  // database (the writer connects, and reads connect on demand).
  static absl::StatusOr<std::unique_ptr<PostgresHistory>> Create(
      PostgresHistoryOptions options);
  // Gives the queue up to 2 s to drain, then stops the writer.
  ~PostgresHistory() override;

  void RecordAttempt(const quarry::v1::AttemptRecord& attempt) override
      ABSL_LOCKS_EXCLUDED(mu_);
  void RecordJob(const quarry::v1::Job& job) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<quarry::v1::Job> GetJob(absl::string_view job_id) override
      ABSL_LOCKS_EXCLUDED(read_mu_);
  absl::StatusOr<std::vector<quarry::v1::AttemptRecord>> GetAttempts(
      absl::string_view job_id) override ABSL_LOCKS_EXCLUDED(read_mu_);
  absl::StatusOr<HistoryPage> ListJobs(const HistoryQuery& query) override
      ABSL_LOCKS_EXCLUDED(read_mu_);
  int64_t dropped() const override ABSL_LOCKS_EXCLUDED(mu_);
  bool Flush(absl::Duration timeout) override ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct Entry {
    bool is_job = false;
    quarry::v1::Job job;
    quarry::v1::AttemptRecord attempt;
  };

  explicit PostgresHistory(PostgresHistoryOptions options);
  void Enqueue(Entry entry) ABSL_LOCKS_EXCLUDED(mu_);
  void WriterLoop() ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status WriteBatch(PgConnection& db, const std::vector<Entry>& batch);
  // A migrated connection.
  absl::StatusOr<std::unique_ptr<PgConnection>> Connect();
  // Runs `sql` on the read connection (reconnecting once if it broke).
  absl::StatusOr<std::vector<PgConnection::Row>> Read(
      const std::string& sql, const std::vector<PgConnection::Value>& params)
      ABSL_LOCKS_EXCLUDED(read_mu_);

  const PostgresHistoryOptions options_;

  mutable absl::Mutex mu_;
  std::deque<Entry> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int64_t enqueued_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t written_ ABSL_GUARDED_BY(mu_) = 0;  // Written or dropped.
  int64_t dropped_ ABSL_GUARDED_BY(mu_) = 0;

  absl::Mutex read_mu_;
  std::unique_ptr<PgConnection> reader_ ABSL_GUARDED_BY(read_mu_);

  std::thread writer_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_HISTORY_POSTGRES_HISTORY_H_

#include "leader/history/postgres_history.h"

#include <glog/logging.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/ids.h"
#include "common/time_util.h"

namespace quarry {
namespace {

using Value = PgConnection::Value;

// Versioned schema: migration i brings the schema to version i + 1. Never
// edit one that has shipped; append a new one.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE quarry_jobs (
  cluster     text NOT NULL,
  id          text NOT NULL,
  seq         bigint NOT NULL,
  kind        text NOT NULL,
  state       text NOT NULL,
  create_time timestamptz,
  end_time    timestamptz,
  record      jsonb NOT NULL,
  PRIMARY KEY (cluster, id));
CREATE INDEX quarry_jobs_by_seq ON quarry_jobs (cluster, seq DESC);
CREATE INDEX quarry_jobs_by_end ON quarry_jobs (cluster, end_time);
CREATE TABLE quarry_attempts (
  cluster      text NOT NULL,
  attempt_id   text NOT NULL,
  job_id       text NOT NULL,
  task_index   integer NOT NULL,
  worker_id    text NOT NULL,
  status       text NOT NULL,
  error        text NOT NULL,
  start_time   timestamptz,
  end_time     timestamptz,
  output_bytes bigint NOT NULL,
  PRIMARY KEY (cluster, attempt_id));
CREATE INDEX quarry_attempts_by_job ON quarry_attempts (cluster, job_id);
)sql",
};

constexpr char kInsertJob[] = R"sql(
INSERT INTO quarry_jobs (cluster, id, seq, kind, state, create_time, end_time, record)
VALUES ($1, $2, $3, $4, $5, to_timestamp($6::float8 / 1e6),
        to_timestamp($7::float8 / 1e6), $8::jsonb)
ON CONFLICT (cluster, id) DO UPDATE SET state = EXCLUDED.state,
  end_time = EXCLUDED.end_time, record = EXCLUDED.record)sql";

constexpr char kInsertAttempt[] = R"sql(
INSERT INTO quarry_attempts (cluster, attempt_id, job_id, task_index, worker_id,
  status, error, start_time, end_time, output_bytes)
VALUES ($1, $2, $3, $4, $5, $6, $7, to_timestamp($8::float8 / 1e6),
        to_timestamp($9::float8 / 1e6), $10)
ON CONFLICT (cluster, attempt_id) DO UPDATE SET status = EXCLUDED.status,
  error = EXCLUDED.error, end_time = EXCLUDED.end_time,
  output_bytes = EXCLUDED.output_bytes)sql";

// Unix microseconds of a set timestamp, else NULL.
Value Micros(const google::protobuf::Timestamp& time) {
  if (time.seconds() == 0 && time.nanos() == 0) return std::nullopt;
  return absl::StrCat(absl::ToUnixMicros(FromProtoTime(time)));
}

// A timestamp from a column holding Unix microseconds (or NULL).
google::protobuf::Timestamp FromMicros(const Value& value) {
  int64_t micros = 0;
  if (!value.has_value() || !absl::SimpleAtoi(*value, &micros)) return {};
  return ToProtoTime(absl::FromUnixMicros(micros));
}

absl::StatusOr<quarry::v1::Job> JobFromJson(const Value& json) {
  quarry::v1::Job job;
  if (!json.has_value() ||
      !google::protobuf::util::JsonStringToMessage(*json, &job).ok()) {
    return absl::DataLossError("cannot parse a job record from history");
  }
  return job;
}

absl::Status Migrate(PgConnection& db) {
  for (const char* sql :
       {"BEGIN", "SELECT pg_advisory_xact_lock(7243001)",
        "CREATE TABLE IF NOT EXISTS quarry_schema_migrations ("
        " version integer PRIMARY KEY,"
        " applied_at timestamptz NOT NULL DEFAULT now())"}) {
    if (auto done = db.Exec(sql); !done.ok()) return done.status();
  }
  absl::StatusOr<std::vector<PgConnection::Row>> rows =
      db.Exec("SELECT coalesce(max(version), 0) FROM quarry_schema_migrations");
  if (!rows.ok()) return rows.status();
  int version = 0;
  absl::SimpleAtoi(rows->at(0).at(0).value_or("0"), &version);
  constexpr int kLatest = sizeof(kMigrations) / sizeof(kMigrations[0]);
  for (int next = version + 1; next <= kLatest; ++next) {
    if (auto done = db.Exec(kMigrations[next - 1]); !done.ok()) {
      db.Exec("ROLLBACK").IgnoreError();
      return done.status();
    }
    if (auto done = db.Exec(
            "INSERT INTO quarry_schema_migrations (version) VALUES ($1)",
            {absl::StrCat(next)});
        !done.ok()) {
      db.Exec("ROLLBACK").IgnoreError();
      return done.status();
    }
    LOG(INFO) << "history schema migrated to version " << next;
  }
  return db.Exec("COMMIT").status();
}

}  // namespace

absl::StatusOr<std::unique_ptr<PostgresHistory>> PostgresHistory::Create(
    PostgresHistoryOptions options) {
  if (!absl::StartsWith(options.url, "postgresql://") &&
      !absl::StartsWith(options.url, "postgres://")) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--history must be a postgresql://USER@HOST:PORT/DB URL, got \"",
        options.url, "\""));
  }
  std::unique_ptr<PostgresHistory> history(
      new PostgresHistory(std::move(options)));
  history->writer_ = std::thread([raw = history.get()] { raw->WriterLoop(); });
  return history;
}

PostgresHistory::PostgresHistory(PostgresHistoryOptions options)
    : options_(std::move(options)) {}

PostgresHistory::~PostgresHistory() {
  Flush(absl::Seconds(2));
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
}

absl::StatusOr<std::unique_ptr<PgConnection>> PostgresHistory::Connect() {
  absl::StatusOr<std::unique_ptr<PgConnection>> db =
      PgConnection::Connect(options_.url, options_.timeout);
  if (!db.ok()) return db.status();
  if (absl::Status migrated = Migrate(**db); !migrated.ok()) return migrated;
  return db;
}

void PostgresHistory::Enqueue(Entry entry) {
  absl::MutexLock lock(&mu_);
  ++enqueued_;
  if (queue_.size() >= options_.max_queue) {
    ++written_;  // Never will be: counted as settled.
    if (dropped_++ % 1000 == 0) {
      LOG(ERROR) << "history queue full (" << options_.max_queue
                 << " records): dropped " << dropped_ << " so far";
    }
    return;
  }
  queue_.push_back(std::move(entry));
}

void PostgresHistory::RecordAttempt(const quarry::v1::AttemptRecord& attempt) {
  Entry entry;
  entry.attempt = attempt;
  Enqueue(std::move(entry));
}

void PostgresHistory::RecordJob(const quarry::v1::Job& job) {
  Entry entry;
  entry.is_job = true;
  entry.job = job;
  Enqueue(std::move(entry));
}

int64_t PostgresHistory::dropped() const {
  absl::MutexLock lock(&mu_);
  return dropped_;
}

bool PostgresHistory::Flush(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  const int64_t target = enqueued_;
  auto settled = [this, target]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return written_ >= target;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&settled), timeout);
}

absl::Status PostgresHistory::WriteBatch(PgConnection& db,
                                         const std::vector<Entry>& batch) {
  if (auto begun = db.Exec("BEGIN"); !begun.ok()) return begun.status();
  for (const Entry& entry : batch) {
    absl::Status written;
    if (entry.is_job) {
      const quarry::v1::Job& job = entry.job;
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(job, &json);
      const int64_t seq = ParseJobId(job.id()).value_or(0);
      written = db.Exec(kInsertJob,
                        {options_.cluster_name, job.id(), absl::StrCat(seq),
                         job.spec().kind(), quarry::v1::JobState_Name(job.state()),
                         Micros(job.create_time()), Micros(job.end_time()), json})
                    .status();
    } else {
      const quarry::v1::AttemptRecord& a = entry.attempt;
      written =
          db.Exec(kInsertAttempt,
                  {options_.cluster_name, a.attempt_id(), a.job_id(),
                   absl::StrCat(a.task_index()), a.worker_id(),
                   quarry::v1::ExecutionStatus_Name(a.status()), a.error(),
                   Micros(a.start_time()), Micros(a.end_time()),
                   absl::StrCat(a.output_bytes())})
              .status();
    }
    if (!written.ok()) {
      db.Exec("ROLLBACK").IgnoreError();
      return written;
    }
  }
  return db.Exec("COMMIT").status();
}

void PostgresHistory::WriterLoop() {
  constexpr size_t kBatch = 500;
  std::unique_ptr<PgConnection> db;
  absl::Duration backoff = absl::Milliseconds(50);
  int failures = 0;
  while (true) {
    std::vector<Entry> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !queue_.empty() || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) return;  // Stopping with nothing left.
      while (!queue_.empty() && batch.size() < kBatch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    absl::Status status;
    if (db == nullptr || !db->ok()) {
      absl::StatusOr<std::unique_ptr<PgConnection>> connected = Connect();
      if (connected.ok()) db = *std::move(connected);
      status = connected.status();
    }
    if (status.ok()) status = WriteBatch(*db, batch);
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      written_ += batch.size();
      backoff = absl::Milliseconds(50);
      failures = 0;
      continue;
    }
    if (failures++ % 10 == 0) {
      LOG(ERROR) << "cannot write history (" << queue_.size() + batch.size()
                 << " records wait): " << status;
    }
    db.reset();
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      queue_.push_front(std::move(*it));
    }
    if (stopping_) {  // Shutting down with the database away: give up.
      written_ += queue_.size();
      dropped_ += queue_.size();
      queue_.clear();
      return;
    }
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

absl::StatusOr<std::vector<PgConnection::Row>> PostgresHistory::Read(
    const std::string& sql, const std::vector<Value>& params) {
  absl::MutexLock lock(&read_mu_);
  for (int attempt = 0;; ++attempt) {
    if (reader_ == nullptr || !reader_->ok()) {
      absl::StatusOr<std::unique_ptr<PgConnection>> connected = Connect();
      if (!connected.ok()) return connected.status();
      reader_ = *std::move(connected);
    }
    absl::StatusOr<std::vector<PgConnection::Row>> rows =
        reader_->Exec(sql, params);
    if (rows.ok() || !absl::IsUnavailable(rows.status()) || attempt > 0) {
      return rows;
    }
    reader_.reset();  // The connection broke: retry once on a fresh one.
  }
}

absl::StatusOr<quarry::v1::Job> PostgresHistory::GetJob(
    absl::string_view job_id) {
  absl::StatusOr<std::vector<PgConnection::Row>> rows =
      Read("SELECT record::text FROM quarry_jobs WHERE cluster = $1 AND id = $2",
           {options_.cluster_name, std::string(job_id)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) {
    return absl::NotFoundError(
        absl::StrCat("job ", job_id, " is not in the history"));
  }
  return JobFromJson(rows->front().at(0));
}

absl::StatusOr<std::vector<quarry::v1::AttemptRecord>>
PostgresHistory::GetAttempts(absl::string_view job_id) {
  absl::StatusOr<std::vector<PgConnection::Row>> rows = Read(
      "SELECT attempt_id, task_index, worker_id, status, error,"
      " (extract(epoch from start_time) * 1e6)::bigint,"
      " (extract(epoch from end_time) * 1e6)::bigint, output_bytes"
      " FROM quarry_attempts WHERE cluster = $1 AND job_id = $2"
      " ORDER BY task_index, end_time, attempt_id",
      {options_.cluster_name, std::string(job_id)});
  if (!rows.ok()) return rows.status();
  std::vector<quarry::v1::AttemptRecord> attempts;
  for (const PgConnection::Row& row : *rows) {
    quarry::v1::AttemptRecord& attempt = attempts.emplace_back();
    attempt.set_attempt_id(row[0].value_or(""));
    attempt.set_job_id(std::string(job_id));
    int32_t index = 0;
    absl::SimpleAtoi(row[1].value_or("0"), &index);
    attempt.set_task_index(index);
    attempt.set_worker_id(row[2].value_or(""));
    quarry::v1::ExecutionStatus status;
    if (quarry::v1::ExecutionStatus_Parse(row[3].value_or(""), &status)) {
      attempt.set_status(status);
    }
    attempt.set_error(row[4].value_or(""));
    *attempt.mutable_start_time() = FromMicros(row[5]);
    *attempt.mutable_end_time() = FromMicros(row[6]);
    int64_t bytes = 0;
    absl::SimpleAtoi(row[7].value_or("0"), &bytes);
    attempt.set_output_bytes(bytes);
  }
  return attempts;
}

absl::StatusOr<HistoryPage> PostgresHistory::ListJobs(
    const HistoryQuery& query) {
  int64_t before = INT64_MAX;
  if (!query.page_token.empty() &&
      (!absl::SimpleAtoi(query.page_token, &before) || before <= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token \"", query.page_token, "\" is malformed"));
  }
  auto bound = [](absl::Time time) -> Value {
    if (time == absl::InfinitePast() || time == absl::InfiniteFuture()) {
      return std::nullopt;
    }
    return absl::StrCat(absl::ToUnixMicros(time));
  };
  absl::StatusOr<std::vector<PgConnection::Row>> rows = Read(
      "SELECT record::text, seq FROM quarry_jobs WHERE cluster = $1"
      " AND ($2 = '' OR state = $2) AND ($3 = '' OR kind = $3)"
      " AND ($4::float8 IS NULL OR end_time >= to_timestamp($4::float8 / 1e6))"
      " AND ($5::float8 IS NULL OR end_time < to_timestamp($5::float8 / 1e6))"
      " AND seq < $6 ORDER BY seq DESC LIMIT $7",
      {options_.cluster_name,
       query.state == quarry::v1::JOB_STATE_UNSPECIFIED
           ? ""
           : quarry::v1::JobState_Name(query.state),
       query.kind, bound(query.end_after), bound(query.end_before),
       absl::StrCat(before), absl::StrCat(query.page_size + 1)});
  if (!rows.ok()) return rows.status();
  HistoryPage page;
  for (const PgConnection::Row& row : *rows) {
    if (static_cast<int>(page.jobs.size()) == query.page_size) {
      int64_t seq = 0;
      absl::SimpleAtoi(row[1].value_or("0"), &seq);
      page.next_page_token = absl::StrCat(seq + 1);  // Rows with seq < token.
      break;
    }
    absl::StatusOr<quarry::v1::Job> job = JobFromJson(row[0]);
    if (!job.ok()) return job.status();
    page.jobs.push_back(*std::move(job));
  }
  return page;
}

}  // namespace quarry

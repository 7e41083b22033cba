// PostgresHistory on a real PostgreSQL: schema migrations, records written
// in the background, reads with filters and pages, a bounded queue.
#include "leader/history/postgres_history.h"

#include "absl/strings/str_format.h"
#include "common/time_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leader/history/pg_connection.h"
#include "tests/testing/test_servers.h"

namespace quarry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::TestServer;

quarry::v1::Job FinishedJob(int sequence, const std::string& kind,
                            quarry::v1::JobState state, int64_t end_seconds) {
  quarry::v1::Job job;
  job.set_id(absl::StrFormat("job-%06d", sequence));
  job.mutable_spec()->set_kind(kind);
  job.set_state(state);
  job.set_task_count(2);
  *job.mutable_create_time() = ToProtoTime(absl::FromUnixSeconds(end_seconds - 5));
  *job.mutable_end_time() = ToProtoTime(absl::FromUnixSeconds(end_seconds));
  return job;
}

std::vector<std::string> Ids(const HistoryPage& page) {
  std::vector<std::string> ids;
  for (const auto& job : page.jobs) ids.push_back(job.id());
  return ids;
}

class PostgresHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = TestServer::Start(TestServer::Kind::kPostgres);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
  }

  std::unique_ptr<PostgresHistory> Open(const std::string& cluster = "c1",
                                        size_t max_queue = 100000) {
    PostgresHistoryOptions options;
    options.url = server_->url();
    options.cluster_name = cluster;
    options.max_queue = max_queue;
    options.max_backoff = absl::Milliseconds(100);
    return *PostgresHistory::Create(options);
  }

  std::unique_ptr<TestServer> server_;
};

TEST_F(PostgresHistoryTest, RejectsUrlsThatAreNotPostgres) {
  PostgresHistoryOptions options;
  options.url = "redis://127.0.0.1:1";
  EXPECT_EQ(PostgresHistory::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(PostgresHistoryTest, MigratesOnceAndKeepsJobsAndAttempts) {
  auto history = Open();
  quarry::v1::Job job = FinishedJob(1, "wordcount", quarry::v1::JOB_STATE_DONE, 1000);
  quarry::v1::AttemptRecord first;
  first.set_attempt_id("job-000001.0.1");
  first.set_job_id("job-000001");
  first.set_worker_id("w1");
  first.set_status(quarry::v1::EXECUTION_STATUS_LOST);
  first.set_error("worker w1 died");
  *first.mutable_start_time() = ToProtoTime(absl::FromUnixSeconds(996));
  *first.mutable_end_time() = ToProtoTime(absl::FromUnixSeconds(997));
  quarry::v1::AttemptRecord second = first;
  second.set_attempt_id("job-000001.0.2");
  second.set_worker_id("w2");
  second.set_status(quarry::v1::EXECUTION_STATUS_DONE);
  second.clear_error();
  second.set_output_bytes(42);
  *second.mutable_end_time() = ToProtoTime(absl::FromUnixSeconds(999));
  history->RecordAttempt(second);
  history->RecordAttempt(first);
  history->RecordJob(job);
  history->RecordJob(job);  // Twice: still one row.
  ASSERT_TRUE(history->Flush(absl::Seconds(10)));

  // A second process (a restarted leader) finds the schema in place.
  auto again = Open();
  auto stored = again->GetJob("job-000001");
  ASSERT_TRUE(stored.ok()) << stored.status();
  EXPECT_EQ(stored->SerializeAsString(), job.SerializeAsString());
  auto attempts = again->GetAttempts("job-000001");
  ASSERT_TRUE(attempts.ok()) << attempts.status();
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ((*attempts)[1].SerializeAsString(), second.SerializeAsString());
  EXPECT_EQ(again->GetJob("job-000002").status().code(),
            absl::StatusCode::kNotFound);

  auto db = PgConnection::Connect(server_->url(), absl::Seconds(5));
  ASSERT_TRUE(db.ok()) << db.status();
  auto versions = (*db)->Exec("SELECT version FROM quarry_schema_migrations");
  ASSERT_TRUE(versions.ok()) << versions.status();
  EXPECT_EQ(versions->size(), 1u);
}

TEST_F(PostgresHistoryTest, ListsWithFiltersAndPages) {
  auto history = Open();
  history->RecordJob(FinishedJob(1, "grep", quarry::v1::JOB_STATE_DONE, 100));
  history->RecordJob(FinishedJob(2, "wordcount", quarry::v1::JOB_STATE_FAILED, 200));
  history->RecordJob(FinishedJob(3, "wordcount", quarry::v1::JOB_STATE_DONE, 300));
  history->RecordJob(FinishedJob(4, "wordcount", quarry::v1::JOB_STATE_DONE, 400));
  ASSERT_TRUE(history->Flush(absl::Seconds(10)));
  auto other_cluster = Open("c2");
  EXPECT_THAT(Ids(*other_cluster->ListJobs({})), IsEmpty());

  EXPECT_THAT(Ids(*history->ListJobs({})),
              ElementsAre("job-000004", "job-000003", "job-000002", "job-000001"));
  HistoryQuery query;
  query.kind = "wordcount";
  query.state = quarry::v1::JOB_STATE_DONE;
  EXPECT_THAT(Ids(*history->ListJobs(query)), ElementsAre("job-000004", "job-000003"));
  query = {};
  query.end_after = absl::FromUnixSeconds(200);
  query.end_before = absl::FromUnixSeconds(400);
  EXPECT_THAT(Ids(*history->ListJobs(query)), ElementsAre("job-000003", "job-000002"));
  query = {};
  query.page_size = 3;
  auto first = history->ListJobs(query);
  ASSERT_TRUE(first.ok());
  EXPECT_THAT(Ids(*first), ElementsAre("job-000004", "job-000003", "job-000002"));
  query.page_token = first->next_page_token;
  auto second = history->ListJobs(query);
  EXPECT_THAT(Ids(*second), ElementsAre("job-000001"));
  EXPECT_THAT(second->next_page_token, IsEmpty());
}

TEST_F(PostgresHistoryTest, RecordsWaitWhileTheDatabaseIsDown) {
  auto history = Open();
  ASSERT_TRUE(server_->Stop().ok());
  history->RecordJob(FinishedJob(1, "noop", quarry::v1::JOB_STATE_DONE, 100));
  EXPECT_FALSE(history->Flush(absl::Milliseconds(300)));
  EXPECT_EQ(history->GetJob("job-000001").status().code(),
            absl::StatusCode::kUnavailable);
  ASSERT_TRUE(server_->Restart().ok());
  ASSERT_TRUE(history->Flush(absl::Seconds(10)));
  EXPECT_TRUE(history->GetJob("job-000001").ok());
  EXPECT_EQ(history->dropped(), 0);
}

TEST_F(PostgresHistoryTest, AFullQueueDropsAndCounts) {
  ASSERT_TRUE(server_->Stop().ok());
  auto history = Open("c1", /*max_queue=*/3);
  for (int i = 1; i <= 10; ++i) {
    history->RecordJob(FinishedJob(i, "noop", quarry::v1::JOB_STATE_DONE, 100));
  }
  // The writer may hold one batch out of the queue while it retries.
  EXPECT_GE(history->dropped(), 10 - 3 - 3);
  EXPECT_LE(history->dropped(), 10 - 3);
}

}  // namespace
}  // namespace quarry

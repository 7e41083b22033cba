#include "leader/workers/attempt_log_fetcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/memory_store.h"
#include "tests/testing/fake_worker_client.h"

namespace quarry {
namespace {

namespace v1 = quarry::v1;
using testing::FakeWorker;
using testing::FakeWorkerClientFactory;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr char kJob[] = "job-000001";

// Answers every GetAttemptLog call with a log naming the worker.
void AnswerWithLog(FakeWorker::LogCall& call) {
  v1::GetWorkerAttemptLogResponse response;
  response.mutable_log()->set_attempt_id(call.request.attempt_id());
  response.mutable_log()->set_content(
      absl::StrCat("log of ", call.request.attempt_id(), " on ",
                   call.request.worker_id(), "\n"));
  response.mutable_log()->set_finished(true);
  call.done(response);
}

void AnswerWith(const absl::Status& status, FakeWorker::LogCall& call) {
  call.done(status);
}

// An execution history that knows the attempts it is given. Thread-safe
// enough for these tests (set up before any call).
class FakeHistory : public History {
 public:
  void AddAttempt(const std::string& attempt_id, const std::string& worker) {
    v1::AttemptRecord record;
    record.set_attempt_id(attempt_id);
    record.set_job_id(attempt_id.substr(0, attempt_id.find('.')));
    record.set_task_index(std::stoi(
        attempt_id.substr(attempt_id.find('.') + 1,
                          attempt_id.rfind('.') - attempt_id.find('.') - 1)));
    record.set_worker_id(worker);
    attempts_.push_back(record);
  }
  void RecordAttempt(const v1::AttemptRecord&) override {}
  void RecordJob(const v1::Job&) override {}
  absl::StatusOr<v1::Job> GetJob(absl::string_view job_id) override {
    return absl::NotFoundError("unused");
  }
  absl::StatusOr<std::vector<v1::AttemptRecord>> GetAttempts(
      absl::string_view job_id) override {
    std::vector<v1::AttemptRecord> found;
    for (const auto& attempt : attempts_) {
      if (attempt.job_id() == job_id) found.push_back(attempt);
    }
    return found;
  }
  absl::StatusOr<HistoryPage> ListJobs(const HistoryQuery&) override {
    return HistoryPage{};
  }
  int64_t dropped() const override { return 0; }
  bool Flush(absl::Duration) override { return true; }

 private:
  std::vector<v1::AttemptRecord> attempts_;
};

class AttemptLogFetcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Task 0 runs its 2nd attempt on w1; task 1 has not started.
    v1::Job job;
    job.set_id(kJob);
    job.set_task_count(2);
    std::vector<v1::Task> tasks(2);
    tasks[0].set_index(0);
    tasks[0].set_attempts(2);
    tasks[0].set_attempt_id("job-000001.0.2");
    tasks[0].set_worker_id("w1");
    tasks[1].set_index(1);
    ASSERT_TRUE(store_.CreateJob(job, tasks).ok());
    PutWorker("w1", v1::WORKER_STATUS_ALIVE);
    PutWorker("w2", v1::WORKER_STATUS_SUSPECT);
    PutWorker("w3", v1::WORKER_STATUS_DEAD);
  }

  void PutWorker(const std::string& id, v1::WorkerStatus status) {
    v1::Worker worker;
    worker.set_id(id);
    worker.set_address(absl::StrCat(id, ".example:7100"));
    worker.set_status(status);
    ASSERT_TRUE(store_.PutWorker(worker).ok());
  }

  absl::StatusOr<v1::GetAttemptLogResponse> Fetch(
      int task, const std::string& attempt_id = "",
      const std::string& job = kJob) {
    v1::GetAttemptLogRequest request;
    request.set_job_id(job);
    request.set_task_index(task);
    request.set_attempt_id(attempt_id);
    return fetcher_.Fetch(request);
  }

  MemoryStore store_;
  FakeWorkerClientFactory clients_;
  AttemptLogFetcher fetcher_{&store_, nullptr, &clients_,
                             absl::Milliseconds(50)};
};

TEST_F(AttemptLogFetcherTest, AsksTheWorkerOfTheCurrentAttempt) {
  clients_.worker("w1")->set_log_answer(AnswerWithLog);
  absl::StatusOr<v1::GetAttemptLogResponse> response = Fetch(0);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->log().attempt_id(), "job-000001.0.2");
  EXPECT_EQ(response->log().worker_id(), "w1");
  EXPECT_EQ(response->log().content(), "log of job-000001.0.2 on w1\n");
  EXPECT_TRUE(response->log().finished());
  EXPECT_EQ(response->worker_address(), "w1.example:7100");
}

TEST_F(AttemptLogFetcherTest, BadRequestsNameTheField) {
  EXPECT_EQ(Fetch(0, "", "").status(),
            absl::InvalidArgumentError("job_id is required"));
  EXPECT_EQ(Fetch(-1).status(),
            absl::InvalidArgumentError("task_index must be >= 0, got -1"));
  EXPECT_EQ(Fetch(0, "", "job-000099").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Fetch(2).status(),
            absl::NotFoundError(
                "job job-000001 has 2 tasks (0..1): no task_index 2"));
  EXPECT_EQ(Fetch(0, "job-000001.1.1").status(),
            absl::InvalidArgumentError(
                "attempt_id \"job-000001.1.1\" is not an attempt of task 0 "
                "of job job-000001 (want job-000001.0.N)"));
  EXPECT_EQ(Fetch(0, "junk").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Fetch(0, "job-000001.0.3").status(),
            absl::NotFoundError("task 0 of job job-000001 has started 2 "
                                "attempt(s): job-000001.0.3 never ran"));
  EXPECT_EQ(Fetch(1).status(),
            absl::FailedPreconditionError(
                "task 1 of job job-000001 has not started an attempt yet"));
}

TEST_F(AttemptLogFetcherTest, AWorkerThatLeftTookItsLog) {
  ASSERT_TRUE(store_.DeleteWorker("w1").ok());
  EXPECT_EQ(Fetch(0).status(),
            absl::NotFoundError("worker w1 that ran attempt job-000001.0.2 "
                                "is gone (it left the cluster); its log is "
                                "lost"));
}

TEST_F(AttemptLogFetcherTest, ADeadWorkerIsNotAsked) {
  PutWorker("w1", v1::WORKER_STATUS_DEAD);
  const absl::Status status = Fetch(0).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(),
              HasSubstr("worker w1 that ran attempt job-000001.0.2 is gone "
                        "(DEAD"));
  EXPECT_THAT(status.message(), HasSubstr("its log is lost"));
  EXPECT_THAT(clients_.worker("w1")->TakeLogCalls(), IsEmpty());
}

TEST_F(AttemptLogFetcherTest, AnUnreachableWorkerIsUnavailable) {
  clients_.worker("w1")->set_log_answer([](FakeWorker::LogCall& call) {
    AnswerWith(absl::UnavailableError("connection refused"), call);
  });
  const absl::Status status = Fetch(0).status();
  EXPECT_EQ(status,
            absl::UnavailableError(
                "worker w1 that ran attempt job-000001.0.2 does not answer at "
                "w1.example:7100 (connection refused); try again; if it is "
                "gone, its log is lost"));
}

TEST_F(AttemptLogFetcherTest, AWorkerThatNeverAnswersIsBounded) {
  // The call is recorded and never answered: the wait ends anyway.
  const absl::Time start = absl::Now();
  const absl::Status status = Fetch(0).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(status.message(), HasSubstr("does not answer"));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  ASSERT_EQ(clients_.worker("w1")->TakeLogCalls().size(), 1u);
}

TEST_F(AttemptLogFetcherTest, AWorkerWithoutTheLogSaysSo) {
  clients_.worker("w1")->set_log_answer([](FakeWorker::LogCall& call) {
    AnswerWith(absl::NotFoundError("worker w1: no log of attempt "
                                   "job-000001.0.2 here"),
               call);
  });
  EXPECT_EQ(Fetch(0).status(),
            absl::NotFoundError("the log of attempt job-000001.0.2 is lost: "
                                "worker w1: no log of attempt job-000001.0.2 "
                                "here"));
  // A restarted process at that address that is another worker.
  clients_.worker("w1")->set_log_answer([](FakeWorker::LogCall& call) {
    AnswerWith(absl::FailedPreconditionError("request meant for worker \"w1\" "
                                             "reached worker \"w9\""),
               call);
  });
  const absl::Status status = Fetch(0).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(status.message(), HasSubstr("is gone (request meant for"));
}

TEST_F(AttemptLogFetcherTest, AnOlderAttemptIsAskedOfEveryLiveWorker) {
  clients_.worker("w1")->set_log_answer([](FakeWorker::LogCall& call) {
    AnswerWith(absl::NotFoundError("not here"), call);
  });
  clients_.worker("w2")->set_log_answer(AnswerWithLog);
  absl::StatusOr<v1::GetAttemptLogResponse> response =
      Fetch(0, "job-000001.0.1");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->log().worker_id(), "w2");
  EXPECT_EQ(response->log().content(), "log of job-000001.0.1 on w2\n");
  EXPECT_EQ(response->worker_address(), "w2.example:7100");
  EXPECT_THAT(clients_.worker("w3")->TakeLogCalls(), IsEmpty());  // DEAD.

  clients_.worker("w2")->set_log_answer([](FakeWorker::LogCall& call) {
    AnswerWith(absl::UnavailableError("down"), call);
  });
  EXPECT_EQ(Fetch(0, "job-000001.0.1").status(),
            absl::NotFoundError(
                "no live worker has the log of attempt job-000001.0.1 (asked "
                "2 worker(s), 1 did not answer): the worker that ran it is "
                "gone, or retention removed the log"));
}

TEST_F(AttemptLogFetcherTest, TheHistoryNamesTheWorkerOfAnOlderAttempt) {
  FakeHistory history;
  history.AddAttempt("job-000001.0.1", "w2");
  AttemptLogFetcher fetcher(&store_, &history, &clients_,
                            absl::Milliseconds(50));
  clients_.worker("w2")->set_log_answer(AnswerWithLog);
  v1::GetAttemptLogRequest request;
  request.set_job_id(kJob);
  request.set_attempt_id("job-000001.0.1");
  absl::StatusOr<v1::GetAttemptLogResponse> response = fetcher.Fetch(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->log().worker_id(), "w2");
  EXPECT_THAT(clients_.worker("w1")->TakeLogCalls(), IsEmpty());  // Not asked.
}

TEST_F(AttemptLogFetcherTest, AJobRetiredFromTheStoreIsFoundInTheHistory) {
  FakeHistory history;
  history.AddAttempt("job-000009.0.1", "w1");
  history.AddAttempt("job-000009.0.2", "w2");  // Ended last.
  history.AddAttempt("job-000009.1.1", "w1");
  AttemptLogFetcher fetcher(&store_, &history, &clients_,
                            absl::Milliseconds(50));
  clients_.worker("w1")->set_log_answer(AnswerWithLog);
  clients_.worker("w2")->set_log_answer(AnswerWithLog);
  v1::GetAttemptLogRequest request;
  request.set_job_id("job-000009");
  absl::StatusOr<v1::GetAttemptLogResponse> response = fetcher.Fetch(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->log().content(), "log of job-000009.0.2 on w2\n");
  request.set_attempt_id("job-000009.0.1");
  response = fetcher.Fetch(request);
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->log().content(), "log of job-000009.0.1 on w1\n");

  request.set_attempt_id("job-000009.0.5");
  EXPECT_EQ(fetcher.Fetch(request).status(),
            absl::NotFoundError(
                "the history of job job-000009 has no attempt job-000009.0.5"));
  request.set_job_id("job-000077");
  request.set_attempt_id("");
  EXPECT_EQ(fetcher.Fetch(request).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace quarry

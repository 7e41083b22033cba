#include "worker/reporter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "tests/worker/fake_leader_client.h"

namespace quarry::worker {
namespace {

using quarry::v1::AttemptStatus;
using ::testing::ElementsAre;
using testing::FakeLeaderClient;
using ::testing::IsEmpty;
using Call = FakeLeaderClient::Call;

AttemptStatus Finished(absl::string_view id) {
  AttemptStatus status;
  status.set_attempt_id(std::string(id));
  status.set_job_id("job-000001");
  status.set_status(quarry::v1::EXECUTION_STATUS_DONE);
  return status;
}

int CountOkReports(const std::vector<Call>& calls) {
  int count = 0;
  for (const Call& call : calls) count += !call.is_register && call.answer.ok();
  return count;
}

// The attempt ids of every report call (failed ones too), in order,
// skipping empty reports.
std::vector<std::vector<std::string>> ReportBatches(
    const std::vector<Call>& calls) {
  std::vector<std::vector<std::string>> batches;
  for (const Call& call : calls) {
    if (call.is_register || call.report.attempts().empty()) continue;
    std::vector<std::string>& ids = batches.emplace_back();
    for (const auto& attempt : call.report.attempts()) {
      ids.push_back(attempt.attempt_id());
    }
  }
  return batches;
}

class ReporterTest : public ::testing::Test {
 protected:
  Reporter::Options FastOptions() {
    Reporter::Options options;
    options.registration.set_worker_id("w1");
    options.registration.set_address("127.0.0.1:5000");
    options.registration.set_slots(3);
    (*options.registration.mutable_labels())["zone"] = "a";
    options.rpc_timeout = absl::Seconds(1);
    options.initial_backoff = absl::Milliseconds(1);
    options.max_backoff = absl::Milliseconds(5);
    return options;
  }

  // Starts a reporter and waits for its first (empty) report.
  void StartAndWaitForFirstReport(
      Reporter::Options options,
      Reporter::RegisteredCallback on_registered = nullptr) {
    reporter_ = std::make_unique<Reporter>(std::move(options), &leader_,
                                           std::move(on_registered));
    reporter_->Start();
    ASSERT_TRUE(leader_.WaitUntil([](const std::vector<Call>& calls, int) {
      return CountOkReports(calls) >= 1;
    }));
  }

  bool WaitForAcknowledged(const std::vector<std::string>& ids) {
    return leader_.WaitUntil([&ids](const std::vector<Call>& calls, int) {
      return FakeLeaderClient::AcknowledgedIds(calls) == ids;
    });
  }

  FakeLeaderClient leader_;
  std::unique_ptr<Reporter> reporter_;  // Last: stopped first.
};

TEST_F(ReporterTest, RegistersThenReportsACompletionAtOnce) {
  StartAndWaitForFirstReport(FastOptions());
  const std::vector<Call> calls = leader_.calls();
  ASSERT_TRUE(calls[0].is_register);
  EXPECT_EQ(calls[0].registration.worker_id(), "w1");
  EXPECT_EQ(calls[0].registration.address(), "127.0.0.1:5000");
  EXPECT_EQ(calls[0].registration.slots(), 3);
  EXPECT_EQ(calls[0].registration.labels().at("zone"), "a");
  EXPECT_EQ(calls[1].report.worker_id(), "w1");

  // The fake leader asks for a heartbeat every hour, so only the
  // completion itself can trigger this report.
  const absl::Time start = absl::Now();
  reporter_->Enqueue(Finished("job-000001.0.1"));
  ASSERT_TRUE(WaitForAcknowledged({"job-000001.0.1"}));
  EXPECT_LT(absl::Now() - start, absl::Milliseconds(500));
  EXPECT_TRUE(reporter_->WaitForAcknowledged(absl::Seconds(5)));
  EXPECT_EQ(reporter_->stats().acknowledged, 1);
}

TEST_F(ReporterTest, RetriesRegistrationUntilTheLeaderAnswers) {
  for (int i = 0; i < 3; ++i) {
    leader_.QueueRegisterAnswer(absl::UnavailableError("leader down"));
  }
  StartAndWaitForFirstReport(FastOptions());
  const std::vector<Call> calls = leader_.calls();
  ASSERT_GE(calls.size(), 5u);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(calls[i].is_register) << i;
  EXPECT_TRUE(calls[3].answer.ok());
  const Reporter::Stats stats = reporter_->stats();
  EXPECT_TRUE(stats.registered);
  EXPECT_EQ(stats.registrations, 1);
  EXPECT_EQ(stats.calls_failed, 3);
}

TEST_F(ReporterTest, BatchesCompletionsWhileACallIsInFlight) {
  StartAndWaitForFirstReport(FastOptions());
  leader_.HoldReports(true);
  reporter_->Enqueue(Finished("a"));
  // Wait until the report carrying "a" is stuck in the slow leader.
  ASSERT_TRUE(leader_.WaitUntil(
      [](const std::vector<Call>&, int started) { return started >= 2; }));
  reporter_->Enqueue(Finished("b"));
  reporter_->Enqueue(Finished("c"));
  reporter_->Enqueue(Finished("d"));
  leader_.HoldReports(false);
  ASSERT_TRUE(WaitForAcknowledged({"a", "b", "c", "d"}));
  EXPECT_THAT(ReportBatches(leader_.calls()),
              ElementsAre(ElementsAre("a"), ElementsAre("b", "c", "d")));
}

TEST_F(ReporterTest, CompletionsAnnouncedAsComingTravelTogether) {
  Reporter::Options options = FastOptions();
  options.coalesce_window = absl::Hours(1);  // Only "b" can release "a".
  StartAndWaitForFirstReport(options);
  reporter_->Enqueue(Finished("a"), /*more_coming=*/true);
  reporter_->Enqueue(Finished("b"), /*more_coming=*/false);
  ASSERT_TRUE(WaitForAcknowledged({"a", "b"}));
  EXPECT_THAT(ReportBatches(leader_.calls()),
              ElementsAre(ElementsAre("a", "b")));
}

TEST_F(ReporterTest, AnnouncedCompletionsThatNeverComeDelayAReportBriefly) {
  Reporter::Options options = FastOptions();
  options.coalesce_window = absl::Milliseconds(20);
  StartAndWaitForFirstReport(options);
  const absl::Time start = absl::Now();
  reporter_->Enqueue(Finished("a"), /*more_coming=*/true);
  ASSERT_TRUE(WaitForAcknowledged({"a"}));  // After the window, alone.
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(20));
  EXPECT_THAT(ReportBatches(leader_.calls()), ElementsAre(ElementsAre("a")));
}

TEST_F(ReporterTest, KeepsTheBatchAndRetriesAfterAnError) {
  StartAndWaitForFirstReport(FastOptions());
  leader_.QueueReportAnswer(absl::UnavailableError("leader busy"));
  leader_.QueueReportAnswer(absl::DeadlineExceededError("too slow"));
  reporter_->Enqueue(Finished("a"));
  ASSERT_TRUE(WaitForAcknowledged({"a"}));
  const std::vector<Call> calls = leader_.calls();
  EXPECT_THAT(
      ReportBatches(calls),
      ElementsAre(ElementsAre("a"), ElementsAre("a"), ElementsAre("a")));
  EXPECT_EQ(reporter_->stats().calls_failed, 2);
  EXPECT_TRUE(reporter_->WaitForAcknowledged(absl::Seconds(5)));
}

TEST_F(ReporterTest, RegistersAgainAfterNotFoundThenResends) {
  StartAndWaitForFirstReport(FastOptions());
  leader_.QueueReportAnswer(absl::NotFoundError("unknown worker w1"));
  reporter_->Enqueue(Finished("a"));
  ASSERT_TRUE(WaitForAcknowledged({"a"}));
  const std::vector<Call> calls = leader_.calls();
  // register, heartbeat, report(a) -> NOT_FOUND, register, report(a).
  ASSERT_GE(calls.size(), 5u);
  EXPECT_TRUE(absl::IsNotFound(calls[2].answer));
  EXPECT_TRUE(calls[3].is_register);
  EXPECT_EQ(calls[3].registration.worker_id(), "w1");
  EXPECT_FALSE(calls[4].is_register);
  EXPECT_EQ(calls[4].report.attempts(0).attempt_id(), "a");
  EXPECT_EQ(reporter_->stats().registrations, 2);
}

TEST_F(ReporterTest, SendsHeartbeatsWhenIdle) {
  leader_.SetHeartbeatMs(5);
  StartAndWaitForFirstReport(FastOptions());
  EXPECT_EQ(reporter_->stats().heartbeat_interval, absl::Milliseconds(5));
  ASSERT_TRUE(leader_.WaitUntil([](const std::vector<Call>& calls, int) {
    return CountOkReports(calls) >= 4;
  }));
  EXPECT_THAT(ReportBatches(leader_.calls()), IsEmpty());
}

TEST_F(ReporterTest, StopSendsWhatIsQueued) {
  Reporter::Options options = FastOptions();
  // After one failure the reporter backs off for an hour: only Stop() can
  // get the attempt out.
  options.initial_backoff = absl::Hours(1);
  options.max_backoff = absl::Hours(1);
  StartAndWaitForFirstReport(options);
  leader_.QueueReportAnswer(absl::UnavailableError("leader busy"));
  reporter_->Enqueue(Finished("a"));
  ASSERT_TRUE(leader_.WaitUntil([](const std::vector<Call>& calls, int) {
    return ReportBatches(calls).size() == 1;
  }));
  reporter_->Stop();
  EXPECT_EQ(FakeLeaderClient::AcknowledgedIds(leader_.calls()),
            std::vector<std::string>{"a"});
}

TEST_F(ReporterTest, DrainingIsReportedAtOnceAndInEveryLaterReport) {
  StartAndWaitForFirstReport(FastOptions());
  EXPECT_FALSE(leader_.calls().back().report.draining());
  reporter_->SetDraining();
  // The heartbeat is an hour away: only SetDraining() triggers this one.
  ASSERT_TRUE(leader_.WaitUntil([](const std::vector<Call>& calls, int) {
    return !calls.back().is_register && calls.back().report.draining();
  }));
  reporter_->Enqueue(Finished("a"));
  ASSERT_TRUE(WaitForAcknowledged({"a"}));
  EXPECT_TRUE(leader_.calls().back().report.draining());
  EXPECT_TRUE(reporter_->stats().draining);
}

TEST_F(ReporterTest, FlushSendsAReportAndWaitsForIt) {
  StartAndWaitForFirstReport(FastOptions());
  const int reports = CountOkReports(leader_.calls());
  EXPECT_TRUE(reporter_->Flush(absl::Seconds(10)));
  EXPECT_GT(CountOkReports(leader_.calls()), reports);

  leader_.HoldReports(true);
  EXPECT_FALSE(reporter_->Flush(absl::Milliseconds(20)));
  leader_.HoldReports(false);
  EXPECT_TRUE(reporter_->Flush(absl::Seconds(10)));
}

TEST_F(ReporterTest, RegisterAgainUnlessSomeoneDidAlready) {
  std::vector<int64_t> seen;
  absl::Mutex mu;
  StartAndWaitForFirstReport(FastOptions(), [&](int64_t registrations) {
    absl::MutexLock lock(&mu);
    seen.push_back(registrations);
  });
  // The command stream opened after registration 1 got NOT_FOUND.
  reporter_->RegisterAgain(1);
  ASSERT_TRUE(leader_.WaitUntil([](const std::vector<Call>& calls, int) {
    int registrations = 0;
    for (const Call& call : calls) registrations += call.is_register;
    return registrations == 2 && !calls.back().is_register;
  }));
  // A stale request (registration 1 is history) changes nothing.
  reporter_->RegisterAgain(1);
  EXPECT_TRUE(reporter_->Flush(absl::Seconds(10)));
  EXPECT_EQ(reporter_->stats().registrations, 2);
  absl::MutexLock lock(&mu);
  EXPECT_THAT(seen, ElementsAre(1, 2));
}

}  // namespace
}  // namespace quarry::worker

#include "worker/worker_service.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/server_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/worker/test_util.h"
#include "worker/kinds/kind_registry.h"

namespace quarry::worker {
namespace {

using quarry::v1::EXECUTION_STATUS_DONE;
using quarry::v1::EXECUTION_STATUS_PENDING;
using quarry::v1::EXECUTION_STATUS_RUNNING;
using testing::CompletionCollector;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeAssignment;

quarry::v1::Assignment Sleep(absl::string_view id, int slot) {
  return MakeAssignment(id, "sleep", {}, "", {{"ms", "3600000"}}, slot);
}

// A WorkerServiceImpl for worker "w1" behind a real gRPC server on
// 127.0.0.1, called through a stub.
class WorkerServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AttemptLogStore::Options log_options;
    log_options.dir = log_dir_.path();
    absl::StatusOr<std::unique_ptr<AttemptLogStore>> logs =
        AttemptLogStore::Open(log_options, &clock_);
    ASSERT_TRUE(logs.ok()) << logs.status();
    logs_ = *std::move(logs);
    SlotExecutor::Options options;
    options.slots = 2;
    options.attempt_logs = logs_.get();
    executor_ = std::make_unique<SlotExecutor>(
        options, kinds_.get(), &clock_,
        [this](const quarry::v1::AttemptStatus& s) { completions_.Add(s); });
    service_ = std::make_unique<WorkerServiceImpl>(executor_.get(),
                                                   logs_.get(), "", &fence_);
    absl::StatusOr<StartedServer> started =
        StartGrpcServer("127.0.0.1:0", {service_.get()});
    ASSERT_TRUE(started.ok()) << started.status();
    server_ = std::move(started->server);
    address_ = absl::StrCat("127.0.0.1:", started->port);
    service_->SetIdentity("w1", address_);
    stub_ = quarry::v1::WorkerService::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    executor_->Shutdown();
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    return context;
  }

  grpc::Status StartTasks(const quarry::v1::StartTasksRequest& request,
                          quarry::v1::StartTasksResponse* response) {
    return stub_->StartTasks(Context().get(), request, response);
  }
  grpc::Status GetWorkerState(absl::string_view worker_id,
                              quarry::v1::GetWorkerStateResponse* response,
                              std::vector<std::string> attempt_ids = {},
                              bool include_finished = false) {
    quarry::v1::GetWorkerStateRequest request;
    request.set_worker_id(std::string(worker_id));
    for (std::string& id : attempt_ids) request.add_attempt_ids(std::move(id));
    request.set_include_finished(include_finished);
    return stub_->GetWorkerState(Context().get(), request, response);
  }
  grpc::Status CancelTasks(absl::string_view worker_id,
                           std::vector<std::string> ids,
                           quarry::v1::CancelTasksResponse* response) {
    quarry::v1::CancelTasksRequest request;
    request.set_worker_id(std::string(worker_id));
    for (std::string& id : ids) request.add_attempt_ids(std::move(id));
    return stub_->CancelTasks(Context().get(), request, response);
  }
  grpc::Status GetAttemptLog(
      absl::string_view worker_id, absl::string_view attempt_id,
      quarry::v1::GetWorkerAttemptLogResponse* response) {
    quarry::v1::GetWorkerAttemptLogRequest request;
    request.set_worker_id(std::string(worker_id));
    request.set_attempt_id(std::string(attempt_id));
    return stub_->GetAttemptLog(Context().get(), request, response);
  }

  std::unique_ptr<KindRegistry> kinds_ = NewBuiltInKindRegistry();
  EpochFence fence_;
  quarry::testing::FakeClock clock_;
  testing::TempDir log_dir_;
  std::unique_ptr<AttemptLogStore> logs_;
  CompletionCollector completions_;
  std::unique_ptr<SlotExecutor> executor_;
  std::unique_ptr<WorkerServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  std::string address_;
  std::unique_ptr<quarry::v1::WorkerService::Stub> stub_;
};

TEST_F(WorkerServiceTest, RefusesRequestsMeantForAnotherWorker) {
  const std::string expected = absl::StrCat(
      "request meant for worker \"w2\" reached worker \"w1\" at ", address_);
  quarry::v1::StartTasksRequest start;
  start.set_worker_id("w2");
  *start.add_assignments() = MakeAssignment("job-000001.0.1", "noop");
  quarry::v1::StartTasksResponse started;
  grpc::Status status = StartTasks(start, &started);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), expected);

  quarry::v1::GetWorkerStateResponse state;
  status = GetWorkerState("w2", &state);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(), expected);

  quarry::v1::CancelTasksResponse cancelled;
  status = CancelTasks("w2", {"job-000001.0.1"}, &cancelled);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // Nothing ran.
  EXPECT_TRUE(executor_->Snapshot().attempts.empty());
}

TEST_F(WorkerServiceTest, EmptyWorkerIdIsInvalidArgument) {
  quarry::v1::StartTasksRequest start;
  *start.add_assignments() = MakeAssignment("job-000001.0.1", "noop");
  quarry::v1::StartTasksResponse started;
  grpc::Status status = StartTasks(start, &started);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("worker_id"));
  quarry::v1::GetWorkerStateResponse state;
  EXPECT_EQ(GetWorkerState("", &state).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  quarry::v1::CancelTasksResponse cancelled;
  EXPECT_EQ(CancelTasks("", {}, &cancelled).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_TRUE(executor_->Snapshot().attempts.empty());
}

TEST_F(WorkerServiceTest, StartTasksAcceptsAndRejectsEachAssignment) {
  quarry::v1::StartTasksRequest request;
  request.set_worker_id("w1");
  *request.add_assignments() = Sleep("job-000001.0.1", 0);
  *request.add_assignments() = Sleep("job-000001.1.1", 0);  // Busy.
  *request.add_assignments() = Sleep("job-000001.2.1", 5);  // No such slot.
  *request.add_assignments() =
      MakeAssignment("job-000001.3.1", "frob", {}, "", {}, 1);
  *request.add_assignments() = Sleep("job-000001.4.1", 1);
  quarry::v1::StartTasksResponse response;
  ASSERT_TRUE(StartTasks(request, &response).ok());
  EXPECT_THAT(response.accepted_attempt_ids(),
              ElementsAre("job-000001.0.1", "job-000001.4.1"));
  ASSERT_EQ(response.rejected_size(), 3);
  EXPECT_EQ(response.rejected(0).attempt_id(), "job-000001.1.1");
  EXPECT_THAT(response.rejected(0).reason(), HasSubstr("busy"));
  EXPECT_EQ(response.rejected(1).attempt_id(), "job-000001.2.1");
  EXPECT_THAT(response.rejected(1).reason(), HasSubstr("out of range"));
  EXPECT_EQ(response.rejected(2).attempt_id(), "job-000001.3.1");
  EXPECT_THAT(response.rejected(2).reason(), HasSubstr("unknown kind"));

  quarry::v1::CancelTasksResponse cancelled;
  ASSERT_TRUE(CancelTasks("w1", {"job-000001.0.1", "job-000001.4.1", "nope"},
                          &cancelled)
                  .ok());
  EXPECT_THAT(cancelled.cancelled_attempt_ids(),
              ElementsAre("job-000001.0.1", "job-000001.4.1"));
  EXPECT_EQ(completions_.WaitFor("job-000001.0.1").status(),
            quarry::v1::EXECUTION_STATUS_CANCELLED);
  EXPECT_EQ(completions_.WaitFor("job-000001.4.1").status(),
            quarry::v1::EXECUTION_STATUS_CANCELLED);
}

TEST_F(WorkerServiceTest, GetWorkerStateShowsSlotsAndAttempts) {
  ASSERT_TRUE(
      executor_->Start(MakeAssignment("job-000001.1.1", "noop", {}, "", {}, 1))
          .ok());
  completions_.WaitFor("job-000001.1.1");
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.0.1", 0)).ok());

  quarry::v1::GetWorkerStateResponse state;
  ASSERT_TRUE(GetWorkerState("w1", &state).ok());
  EXPECT_EQ(state.worker_id(), "w1");
  EXPECT_EQ(state.slots(), 2);
  ASSERT_EQ(state.slot_states_size(), 2);
  EXPECT_EQ(state.slot_states(0).index(), 0);
  EXPECT_EQ(state.slot_states(0).status(), EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(state.slot_states(0).attempt_id(), "job-000001.0.1");
  EXPECT_EQ(state.slot_states(1).index(), 1);
  EXPECT_EQ(state.slot_states(1).status(), EXECUTION_STATUS_PENDING);
  // By default only what runs now: probes stay small however many
  // attempts the worker remembers.
  ASSERT_EQ(state.attempts_size(), 1);
  EXPECT_EQ(state.attempts().at("job-000001.0.1").status(),
            EXECUTION_STATUS_RUNNING);

  // Ended attempts when asked for by id, or all of them.
  for (bool include_finished : {false, true}) {
    quarry::v1::GetWorkerStateResponse asked;
    ASSERT_TRUE(GetWorkerState("w1", &asked,
                               include_finished
                                   ? std::vector<std::string>{}
                                   : std::vector<std::string>{"job-000001.1.1",
                                                              "job-000009.0.1"},
                               include_finished)
                    .ok());
    ASSERT_EQ(asked.attempts_size(), 2);
    EXPECT_EQ(asked.attempts().at("job-000001.1.1").status(),
              EXECUTION_STATUS_DONE);
    EXPECT_EQ(asked.attempts().at("job-000001.0.1").status(),
              EXECUTION_STATUS_RUNNING);
  }
}

TEST_F(WorkerServiceTest, GetAttemptLogReturnsAnAttemptsLog) {
  ASSERT_TRUE(executor_->Start(MakeAssignment("job-000001.0.1", "noop")).ok());
  ASSERT_EQ(completions_.WaitFor("job-000001.0.1").status(),
            EXECUTION_STATUS_DONE);
  quarry::v1::GetWorkerAttemptLogResponse response;
  grpc::Status status = GetAttemptLog("w1", "job-000001.0.1", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.log().attempt_id(), "job-000001.0.1");
  EXPECT_EQ(response.log().worker_id(), "w1");
  EXPECT_TRUE(response.log().finished());
  EXPECT_FALSE(response.log().truncated());
  EXPECT_THAT(response.log().content(),
              HasSubstr(" attempt job-000001.0.1 started: job job-000001 "
                        "task 0 (kind noop)"));
  EXPECT_THAT(response.log().content(), HasSubstr(" attempt ended DONE\n"));
}

TEST_F(WorkerServiceTest, GetAttemptLogOfARunningAttemptShowsItSoFar) {
  ASSERT_TRUE(executor_->Start(Sleep("job-000001.0.1", 0)).ok());
  // Nothing signals that the slot thread has started it: poll, bounded.
  quarry::v1::GetWorkerAttemptLogResponse response;
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (absl::Now() < deadline) {
    response.Clear();
    ASSERT_TRUE(GetAttemptLog("w1", "job-000001.0.1", &response).ok());
    if (absl::StrContains(response.log().content(), " started: ")) break;
    absl::SleepFor(absl::Milliseconds(1));
  }
  EXPECT_THAT(response.log().content(),
              HasSubstr(" attempt job-000001.0.1 started: "));
  EXPECT_FALSE(response.log().finished());
  EXPECT_EQ(executor_->Cancel({"job-000001.0.1"}).size(), 1u);
  completions_.WaitFor("job-000001.0.1");
  ASSERT_TRUE(GetAttemptLog("w1", "job-000001.0.1", &response).ok());
  EXPECT_TRUE(response.log().finished());
  EXPECT_THAT(response.log().content(), HasSubstr(" attempt ended CANCELLED"));
}

TEST_F(WorkerServiceTest, GetAttemptLogRefusesWhatItCannotServe) {
  quarry::v1::GetWorkerAttemptLogResponse response;
  grpc::Status status = GetAttemptLog("w2", "job-000001.0.1", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(status.error_message(),
            absl::StrCat("request meant for worker \"w2\" reached worker "
                         "\"w1\" at ",
                         address_));
  EXPECT_EQ(GetAttemptLog("", "job-000001.0.1", &response).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  status = GetAttemptLog("w1", "", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "attempt_id is required");
  status = GetAttemptLog("w1", "../../etc/passwd", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("attempt_id"));
  status = GetAttemptLog("w1", "job-000007.0.1", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(),
            "worker w1: no log of attempt job-000007.0.1 here: this worker "
            "did not run it, or retention removed it");
}

TEST(WorkerServiceIdentityTest, UnavailableUntilTheIdentityIsSet) {
  auto kinds = NewBuiltInKindRegistry();
  RealClock clock;
  SlotExecutor executor({}, kinds.get(), &clock, nullptr);
  WorkerServiceImpl service(&executor);
  quarry::v1::GetWorkerStateRequest request;
  request.set_worker_id("w1");
  quarry::v1::GetWorkerStateResponse response;
  EXPECT_EQ(service.GetWorkerState(nullptr, &request, &response).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  service.SetIdentity("w1", "host:1");
  EXPECT_TRUE(service.GetWorkerState(nullptr, &request, &response).ok());
}

TEST_F(WorkerServiceTest, CallsFromADeposedLeaderAreRefused) {
  auto call = [this](int64_t epoch, const char* tag) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    AddLeaderEpoch(epoch, context);
    if (tag != nullptr) context.AddMetadata(kLeaderEpochMetadata, tag);
    quarry::v1::GetWorkerStateRequest request;
    request.set_worker_id("w1");
    quarry::v1::GetWorkerStateResponse response;
    return stub_->GetWorkerState(&context, request, &response);
  };
  EXPECT_TRUE(call(0, nullptr).ok());  // No lease: epoch 0.
  EXPECT_TRUE(call(5, nullptr).ok());
  EXPECT_EQ(fence_.highest(), 5);
  const grpc::Status stale = call(4, nullptr);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(stale.error_message(), "deposed leader: epoch 4 < 5");
  EXPECT_EQ(call(0, nullptr).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(call(0, "five").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(call(6, nullptr).ok());
}

}  // namespace
}  // namespace quarry::worker

#ifndef QUARRY_TESTS_WORKER_WORKER_SERVER_FIXTURE_H_
#define QUARRY_TESTS_WORKER_WORKER_SERVER_FIXTURE_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "quarry/v1/worker_service.grpc.pb.h"
#include "tests/worker/fake_leader_client.h"
#include "worker/worker_server.h"

namespace quarry::worker::testing {

// A WorkerServer on 127.0.0.1 with a fake leader, driven over real gRPC.
class WorkerServerFixture : public ::testing::Test {
 protected:
  using Call = FakeLeaderClient::Call;

  void StartWorker(WorkerConfig config) {
    config.reporter.initial_backoff = absl::Milliseconds(1);
    config.reporter.max_backoff = absl::Milliseconds(5);
    config.connection.initial_backoff = absl::Milliseconds(1);
    config.connection.max_backoff = absl::Milliseconds(5);
    auto leader = std::make_unique<FakeLeaderClient>();
    leader_ = leader.get();
    absl::StatusOr<std::unique_ptr<WorkerServer>> worker =
        WorkerServer::Start(config, std::move(leader));
    ASSERT_TRUE(worker.ok()) << worker.status();
    worker_ = *std::move(worker);
    stub_ = quarry::v1::WorkerService::NewStub(grpc::CreateChannel(
        worker_->address(), grpc::InsecureChannelCredentials()));
    // As with a real leader, work comes only once the worker is registered:
    // its first report follows the registration.
    ASSERT_TRUE(leader_->WaitUntil([](const std::vector<Call>& calls, int) {
      for (const Call& call : calls) {
        if (!call.is_register) return true;
      }
      return false;
    }));
  }

  WorkerConfig LocalConfig() {
    WorkerConfig config;
    config.worker_id = "w-test";
    config.slots = 2;
    config.labels = {{"zone", "a"}};
    return config;
  }

  // StartTasks with one assignment; a rejection comes back as ABORTED with
  // the worker's reason.
  grpc::Status Start(const quarry::v1::Assignment& assignment) {
    quarry::v1::StartTasksRequest request;
    request.set_worker_id(worker_->worker_id());
    *request.add_assignments() = assignment;
    quarry::v1::StartTasksResponse response;
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    grpc::Status status = stub_->StartTasks(&context, request, &response);
    if (status.ok() && response.rejected_size() > 0) {
      return grpc::Status(grpc::StatusCode::ABORTED,
                          response.rejected(0).reason());
    }
    return status;
  }

  // The acknowledged report of `attempt_id` in `calls`, or nullptr.
  static const quarry::v1::AttemptStatus* FindReport(
      const std::vector<Call>& calls, absl::string_view attempt_id) {
    for (const Call& call : calls) {
      if (call.is_register || !call.answer.ok()) continue;
      for (const quarry::v1::AttemptStatus& attempt : call.report.attempts()) {
        if (attempt.attempt_id() == attempt_id) return &attempt;
      }
    }
    return nullptr;
  }

  // The reported final status of `attempt_id`, waiting for it.
  quarry::v1::AttemptStatus WaitForReport(absl::string_view attempt_id) {
    quarry::v1::AttemptStatus found;
    EXPECT_TRUE(leader_->WaitUntil([&](const std::vector<Call>& calls, int) {
      const quarry::v1::AttemptStatus* report = FindReport(calls, attempt_id);
      if (report != nullptr) found = *report;
      return report != nullptr;
    })) << "no report of "
        << attempt_id;
    return found;
  }

  // Waits for an acknowledged report that says draining=true.
  bool WaitForDrainingReport() {
    return leader_->WaitUntil([](const std::vector<Call>& calls, int) {
      for (const Call& call : calls) {
        if (!call.is_register && call.answer.ok() && call.report.draining()) {
          return true;
        }
      }
      return false;
    });
  }

  FakeLeaderClient* leader_ = nullptr;  // Owned by worker_.
  std::unique_ptr<WorkerServer> worker_;
  std::unique_ptr<quarry::v1::WorkerService::Stub> stub_;
};

}  // namespace quarry::worker::testing

#endif  // QUARRY_TESTS_WORKER_WORKER_SERVER_FIXTURE_H_

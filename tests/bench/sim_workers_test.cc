// The simulated workers of the scale benchmark, called directly (no
// network): they refuse work meant for a worker they do not serve, run
// noop attempts at once, and answer probes from what they remember.
#include "bench/sim_workers.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry::bench {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

quarry::v1::StartTasksRequest Start(const std::string& worker_id,
                                    const std::string& attempt_id,
                                    const std::string& kind = "noop",
                                    int slot = 0) {
  quarry::v1::StartTasksRequest request;
  request.set_worker_id(worker_id);
  quarry::v1::Assignment* assignment = request.add_assignments();
  assignment->set_attempt_id(attempt_id);
  assignment->set_job_id("job-000001");
  assignment->set_kind(kind);
  assignment->set_slot(slot);
  return request;
}

class SimulatedWorkersTest : public ::testing::Test {
 protected:
  SimulatedWorkersTest() : workers_(Options()) {}

  static SimulatedWorkers::Options Options() {
    SimulatedWorkers::Options options;
    options.leader = "127.0.0.1:1";  // Never called: Start() is not.
    options.workers = 3;
    options.slots = 2;
    return options;
  }

  // StartTasks as gRPC would call it.
  grpc::Status StartTasks(const quarry::v1::StartTasksRequest& request,
                          quarry::v1::StartTasksResponse* response) {
    return workers_.StartTasks(nullptr, &request, response);
  }

  SimulatedWorkers workers_;
};

TEST_F(SimulatedWorkersTest, RefusesRequestsMeantForAnotherWorker) {
  quarry::v1::StartTasksResponse started;
  grpc::Status status = StartTasks(Start("w9", "job-000001.0.1"), &started);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("meant for worker \"w9\""));
  EXPECT_THAT(status.error_message(), HasSubstr("sim-w0000..sim-w0002"));

  quarry::v1::GetWorkerStateRequest probe;
  probe.set_worker_id("sim-w0003");
  quarry::v1::GetWorkerStateResponse state;
  EXPECT_EQ(workers_.GetWorkerState(nullptr, &probe, &state).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
  quarry::v1::CancelTasksRequest cancel;
  quarry::v1::CancelTasksResponse cancelled;
  EXPECT_EQ(workers_.CancelTasks(nullptr, &cancel, &cancelled).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);  // No worker_id at all.
  EXPECT_EQ(workers_.completed(), 0);
}

TEST_F(SimulatedWorkersTest, RunsNoopAttemptsAtOnceAndRemembersThem) {
  quarry::v1::StartTasksResponse started;
  ASSERT_TRUE(StartTasks(Start("sim-w0001", "job-000001.0.1"), &started).ok());
  EXPECT_THAT(started.accepted_attempt_ids(), ElementsAre("job-000001.0.1"));
  EXPECT_EQ(workers_.completed(), 1);

  quarry::v1::GetWorkerStateRequest probe;
  probe.set_worker_id("sim-w0001");
  probe.add_attempt_ids("job-000001.0.1");
  probe.add_attempt_ids("job-000001.9.1");  // Never started here.
  quarry::v1::GetWorkerStateResponse state;
  ASSERT_TRUE(workers_.GetWorkerState(nullptr, &probe, &state).ok());
  EXPECT_EQ(state.slots(), 2);
  ASSERT_EQ(state.slot_states_size(), 2);
  EXPECT_EQ(state.slot_states(0).status(),
            quarry::v1::EXECUTION_STATUS_PENDING);
  ASSERT_EQ(state.attempts().size(), 1u);
  EXPECT_EQ(state.attempts().at("job-000001.0.1").status(),
            quarry::v1::EXECUTION_STATUS_DONE);

  // Another worker of the same process knows nothing of it.
  probe.set_worker_id("sim-w0002");
  state.Clear();
  ASSERT_TRUE(workers_.GetWorkerState(nullptr, &probe, &state).ok());
  EXPECT_TRUE(state.attempts().empty());
}

TEST_F(SimulatedWorkersTest, RefusesWhatItCannotRun) {
  quarry::v1::StartTasksResponse started;
  ASSERT_TRUE(
      StartTasks(Start("sim-w0000", "job-000001.0.1", "wordcount"), &started)
          .ok());
  ASSERT_EQ(started.rejected_size(), 1);
  EXPECT_THAT(started.rejected(0).reason(), HasSubstr("only noop"));
  started.Clear();
  ASSERT_TRUE(
      StartTasks(Start("sim-w0000", "job-000001.1.1", "noop", 2), &started)
          .ok());
  ASSERT_EQ(started.rejected_size(), 1);
  EXPECT_THAT(started.rejected(0).reason(), HasSubstr("out of range"));
  EXPECT_EQ(workers_.completed(), 0);
}

}  // namespace
}  // namespace quarry::bench

// Unit tests of the workers' queues as the controller fills them: idle
// slots first, queue places only for jobs whose attempts are short.
#include <string>
#include <vector>

#include "common/time_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leader/control/controller.h"
#include "tests/leader/control/controller_fixture.h"

namespace quarry {
namespace {

using ::testing::SizeIs;

class ControllerQueueTest : public ControllerTest {
 protected:
  void RegisterWithQueue(const std::string& id, int slots, int queue) {
    quarry::v1::RegisterWorkerRequest request;
    request.set_worker_id(id);
    request.set_address("127.0.0.1:1");
    request.set_slots(slots);
    request.set_queue(queue);
    ASSERT_TRUE(controller_->OnRegisterWorker(request).ok());
  }

  // Reports the attempts DONE, each having run for `run` by the worker's
  // clock.
  void ReportDone(const std::string& worker_id,
                  const std::vector<std::string>& attempt_ids,
                  absl::Duration run) {
    quarry::v1::ReportWorkerStateRequest report;
    report.set_worker_id(worker_id);
    for (const std::string& id : attempt_ids) {
      quarry::v1::AttemptStatus* attempt = report.add_attempts();
      attempt->set_attempt_id(id);
      attempt->set_status(quarry::v1::EXECUTION_STATUS_DONE);
      *attempt->mutable_start_time() = ToProtoTime(clock_.Now() - run);
      *attempt->mutable_end_time() = ToProtoTime(clock_.Now());
    }
    ASSERT_TRUE(controller_->OnWorkerReport(report).ok());
  }

  // The number of assignments in each StartTasks call the worker got.
  std::vector<int> BatchSizes(const std::string& worker_id) {
    std::vector<int> sizes;
    for (auto& call : clients_.worker(worker_id)->TakeStarts()) {
      sizes.push_back(call.request.assignments_size());
      quarry::testing::FakeWorker::AcceptAll(call);
    }
    return sizes;
  }
};

TEST_F(ControllerQueueTest, ShortTasksFillTheQueueOnceTheirRunTimeIsKnown) {
  RegisterWithQueue("w1", 2, 4);
  const std::string id = SubmitNoop(20);
  Step();
  // Nothing is known of the job's attempts yet: idle slots only.
  std::vector<std::string> first = AcceptStarts("w1");
  ASSERT_THAT(first, SizeIs(2));
  Step();
  EXPECT_THAT(BatchSizes("w1"), SizeIs(0));

  ReportDone("w1", first, absl::Milliseconds(1));
  Step();
  // Two idle slots and four queue places, in one batch.
  EXPECT_THAT(BatchSizes("w1"), ::testing::ElementsAre(6));
  Step();
  EXPECT_EQ(StoredJob(id).task_counts().pending(), 12);
  const ControllerStats stats = controller_->Stats();
  EXPECT_EQ(stats.busy_slots, 2);
  EXPECT_EQ(stats.queued, 4);
  EXPECT_EQ(stats.slots, 2);
  // GetCluster shows the queue after the slots.
  const std::vector<quarry::v1::Worker> workers = *store_.ListWorkers();
  ASSERT_THAT(workers, SizeIs(1));
  const quarry::v1::Worker& worker = workers[0];
  EXPECT_EQ(worker.slots(), 2);
  EXPECT_EQ(worker.queue(), 4);
  EXPECT_THAT(worker.slot_states(), SizeIs(6));
}

TEST_F(ControllerQueueTest, LongTasksNeverWaitInAQueue) {
  RegisterWithQueue("w1", 2, 4);
  const std::string id = SubmitNoop(20);
  Step();
  std::vector<std::string> first = AcceptStarts("w1");
  ASSERT_THAT(first, SizeIs(2));
  ReportDone("w1", first, absl::Seconds(3));
  Step();
  EXPECT_THAT(BatchSizes("w1"), ::testing::ElementsAre(2));
  Step();
  EXPECT_EQ(StoredJob(id).task_counts().pending(), 16);
}

TEST_F(ControllerQueueTest, QueueingCanBeTurnedOff) {
  ControllerOptions options = TestOptions();
  options.queue_tasks_shorter_than = absl::ZeroDuration();
  StartLeader(options);
  RegisterWithQueue("w1", 2, 4);
  SubmitNoop(20);
  Step();
  std::vector<std::string> first = AcceptStarts("w1");
  ReportDone("w1", first, absl::Microseconds(10));
  Step();
  EXPECT_THAT(BatchSizes("w1"), ::testing::ElementsAre(2));
}

TEST_F(ControllerQueueTest, IdleSlotsAreFilledBeforeAnyQueue) {
  RegisterWithQueue("w1", 1, 2);
  RegisterWithQueue("w2", 1, 2);
  SubmitNoop(20);
  Step();
  std::vector<std::string> on_w1 = AcceptStarts("w1");
  std::vector<std::string> on_w2 = AcceptStarts("w2");
  ASSERT_THAT(on_w1, SizeIs(1));
  ASSERT_THAT(on_w2, SizeIs(1));
  // w1's slot frees; w2's attempt still runs.
  ReportDone("w1", on_w1, absl::Milliseconds(2));
  Step();
  // w1: its idle slot, then its two queue places; w2: its queue.
  EXPECT_THAT(BatchSizes("w1"), ::testing::ElementsAre(3));
  EXPECT_THAT(BatchSizes("w2"), ::testing::ElementsAre(2));
}

}  // namespace
}  // namespace quarry

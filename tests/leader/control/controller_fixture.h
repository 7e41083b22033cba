#ifndef QUARRY_TESTS_LEADER_CONTROL_CONTROLLER_FIXTURE_H_
#define QUARRY_TESTS_LEADER_CONTROL_CONTROLLER_FIXTURE_H_

// The fixture of the controller's unit tests: a controller over a memory
// store, driven step by step with a FakeClock and fake workers.
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/memory_store.h"
#include "gtest/gtest.h"
#include "leader/control/controller.h"
#include "leader/api/job_manager.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_worker_client.h"
#include "tests/testing/fault_injecting_store.h"

namespace quarry {

using ::quarry::testing::FakeClock;
using ::quarry::testing::FakeWorker;
using ::quarry::testing::FakeWorkerClientFactory;

// Records which jobs were finalized and the state the store showed then.
class RecordingFinalizer : public OutputFinalizer {
 public:
  explicit RecordingFinalizer(Store* store) : store_(store) {}
  absl::Status Finalize(const quarry::v1::Job& job) override {
    finalized.push_back(job.id());
    stored_state_then.push_back(store_->GetJob(job.id())->state());
    return absl::OkStatus();
  }
  std::vector<std::string> finalized;
  std::vector<quarry::v1::JobState> stored_state_then;

 private:
  Store* store_;
};

inline ControllerOptions TestOptions() {
  ControllerOptions options;
  options.worker_rpc_timeout = absl::Milliseconds(10);  // Bounds Stop().
  options.probe_interval = absl::Milliseconds(100);
  options.suspect_after = absl::Seconds(2);
  options.dead_after = absl::Seconds(5);
  return options;
}

class ControllerTest : public ::testing::Test {
 protected:
  ControllerTest() : finalizer_(&store_) { StartLeader(); }

  // Builds the controller and job manager over store_ (again: a leader
  // restart; the old ones are destroyed first, as by a crash).
  void StartLeader(ControllerOptions options = TestOptions()) {
    manager_.reset();
    controller_.reset();
    controller_ = std::make_unique<Controller>(
        &faulty_store_, &clients_, &finalizer_, &clock_, &notifier_, options);
    manager_ = std::make_unique<JobManager>(&faulty_store_, controller_.get(),
                                            &notifier_, &clock_);
  }

  void Register(const std::string& id, int slots) {
    quarry::v1::RegisterWorkerRequest request;
    request.set_worker_id(id);
    request.set_address("127.0.0.1:1");
    request.set_slots(slots);
    ASSERT_TRUE(controller_->OnRegisterWorker(request).ok());
  }

  std::string SubmitNoop(int tasks, int max_attempts = 0) {
    quarry::v1::JobSpec spec;
    spec.set_kind("noop");
    (*spec.mutable_settings())["tasks"] = absl::StrCat(tasks);
    spec.set_max_attempts(max_attempts);
    auto response = manager_->Submit(spec);
    EXPECT_TRUE(response.ok()) << response.status();
    return response->job_id();
  }

  void Step() { controller_->RunOnce(clock_.Now()); }

  quarry::v1::Job StoredJob(const std::string& id) { return *store_.GetJob(id); }

  std::vector<quarry::v1::Task> StoredTasks(const std::string& id) {
    return *store_.GetTasks(id);
  }

  // Reports `status` for the attempts, as worker `worker_id` would.
  absl::Status Report(const std::string& worker_id,
                      const std::vector<std::string>& attempt_ids,
                      quarry::v1::ExecutionStatus status,
                      const std::string& error = "") {
    quarry::v1::ReportWorkerStateRequest report;
    report.set_worker_id(worker_id);
    for (const std::string& id : attempt_ids) {
      quarry::v1::AttemptStatus* attempt = report.add_attempts();
      attempt->set_attempt_id(id);
      attempt->set_status(status);
      attempt->set_error(error);
    }
    return controller_->OnWorkerReport(report);
  }

  // Accepts every pending StartTasks of the worker; returns the attempt ids.
  std::vector<std::string> AcceptStarts(const std::string& worker_id) {
    std::vector<std::string> ids;
    for (FakeWorker::StartCall& call : clients_.worker(worker_id)->TakeStarts()) {
      for (const auto& assignment : call.request.assignments()) {
        ids.push_back(assignment.attempt_id());
      }
      FakeWorker::AcceptAll(call);
    }
    return ids;
  }

  // Answers the worker's probes with an empty state for `slots` slots, and
  // reports a heartbeat, so it stays ALIVE.
  void KeepAlive(const std::string& worker_id) {
    ASSERT_TRUE(Report(worker_id, {}, quarry::v1::EXECUTION_STATUS_RUNNING).ok());
  }

  // What the store holds; the leader writes through faulty_store_, which
  // can fail on demand.
  MemoryStore store_;
  ::quarry::testing::FaultInjectingStore faulty_store_{&store_};
  FakeClock clock_;
  ChangeNotifier notifier_;
  FakeWorkerClientFactory clients_;
  RecordingFinalizer finalizer_;
  std::unique_ptr<Controller> controller_;
  std::unique_ptr<JobManager> manager_;
};

}  // namespace quarry

#endif  // QUARRY_TESTS_LEADER_CONTROL_CONTROLLER_FIXTURE_H_

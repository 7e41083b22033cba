// A randomized test of the controller: thousands of random events (jobs,
// accepts, refusals, completions, failures, lost connections, restarts,
// cancels, clock jumps), checking after every step that what GetJob and
// GetCluster would show is consistent; then the cluster heals and every
// job must end.
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/memory_store.h"
#include "common/time_util.h"
#include "gtest/gtest.h"
#include "leader/control/controller.h"
#include "leader/api/job_manager.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/fake_worker_client.h"

namespace quarry {
namespace {

using ::quarry::testing::FakeClock;
using ::quarry::testing::FakeWorker;
using ::quarry::testing::FakeWorkerClientFactory;

class NullFinalizer : public OutputFinalizer {
 public:
  absl::Status Finalize(const quarry::v1::Job&) override {
    return absl::OkStatus();
  }
};

class NullLink : public WorkerLink {
 public:
  void SendDrain() override {}
  void Close() override {}
};

class ControllerRandomTest : public ::testing::TestWithParam<int> {
 protected:
  ControllerRandomTest()
      : controller_(&store_, &clients_, &finalizer_, &clock_, &notifier_,
                    Options()),
        manager_(&store_, &controller_, &notifier_, &clock_),
        random_(GetParam()) {}

  static ControllerOptions Options() {
    ControllerOptions options;
    options.worker_rpc_timeout = absl::Milliseconds(10);
    return options;
  }

  int Pick(int n) {
    return std::uniform_int_distribution<int>(0, n - 1)(random_);
  }

  void Register(const std::string& id) {
    quarry::v1::RegisterWorkerRequest request;
    request.set_worker_id(id);
    request.set_address("127.0.0.1:1");
    request.set_slots(3);
    request.set_queue(2);  // Filled for jobs whose attempts are short.
    ASSERT_TRUE(controller_.OnRegisterWorker(request).ok());
    connection_[id] = *controller_.OnWorkerConnected(id, link_);
    for (auto it = live_.begin(); it != live_.end();) {
      it = it->second == id ? live_.erase(it) : std::next(it);
    }
  }

  void Report(const std::string& worker, const std::string& attempt,
              quarry::v1::ExecutionStatus status) {
    quarry::v1::ReportWorkerStateRequest report;
    report.set_worker_id(worker);
    auto* entry = report.add_attempts();
    entry->set_attempt_id(attempt);
    entry->set_status(status);
    if (status == quarry::v1::EXECUTION_STATUS_DONE) {
      // Short or long runs: some jobs get queued, others never.
      const absl::Duration run =
          Pick(2) == 0 ? absl::Milliseconds(1) : absl::Seconds(1);
      *entry->mutable_start_time() = ToProtoTime(clock_.Now() - run);
      *entry->mutable_end_time() = ToProtoTime(clock_.Now());
    }
    controller_.OnWorkerReport(report).IgnoreError();
  }

  // Answers StartTasks calls: mostly accept, sometimes refuse or fail.
  void AnswerStarts(bool healthy) {
    for (const std::string& worker : workers_) {
      for (FakeWorker::StartCall& call :
           clients_.worker(worker)->TakeStarts()) {
        const int roll = healthy ? 0 : Pick(10);
        if (roll == 9) {
          call.done(absl::UnavailableError("connection refused"));
          continue;
        }
        quarry::v1::StartTasksResponse response;
        for (const auto& assignment : call.request.assignments()) {
          if (roll == 8) {
            auto* rejected = response.add_rejected();
            rejected->set_attempt_id(assignment.attempt_id());
            rejected->set_reason("slot busy");
          } else {
            response.add_accepted_attempt_ids(assignment.attempt_id());
            live_[assignment.attempt_id()] = worker;
          }
        }
        call.done(response);
      }
      // Probes: answer with the attempts the worker runs.
      quarry::v1::GetWorkerStateResponse state;
      for (const auto& [attempt, owner] : live_) {
        if (owner != worker) continue;
        quarry::v1::AttemptStatus status;
        status.set_attempt_id(attempt);
        status.set_status(quarry::v1::EXECUTION_STATUS_RUNNING);
        (*state.mutable_attempts())[attempt] = status;
      }
      clients_.worker(worker)->AnswerProbes(state);
      clients_.worker(worker)->TakeCancels();
    }
  }

  void CheckInvariants() {
    std::set<std::string> in_slots;
    const std::vector<quarry::v1::Worker> workers = *store_.ListWorkers();
    for (const quarry::v1::Worker& worker : workers) {
      for (const auto& slot : worker.slot_states()) {
        if (slot.attempt_id().empty()) continue;
        ASSERT_NE(worker.status(), quarry::v1::WORKER_STATUS_DEAD)
            << worker.id() << " is DEAD yet holds " << slot.attempt_id();
        ASSERT_TRUE(in_slots.insert(slot.attempt_id()).second)
            << slot.attempt_id() << " is in two slots";
      }
    }
    for (const std::string& id : jobs_) {
      const quarry::v1::Job job = *store_.GetJob(id);
      std::map<int, int> counts;
      std::set<std::string> attempts;
      const std::vector<quarry::v1::Task> tasks = *store_.GetTasks(id);
      for (const quarry::v1::Task& task : tasks) {
        ++counts[task.status()];
        if (!task.attempt_id().empty()) {
          ASSERT_TRUE(attempts.insert(task.attempt_id()).second);
        }
      }
      const auto& c = job.task_counts();
      ASSERT_EQ(c.pending(), counts[quarry::v1::EXECUTION_STATUS_PENDING])
          << id;
      ASSERT_EQ(c.assigned(), counts[quarry::v1::EXECUTION_STATUS_ASSIGNED])
          << id;
      ASSERT_EQ(c.running(), counts[quarry::v1::EXECUTION_STATUS_RUNNING])
          << id;
      ASSERT_EQ(c.done(), counts[quarry::v1::EXECUTION_STATUS_DONE]) << id;
      ASSERT_EQ(c.failed(), counts[quarry::v1::EXECUTION_STATUS_FAILED]) << id;
      ASSERT_EQ(c.cancelled(), counts[quarry::v1::EXECUTION_STATUS_CANCELLED])
          << id;
      ASSERT_EQ(c.pending() + c.assigned() + c.running() + c.done() +
                    c.failed() + c.cancelled(),
                job.task_count());
    }
    CheckStatsAgreeWithStore(workers);
  }

  // The metrics snapshot tells the same story as the store after a step.
  void CheckStatsAgreeWithStore(
      const std::vector<quarry::v1::Worker>& workers) {
    ControllerStats stats = controller_.Stats();
    std::map<quarry::v1::JobState, int64_t> active;
    std::map<quarry::v1::JobState, int64_t> finished;
    int64_t tasks = 0;
    int64_t started = 0;
    for (const std::string& id : jobs_) {
      const quarry::v1::Job job = *store_.GetJob(id);
      started += job.attempts_started();
      ++(IsFinished(job.state()) ? finished : active)[job.state()];
      if (!IsFinished(job.state())) tasks += job.task_count();
    }
    ASSERT_EQ(stats.jobs[quarry::v1::JOB_STATE_PENDING],
              active[quarry::v1::JOB_STATE_PENDING]);
    ASSERT_EQ(stats.jobs[quarry::v1::JOB_STATE_RUNNING],
              active[quarry::v1::JOB_STATE_RUNNING]);
    int64_t stats_tasks = 0;
    for (const auto& [status, count] : stats.tasks) stats_tasks += count;
    ASSERT_EQ(stats_tasks, tasks);
    ASSERT_LE(stats.queue_depth,
              stats.tasks[quarry::v1::EXECUTION_STATUS_PENDING]);
    for (auto state : {quarry::v1::JOB_STATE_DONE, quarry::v1::JOB_STATE_FAILED,
                       quarry::v1::JOB_STATE_CANCELLED}) {
      ASSERT_EQ(stats.counts.jobs_finished[state], finished[state]);
    }
    ASSERT_EQ(stats.counts.jobs_submitted, static_cast<int64_t>(jobs_.size()));
    ASSERT_EQ(stats.counts.attempts_started, started);
    std::map<quarry::v1::WorkerStatus, int64_t> statuses;
    for (const quarry::v1::Worker& worker : workers)
      ++statuses[worker.status()];
    for (const auto& [status, count] : stats.workers) {
      ASSERT_EQ(count, statuses[status])
          << quarry::v1::WorkerStatus_Name(status);
    }
    ASSERT_LE(stats.busy_slots, stats.slots);
  }

  MemoryStore store_;
  FakeClock clock_;
  ChangeNotifier notifier_;
  FakeWorkerClientFactory clients_;
  NullFinalizer finalizer_;
  Controller controller_;
  JobManager manager_;
  std::mt19937 random_;
  std::shared_ptr<NullLink> link_ = std::make_shared<NullLink>();
  std::vector<std::string> workers_ = {"w0", "w1", "w2"};
  std::map<std::string, int64_t> connection_;
  std::map<std::string, std::string> live_;  // attempt -> worker
  std::vector<std::string> jobs_;
};

TEST_P(ControllerRandomTest, StaysConsistentAndEveryJobEnds) {
  for (const std::string& worker : workers_) Register(worker);
  for (int step = 0; step < 3000; ++step) {
    switch (Pick(12)) {
      case 0: {
        quarry::v1::JobSpec spec;
        spec.set_kind("noop");
        (*spec.mutable_settings())["tasks"] = absl::StrCat(1 + Pick(6));
        spec.set_max_attempts(1 + Pick(4));
        jobs_.push_back(manager_.Submit(spec)->job_id());
        break;
      }
      case 1:
      case 2:
      case 3: {  // Some live attempt ends.
        if (live_.empty()) break;
        auto it = std::next(live_.begin(), Pick(live_.size()));
        static constexpr quarry::v1::ExecutionStatus kEnds[] = {
            quarry::v1::EXECUTION_STATUS_DONE,
            quarry::v1::EXECUTION_STATUS_DONE,
            quarry::v1::EXECUTION_STATUS_FAILED,
            quarry::v1::EXECUTION_STATUS_CANCELLED};
        Report(it->second, it->first, kEnds[Pick(4)]);
        live_.erase(it);
        break;
      }
      case 4: {  // A worker's connection breaks (it died).
        const std::string& worker = workers_[Pick(3)];
        controller_.OnWorkerDisconnected(worker, connection_[worker]);
        break;
      }
      case 5:  // A worker restarts with the same id.
        Register(workers_[Pick(3)]);
        break;
      case 6:
        if (!jobs_.empty())
          controller_.RequestCancel(jobs_[Pick(jobs_.size())]).IgnoreError();
        break;
      case 7:
        clock_.Advance(absl::Milliseconds(Pick(700)));
        break;
      default:
        AnswerStarts(/*healthy=*/false);
        break;
    }
    controller_.RunOnce(clock_.Now());
    ASSERT_NO_FATAL_FAILURE(CheckInvariants()) << "step " << step;
  }
  // Heal: every worker back, everything accepted and done.
  for (const std::string& worker : workers_) Register(worker);
  for (int round = 0; round < 500; ++round) {
    controller_.RunOnce(clock_.Now());
    AnswerStarts(/*healthy=*/true);
    for (const auto& [attempt, worker] : live_) {
      Report(worker, attempt, quarry::v1::EXECUTION_STATUS_DONE);
    }
    live_.clear();
    controller_.RunOnce(clock_.Now());
    ASSERT_NO_FATAL_FAILURE(CheckInvariants());
  }
  for (const std::string& id : jobs_) {
    const quarry::v1::Job job = *store_.GetJob(id);
    EXPECT_TRUE(IsFinished(job.state()))
        << id << " is " << quarry::v1::JobState_Name(job.state());
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, ControllerRandomTest, ::testing::Range(1, 6));

}  // namespace
}  // namespace quarry

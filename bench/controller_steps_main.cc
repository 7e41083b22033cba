// quarry-controller-steps: a fixed, single-threaded controller scenario for
// counting instructions (valgrind --tool=callgrind), so that a change to
// the controller's structure can be compared with the code before it:
//
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/steps.out \
//     build-release/bench/quarry-controller-steps
//   callgrind_annotate /tmp/steps.out | head -20
//
// A memory store, a fake clock moved 1 ms per step, and in-process fake
// workers (8 x 4 slots, queue 4) that accept every StartTasks at once and
// report each attempt ended right after the step that started it; every
// 50th attempt fails (its task is retried). One noop job of --tasks tasks
// runs to DONE through Controller::RunOnce alone (no loop thread, no RPC).
// Prints the steps taken and the job's final counts; exits 1 if the job
// did not end DONE.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "common/memory_store.h"
#include "common/time_util.h"
#include "leader/api/job_manager.h"
#include "leader/control/controller.h"
#include "tests/testing/fake_clock.h"

ABSL_FLAG(int, tasks, 10000, "tasks of the noop job");
ABSL_FLAG(int, workers, 8, "fake workers");
ABSL_FLAG(int, slots, 4, "slots per worker");

namespace quarry {
namespace {

class NoFinalizer : public OutputFinalizer {
 public:
  absl::Status Finalize(const quarry::v1::Job&) override {
    return absl::OkStatus();
  }
};

// One fake worker: accepts every assignment at once and remembers it until
// the driver reports it ended. Probes see what it runs.
class FakeWorker : public WorkerClient {
 public:
  void StartTasks(quarry::v1::StartTasksRequest request, absl::Duration,
                  Callback<quarry::v1::StartTasksResponse> done) override {
    quarry::v1::StartTasksResponse response;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& assignment : request.assignments()) {
        response.add_accepted_attempt_ids(assignment.attempt_id());
        running_.push_back(assignment.attempt_id());
      }
    }
    done(std::move(response));
  }
  void GetWorkerState(
      quarry::v1::GetWorkerStateRequest request, absl::Duration,
      Callback<quarry::v1::GetWorkerStateResponse> done) override {
    quarry::v1::GetWorkerStateResponse response;
    response.set_worker_id(request.worker_id());
    {
      absl::MutexLock lock(&mu_);
      for (const std::string& id : running_) {
        quarry::v1::AttemptStatus& status = (*response.mutable_attempts())[id];
        status.set_attempt_id(id);
        status.set_status(quarry::v1::EXECUTION_STATUS_RUNNING);
      }
    }
    done(std::move(response));
  }
  void CancelTasks(quarry::v1::CancelTasksRequest, absl::Duration,
                   Callback<quarry::v1::CancelTasksResponse> done) override {
    done(quarry::v1::CancelTasksResponse());
  }
  void GetAttemptLog(
      quarry::v1::GetWorkerAttemptLogRequest, absl::Duration,
      Callback<quarry::v1::GetWorkerAttemptLogResponse> done) override {
    done(absl::UnimplementedError("no logs here"));
  }

  std::vector<std::string> TakeRunning() {
    absl::MutexLock lock(&mu_);
    return std::exchange(running_, {});
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> running_ ABSL_GUARDED_BY(mu_);
};

// Hands the controller shared handles to the fake workers it registers.
class FakeWorkers : public WorkerClientFactory {
 public:
  std::unique_ptr<WorkerClient> Connect(absl::string_view worker_id,
                                        absl::string_view) override {
    return std::make_unique<Handle>(worker(std::string(worker_id)));
  }
  std::shared_ptr<FakeWorker> worker(const std::string& id) {
    std::shared_ptr<FakeWorker>& fake = workers_[id];
    if (fake == nullptr) fake = std::make_shared<FakeWorker>();
    return fake;
  }

 private:
  class Handle : public WorkerClient {
   public:
    explicit Handle(std::shared_ptr<FakeWorker> fake)
        : fake_(std::move(fake)) {}
    void StartTasks(quarry::v1::StartTasksRequest r, absl::Duration t,
                    Callback<quarry::v1::StartTasksResponse> d) override {
      fake_->StartTasks(std::move(r), t, std::move(d));
    }
    void GetWorkerState(
        quarry::v1::GetWorkerStateRequest r, absl::Duration t,
        Callback<quarry::v1::GetWorkerStateResponse> d) override {
      fake_->GetWorkerState(std::move(r), t, std::move(d));
    }
    void CancelTasks(quarry::v1::CancelTasksRequest r, absl::Duration t,
                     Callback<quarry::v1::CancelTasksResponse> d) override {
      fake_->CancelTasks(std::move(r), t, std::move(d));
    }
    void GetAttemptLog(
        quarry::v1::GetWorkerAttemptLogRequest r, absl::Duration t,
        Callback<quarry::v1::GetWorkerAttemptLogResponse> d) override {
      fake_->GetAttemptLog(std::move(r), t, std::move(d));
    }

   private:
    std::shared_ptr<FakeWorker> fake_;
  };
  std::map<std::string, std::shared_ptr<FakeWorker>> workers_;
};

int Run() {
  MemoryStore store;
  FakeWorkers workers;
  NoFinalizer finalizer;
  testing::FakeClock clock;
  ChangeNotifier notifier;
  Controller controller(&store, &workers, &finalizer, &clock, &notifier,
                        ControllerOptions());
  JobManager manager(&store, &controller, &notifier, &clock);

  std::vector<std::string> ids;
  for (int i = 0; i < absl::GetFlag(FLAGS_workers); ++i) {
    quarry::v1::RegisterWorkerRequest request;
    request.set_worker_id(absl::StrCat("w", i));
    request.set_address("127.0.0.1:1");
    request.set_slots(absl::GetFlag(FLAGS_slots));
    request.set_queue(absl::GetFlag(FLAGS_slots));
    if (!controller.OnRegisterWorker(request).ok()) return 1;
    ids.push_back(request.worker_id());
  }
  quarry::v1::JobSpec spec;
  spec.set_kind("noop");
  (*spec.mutable_settings())["tasks"] =
      absl::StrCat(absl::GetFlag(FLAGS_tasks));
  absl::StatusOr<quarry::v1::SubmitJobResponse> submitted =
      manager.Submit(spec);
  if (!submitted.ok()) {
    std::fprintf(stderr, "submit: %s\n", submitted.status().ToString().c_str());
    return 1;
  }

  int64_t steps = 0, ended = 0;
  quarry::v1::Job job;
  constexpr int64_t kMaxSteps = 1'000'000;  // Bounds a broken controller.
  while (steps < kMaxSteps) {
    controller.RunOnce(clock.Now());
    ++steps;
    absl::StatusOr<quarry::v1::Job> stored = store.GetJob(submitted->job_id());
    if (!stored.ok()) return 1;
    job = *stored;
    if (job.state() == quarry::v1::JOB_STATE_DONE ||
        job.state() == quarry::v1::JOB_STATE_FAILED) {
      break;
    }
    const absl::Time start = clock.Now();
    clock.Advance(absl::Milliseconds(1));
    for (const std::string& id : ids) {
      quarry::v1::ReportWorkerStateRequest report;
      report.set_worker_id(id);
      for (std::string& attempt_id : workers.worker(id)->TakeRunning()) {
        quarry::v1::AttemptStatus* status = report.add_attempts();
        status->set_attempt_id(std::move(attempt_id));
        const bool fail = ++ended % 50 == 0;
        status->set_status(fail ? quarry::v1::EXECUTION_STATUS_FAILED
                                : quarry::v1::EXECUTION_STATUS_DONE);
        if (fail) status->set_error("injected failure");
        *status->mutable_start_time() = ToProtoTime(start);
        *status->mutable_end_time() = ToProtoTime(clock.Now());
      }
      if (!controller.OnWorkerReport(report).ok()) return 1;
    }
  }
  controller.RunOnce(clock.Now());  // Tidies the finished job.
  std::printf("steps=%lld attempts_ended=%lld state=%s done=%d started=%lld\n",
              static_cast<long long>(steps), static_cast<long long>(ended),
              quarry::v1::JobState_Name(job.state()).c_str(),
              job.task_counts().done(),
              static_cast<long long>(job.attempts_started()));
  return job.state() == quarry::v1::JOB_STATE_DONE ? 0 : 1;
}

}  // namespace
}  // namespace quarry

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return quarry::Run();
}

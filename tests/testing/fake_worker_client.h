#ifndef QUARRY_TESTS_TESTING_FAKE_WORKER_CLIENT_H_
#define QUARRY_TESTS_TESTING_FAKE_WORKER_CLIENT_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "leader/workers/worker_client.h"

namespace quarry::testing {

// One fake worker as the leader reaches it: every call is recorded with its
// callback, and the test answers it later, with any status, or never (a
// partition). Thread-safe; callbacks run on the thread that answers.
class FakeWorker {
 public:
  template <typename Request, typename Response>
  struct Call {
    Request request;
    WorkerClient::Callback<Response> done;
  };
  using StartCall =
      Call<quarry::v1::StartTasksRequest, quarry::v1::StartTasksResponse>;
  using ProbeCall = Call<quarry::v1::GetWorkerStateRequest,
                         quarry::v1::GetWorkerStateResponse>;
  using CancelCall =
      Call<quarry::v1::CancelTasksRequest, quarry::v1::CancelTasksResponse>;
  using LogCall = Call<quarry::v1::GetWorkerAttemptLogRequest,
                       quarry::v1::GetWorkerAttemptLogResponse>;

  void RecordStart(StartCall call) {
    absl::MutexLock lock(&mu_);
    starts_.push_back(std::move(call));
  }
  void RecordProbe(ProbeCall call) {
    absl::MutexLock lock(&mu_);
    probes_.push_back(std::move(call));
  }
  void RecordCancel(CancelCall call) {
    absl::MutexLock lock(&mu_);
    cancels_.push_back(std::move(call));
  }
  // A GetAttemptLog call is answered at once by `log_answer` if set (the
  // leader's handler waits for it), else recorded like the others.
  void RecordLog(LogCall call) {
    std::function<void(LogCall&)> answer;
    {
      absl::MutexLock lock(&mu_);
      answer = log_answer_;
      if (!answer) {
        logs_.push_back(std::move(call));
        return;
      }
    }
    answer(call);
  }
  void set_log_answer(std::function<void(LogCall&)> answer) {
    absl::MutexLock lock(&mu_);
    log_answer_ = std::move(answer);
  }

  // The calls not yet taken, oldest first.
  std::vector<StartCall> TakeStarts() { return Take(starts_); }
  std::vector<ProbeCall> TakeProbes() { return Take(probes_); }
  std::vector<CancelCall> TakeCancels() { return Take(cancels_); }
  std::vector<LogCall> TakeLogCalls() { return Take(logs_); }

  // Answers a StartTasks call by accepting every assignment.
  static void AcceptAll(StartCall& call) {
    quarry::v1::StartTasksResponse response;
    for (const auto& assignment : call.request.assignments()) {
      response.add_accepted_attempt_ids(assignment.attempt_id());
    }
    call.done(std::move(response));
  }

  // Answers every pending probe with `state` (worker_id filled in).
  void AnswerProbes(quarry::v1::GetWorkerStateResponse state) {
    for (ProbeCall& call : TakeProbes()) {
      state.set_worker_id(call.request.worker_id());
      call.done(state);
    }
  }

 private:
  template <typename T>
  std::vector<T> Take(std::vector<T>& calls) {
    absl::MutexLock lock(&mu_);
    return std::exchange(calls, {});
  }

  absl::Mutex mu_;
  std::vector<StartCall> starts_ ABSL_GUARDED_BY(mu_);
  std::vector<ProbeCall> probes_ ABSL_GUARDED_BY(mu_);
  std::vector<CancelCall> cancels_ ABSL_GUARDED_BY(mu_);
  std::vector<LogCall> logs_ ABSL_GUARDED_BY(mu_);
  std::function<void(LogCall&)> log_answer_ ABSL_GUARDED_BY(mu_);
};

// Hands out clients that record into a FakeWorker per worker id.
class FakeWorkerClientFactory : public WorkerClientFactory {
 public:
  std::unique_ptr<WorkerClient> Connect(absl::string_view worker_id,
                                        absl::string_view address) override {
    return std::make_unique<Client>(worker(worker_id));
  }

  // The fake behind `worker_id` (created on first use).
  std::shared_ptr<FakeWorker> worker(absl::string_view worker_id) {
    absl::MutexLock lock(&mu_);
    std::shared_ptr<FakeWorker>& fake = workers_[std::string(worker_id)];
    if (fake == nullptr) fake = std::make_shared<FakeWorker>();
    return fake;
  }

 private:
  class Client : public WorkerClient {
   public:
    explicit Client(std::shared_ptr<FakeWorker> fake) : fake_(std::move(fake)) {}
    void StartTasks(quarry::v1::StartTasksRequest request, absl::Duration,
                    Callback<quarry::v1::StartTasksResponse> done) override {
      fake_->RecordStart({std::move(request), std::move(done)});
    }
    void GetWorkerState(
        quarry::v1::GetWorkerStateRequest request, absl::Duration,
        Callback<quarry::v1::GetWorkerStateResponse> done) override {
      fake_->RecordProbe({std::move(request), std::move(done)});
    }
    void CancelTasks(quarry::v1::CancelTasksRequest request, absl::Duration,
                     Callback<quarry::v1::CancelTasksResponse> done) override {
      fake_->RecordCancel({std::move(request), std::move(done)});
    }
    void GetAttemptLog(
        quarry::v1::GetWorkerAttemptLogRequest request, absl::Duration,
        Callback<quarry::v1::GetWorkerAttemptLogResponse> done) override {
      fake_->RecordLog({std::move(request), std::move(done)});
    }

   private:
    std::shared_ptr<FakeWorker> fake_;
  };

  absl::Mutex mu_;
  std::map<std::string, std::shared_ptr<FakeWorker>> workers_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_FAKE_WORKER_CLIENT_H_

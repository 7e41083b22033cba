#ifndef QUARRY_TESTS_WORKER_FAKE_LEADER_CLIENT_H_
#define QUARRY_TESTS_WORKER_FAKE_LEADER_CLIENT_H_

#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "quarry/v1/cluster_service.pb.h"
#include "worker/leader_client.h"

namespace quarry::worker::testing {

// A LeaderClient that records every call and answers as the test says:
// queued error statuses (else OK), and optionally holding report calls
// until released (a slow leader). Thread-safe: the reporter thread calls
// it, the test inspects and steers it.
class FakeLeaderClient : public LeaderClient {
 public:
  // One call as the fake saw it, in order.
  struct Call {
    bool is_register = false;
    quarry::v1::RegisterWorkerRequest registration;
    quarry::v1::ReportWorkerStateRequest report;
    absl::Status answer;
  };

  absl::StatusOr<quarry::v1::RegisterWorkerResponse> RegisterWorker(
      const quarry::v1::RegisterWorkerRequest& request,
      absl::Duration timeout) override {
    absl::MutexLock lock(&mu_);
    Call& call = calls_.emplace_back();
    call.is_register = true;
    call.registration = request;
    call.answer = NextAnswer(register_answers_);
    if (!call.answer.ok()) return call.answer;
    quarry::v1::RegisterWorkerResponse response;
    response.set_heartbeat_interval_ms(heartbeat_ms_);
    return response;
  }

  absl::Status ReportWorkerState(
      const quarry::v1::ReportWorkerStateRequest& request,
      absl::Duration timeout) override {
    absl::MutexLock lock(&mu_);
    ++reports_started_;
    mu_.Await(absl::Condition(
        +[](bool* held) { return !*held; }, &hold_reports_));
    Call& call = calls_.emplace_back();
    call.report = request;
    call.answer = NextAnswer(report_answers_);
    return call.answer;
  }

  void SetHeartbeatMs(int ms) {
    absl::MutexLock lock(&mu_);
    heartbeat_ms_ = ms;
  }
  // The next registrations / reports get these answers, in order.
  void QueueRegisterAnswer(absl::Status status) {
    absl::MutexLock lock(&mu_);
    register_answers_.push_back(std::move(status));
  }
  void QueueReportAnswer(absl::Status status) {
    absl::MutexLock lock(&mu_);
    report_answers_.push_back(std::move(status));
  }
  // While held, ReportWorkerState blocks (after counting itself started).
  void HoldReports(bool hold) {
    absl::MutexLock lock(&mu_);
    hold_reports_ = hold;
  }

  std::vector<Call> calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

  // Waits until `done(calls)` holds; false after `timeout`.
  template <typename Predicate>
  bool WaitUntil(Predicate done, absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    auto check = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return done(calls_, reports_started_);
    };
    return mu_.AwaitWithTimeout(absl::Condition(&check), timeout);
  }

  // Ids of the attempts in acknowledged (OK) reports, in order.
  static std::vector<std::string> AcknowledgedIds(
      const std::vector<Call>& calls) {
    std::vector<std::string> ids;
    for (const Call& call : calls) {
      if (call.is_register || !call.answer.ok()) continue;
      for (const auto& attempt : call.report.attempts()) {
        ids.push_back(attempt.attempt_id());
      }
    }
    return ids;
  }

 private:
  static absl::Status NextAnswer(std::deque<absl::Status>& answers) {
    if (answers.empty()) return absl::OkStatus();
    absl::Status answer = answers.front();
    answers.pop_front();
    return answer;
  }

  absl::Mutex mu_;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::Status> register_answers_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::Status> report_answers_ ABSL_GUARDED_BY(mu_);
  int heartbeat_ms_ ABSL_GUARDED_BY(mu_) = 3'600'000;
  bool hold_reports_ ABSL_GUARDED_BY(mu_) = false;
  int reports_started_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quarry::worker::testing

#endif  // QUARRY_TESTS_WORKER_FAKE_LEADER_CLIENT_H_

#ifndef QUARRY_TESTS_WORKER_FAKE_LEADER_CLIENT_H_
#define QUARRY_TESTS_WORKER_FAKE_LEADER_CLIENT_H_

#include <deque>
#include <memory>
#include <string>
#include <utility>
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
// until released (a slow leader). Commit requests are granted unless the
// test says otherwise. Each ConnectWorker opens a scripted command stream
// that starts with KIND_CONNECTED and stays open until the test ends it or
// the worker cancels it. Thread-safe: the worker's threads call it, the
// test inspects and steers it.
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

  absl::StatusOr<quarry::v1::RequestCommitResponse> RequestCommit(
      const quarry::v1::RequestCommitRequest& request, absl::Duration timeout,
      const CancelFlag* cancel) override {
    absl::MutexLock lock(&mu_);
    commit_requests_.push_back(request);
    // Held (a slow leader) until released or cancelled; the cancel flag
    // is not under mu_, so look at it every few milliseconds.
    auto released = [this] { return !hold_commits_; };
    while (!mu_.AwaitWithTimeout(absl::Condition(&released),
                                 absl::Milliseconds(2))) {
      if (cancel != nullptr && cancel->cancelled()) {
        return absl::CancelledError("attempt cancelled");
      }
    }
    if (commit_answers_.empty()) return default_commit_answer_;
    absl::StatusOr<quarry::v1::RequestCommitResponse> answer =
        std::move(commit_answers_.front());
    commit_answers_.pop_front();
    return answer;
  }

  absl::Status DeregisterWorker(
      const quarry::v1::DeregisterWorkerRequest& request,
      absl::Duration timeout) override {
    absl::MutexLock lock(&mu_);
    deregistrations_.push_back(request);
    calls_before_deregistration_ = calls_.size();
    return absl::OkStatus();
  }

  std::unique_ptr<CommandStream> ConnectWorker(
      const quarry::v1::ConnectWorkerRequest& request,
      absl::Duration timeout) override {
    absl::MutexLock lock(&mu_);
    connect_requests_.push_back(request);
    auto state = std::make_shared<StreamState>();
    if (!connect_answers_.empty()) {
      state->ended = true;
      state->end = connect_answers_.front();
      connect_answers_.pop_front();
    } else {
      state->commands.push_back(quarry::v1::WorkerCommand::KIND_CONNECTED);
    }
    stream_ = state;
    all_streams_.push_back(state);
    return std::make_unique<FakeCommandStream>(this, std::move(state));
  }

  static quarry::v1::RequestCommitResponse Granted() {
    quarry::v1::RequestCommitResponse response;
    response.set_granted(true);
    return response;
  }
  static quarry::v1::RequestCommitResponse Refused(const std::string& reason) {
    quarry::v1::RequestCommitResponse response;
    response.set_reason(reason);
    return response;
  }
  // The answer to every commit request without a queued answer.
  void SetCommitAnswer(absl::StatusOr<quarry::v1::RequestCommitResponse> a) {
    absl::MutexLock lock(&mu_);
    default_commit_answer_ = std::move(a);
  }
  void QueueCommitAnswer(absl::StatusOr<quarry::v1::RequestCommitResponse> a) {
    absl::MutexLock lock(&mu_);
    commit_answers_.push_back(std::move(a));
  }
  // While held, RequestCommit blocks (after recording the request).
  void HoldCommits(bool hold) {
    absl::MutexLock lock(&mu_);
    hold_commits_ = hold;
  }
  // The next ConnectWorker calls end at once with these statuses.
  void QueueConnectAnswer(absl::Status status) {
    absl::MutexLock lock(&mu_);
    connect_answers_.push_back(std::move(status));
  }
  // Sends a command down the stream opened last; false if it has ended.
  bool SendCommand(quarry::v1::WorkerCommand::Kind kind) {
    absl::MutexLock lock(&mu_);
    if (stream_ == nullptr || stream_->ended || stream_->cancelled) {
      return false;
    }
    stream_->commands.push_back(kind);
    return true;
  }
  // Ends the stream opened last with `status` (as a leader restart does).
  void EndStream(absl::Status status) {
    absl::MutexLock lock(&mu_);
    if (stream_ == nullptr || stream_->ended) return;
    stream_->ended = true;
    stream_->end = std::move(status);
  }

  std::vector<quarry::v1::RequestCommitRequest> commit_requests() {
    absl::MutexLock lock(&mu_);
    return commit_requests_;
  }
  std::vector<quarry::v1::DeregisterWorkerRequest> deregistrations() {
    absl::MutexLock lock(&mu_);
    return deregistrations_;
  }
  // calls() as they were when the (last) DeregisterWorker came.
  std::vector<Call> calls_before_deregistration() {
    absl::MutexLock lock(&mu_);
    return std::vector<Call>(calls_.begin(),
                             calls_.begin() + calls_before_deregistration_);
  }
  std::vector<quarry::v1::ConnectWorkerRequest> connect_requests() {
    absl::MutexLock lock(&mu_);
    return connect_requests_;
  }
  // For each stream the worker cancelled while it was open: how many
  // streams were still open right after.
  std::vector<int> open_after_cancels() {
    absl::MutexLock lock(&mu_);
    return open_after_cancels_;
  }
  // True while the stream opened last is open and not cancelled.
  bool stream_open() {
    absl::MutexLock lock(&mu_);
    return stream_ != nullptr && !stream_->ended && !stream_->cancelled;
  }

  // Waits until at least `n` ConnectWorker calls were made.
  bool WaitForConnects(size_t n, absl::Duration timeout = absl::Seconds(10)) {
    return AwaitLocked([&] { return connect_requests_.size() >= n; }, timeout);
  }
  bool WaitForCommitRequests(size_t n,
                             absl::Duration timeout = absl::Seconds(10)) {
    return AwaitLocked([&] { return commit_requests_.size() >= n; }, timeout);
  }
  bool WaitForDeregistration(absl::Duration timeout = absl::Seconds(10)) {
    return AwaitLocked([&] { return !deregistrations_.empty(); }, timeout);
  }
  // Waits until the stream opened last was cancelled by the worker.
  bool WaitForStreamCancelled(absl::Duration timeout = absl::Seconds(10)) {
    return AwaitLocked([&] { return stream_ != nullptr && stream_->cancelled; },
                       timeout);
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
  // One command stream's script. Guarded by the fake's mu_.
  struct StreamState {
    std::deque<quarry::v1::WorkerCommand::Kind> commands;
    bool ended = false;      // By the test (EndStream) or a queued answer.
    bool cancelled = false;  // By the worker (Cancel).
    absl::Status end;
  };

  class FakeCommandStream : public CommandStream {
   public:
    FakeCommandStream(FakeLeaderClient* fake,
                      std::shared_ptr<StreamState> state)
        : fake_(fake), state_(std::move(state)) {}
    bool Read(quarry::v1::WorkerCommand* command) override {
      absl::MutexLock lock(&fake_->mu_);
      StreamState* state = state_.get();
      auto ready = [state] {
        return !state->commands.empty() || state->ended || state->cancelled;
      };
      fake_->mu_.Await(absl::Condition(&ready));
      if (state->cancelled || state->commands.empty()) return false;
      command->set_kind(state->commands.front());
      state->commands.pop_front();
      return true;
    }
    absl::Status Finish() override {
      absl::MutexLock lock(&fake_->mu_);
      if (state_->cancelled) return absl::CancelledError("stream cancelled");
      return state_->end;
    }
    void Cancel() override {
      absl::MutexLock lock(&fake_->mu_);
      if (state_->cancelled || state_->ended) return;
      state_->cancelled = true;
      int open = 0;
      for (const auto& stream : fake_->all_streams_) {
        open += !stream->ended && !stream->cancelled;
      }
      fake_->open_after_cancels_.push_back(open);
    }

   private:
    FakeLeaderClient* const fake_;
    const std::shared_ptr<StreamState> state_;
  };

  template <typename Predicate>
  bool AwaitLocked(Predicate done, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&done), timeout);
  }

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
  std::vector<quarry::v1::RequestCommitRequest> commit_requests_
      ABSL_GUARDED_BY(mu_);
  std::deque<absl::StatusOr<quarry::v1::RequestCommitResponse>> commit_answers_
      ABSL_GUARDED_BY(mu_);
  absl::StatusOr<quarry::v1::RequestCommitResponse> default_commit_answer_
      ABSL_GUARDED_BY(mu_) = Granted();
  std::vector<quarry::v1::DeregisterWorkerRequest> deregistrations_
      ABSL_GUARDED_BY(mu_);
  std::vector<quarry::v1::ConnectWorkerRequest> connect_requests_
      ABSL_GUARDED_BY(mu_);
  bool hold_commits_ ABSL_GUARDED_BY(mu_) = false;
  size_t calls_before_deregistration_ ABSL_GUARDED_BY(mu_) = 0;
  std::deque<absl::Status> connect_answers_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<StreamState> stream_ ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<StreamState>> all_streams_ ABSL_GUARDED_BY(mu_);
  std::vector<int> open_after_cancels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::worker::testing

#endif  // QUARRY_TESTS_WORKER_FAKE_LEADER_CLIENT_H_

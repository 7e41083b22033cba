#include "worker/slot_executor.h"

#include <glog/logging.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "worker/attempt_runner.h"

namespace quarry::worker {

using quarry::v1::AttemptStatus;
using quarry::v1::EXECUTION_STATUS_ASSIGNED;
using quarry::v1::EXECUTION_STATUS_FAILED;
using quarry::v1::EXECUTION_STATUS_PENDING;
using quarry::v1::EXECUTION_STATUS_RUNNING;

// AttemptRecord fields: `status`, `committing`, `log` and `end_time` are
// guarded by mu_, and so is `start_time` (set again when a queued attempt
// starts). `assignment` is written by Start() before a slot thread takes
// the record (under mu_), then read only by that slot thread. `cancel` is
// thread-safe.

SlotExecutor::SlotExecutor(const Options& options, const KindRegistry* kinds,
                           const Clock* clock, FinishedCallback on_finished,
                           CommitRequester ask_commit)
    : options_(options),
      files_(options.data_roots),
      slot_count_(options.slots),
      kinds_(kinds),
      clock_(clock),
      on_finished_(std::move(on_finished)),
      ask_commit_(std::move(ask_commit)) {
  CHECK_GE(slot_count_, 1) << "a worker needs at least one slot";
  CHECK_GE(options_.queue, 0);
  CHECK(kinds_ != nullptr);
  CHECK(clock_ != nullptr);
  {
    absl::MutexLock lock(&mu_);
    places_.resize(static_cast<size_t>(slot_count_ + options_.queue));
  }
  threads_.reserve(static_cast<size_t>(slot_count_));
  for (int i = 0; i < slot_count_; ++i) {
    threads_.emplace_back([this] { RunSlot(); });
  }
}

SlotExecutor::~SlotExecutor() { Shutdown(); }

absl::Status SlotExecutor::Start(const quarry::v1::Assignment& assignment) {
  const quarry::v1::Assignment* one[] = {&assignment};
  return StartAll(one).front();
}

std::vector<absl::Status> SlotExecutor::StartAll(
    absl::Span<const quarry::v1::Assignment* const> assignments) {
  // Copy the assignments and look up their kinds before taking the lock: a
  // reduce step can carry thousands of inputs.
  std::vector<std::unique_ptr<AttemptRecord>> records;
  std::vector<absl::StatusOr<const JobKind*>> kinds;
  records.reserve(assignments.size());
  kinds.reserve(assignments.size());
  for (const quarry::v1::Assignment* assignment : assignments) {
    kinds.push_back(kinds_->Find(assignment->kind(), assignment->is_reduce()));
    auto record = std::make_unique<AttemptRecord>();
    record->assignment = *assignment;
    record->log =
        options_.attempt_logs != nullptr && !assignment->attempt_id().empty()
            ? options_.attempt_logs->NewLog(assignment->attempt_id())
            : std::make_shared<AttemptLog>();
    records.push_back(std::move(record));
  }
  std::vector<absl::Status> results;
  results.reserve(assignments.size());
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  PruneFinished(now);
  for (size_t i = 0; i < records.size(); ++i) {
    results.push_back(StartLocked(std::move(records[i]), kinds[i], now));
  }
  return results;
}

absl::Status SlotExecutor::StartLocked(
    std::unique_ptr<AttemptRecord> record,
    const absl::StatusOr<const JobKind*>& kind, absl::Time now) {
  const quarry::v1::Assignment& assignment = record->assignment;
  const std::string& id = assignment.attempt_id();
  if (id.empty()) {
    return absl::InvalidArgumentError("attempt_id is required");
  }
  if (shutting_down_) {
    return absl::FailedPreconditionError("worker is shutting down");
  }
  if (draining_) {
    return absl::FailedPreconditionError("worker is draining");
  }
  if (attempts_.contains(id)) {
    return absl::AlreadyExistsError(
        absl::StrCat("attempt ", id, " is already known to this worker"));
  }
  const int index = assignment.slot();
  const int places = static_cast<int>(places_.size());
  if (index < 0 || index >= places) {
    return absl::OutOfRangeError(absl::StrCat(
        "slot ", index, " is out of range: this worker has ", slot_count_,
        " slots",
        options_.queue > 0
            ? absl::StrCat(" and ", options_.queue, " queue places")
            : "",
        " (0..", places - 1, ")"));
  }
  Place& place = places_[static_cast<size_t>(index)];
  if (place.attempt != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("slot ", index, " is busy with attempt ",
                     place.attempt->status.attempt_id()));
  }
  if (!kind.ok()) return kind.status();

  AttemptStatus& status = record->status;
  status.set_attempt_id(id);
  status.set_job_id(assignment.job_id());
  status.set_task_index(assignment.task_index());
  status.set_slot(index);
  // RUNNING when a slot thread is free to take it now; else it waits in
  // the queue, ASSIGNED, until a slot thread takes it (and sets its start
  // time again).
  const bool slot_free = held_ < slot_count_;
  status.set_status(slot_free ? EXECUTION_STATUS_RUNNING
                              : EXECUTION_STATUS_ASSIGNED);
  *status.mutable_start_time() = ToProtoTime(now);
  record->start_time = now;
  place.attempt = record.get();
  ++held_;
  ready_.push_back(index);
  ++attempts_started_;
  VLOG(1) << "slot " << index << " takes attempt " << id;
  attempts_.emplace(id, std::move(record));
  return absl::OkStatus();
}

bool SlotExecutor::RunsAttemptYoungerThan(absl::Duration window) {
  absl::MutexLock lock(&mu_);
  const absl::Time since = clock_->Now() - window;
  if (!ready_.empty()) return true;
  for (const Place& place : places_) {
    if (place.attempt != nullptr && place.attempt->start_time > since) {
      return true;
    }
  }
  return false;
}

std::vector<std::string> SlotExecutor::Cancel(
    absl::Span<const std::string> attempt_ids) {
  std::vector<std::string> cancelled;
  absl::MutexLock lock(&mu_);
  for (const std::string& id : attempt_ids) {
    auto it = attempts_.find(id);
    if (it == attempts_.end()) continue;
    AttemptRecord& record = *it->second;
    const bool live = record.status.status() == EXECUTION_STATUS_RUNNING ||
                      record.status.status() == EXECUTION_STATUS_ASSIGNED;
    if (!live || record.committing) {
      continue;
    }
    // Logged first: the attempt may end as soon as the flag is set.
    if (record.log != nullptr) {
      record.log->Append("cancel requested by the leader");
    }
    record.cancel.Cancel();
    cancelled.push_back(id);
  }
  return cancelled;
}

SlotExecutor::State SlotExecutor::Snapshot(bool include_finished) {
  State state;
  absl::MutexLock lock(&mu_);
  PruneFinished(clock_->Now());
  state.slots.reserve(places_.size());
  for (size_t i = 0; i < places_.size(); ++i) {
    quarry::v1::SlotState& slot = state.slots.emplace_back();
    slot.set_index(static_cast<int32_t>(i));
    const AttemptRecord* record = places_[i].attempt;
    if (record == nullptr) {
      slot.set_status(EXECUTION_STATUS_PENDING);
      continue;
    }
    slot.set_status(record->status.status());
    slot.set_attempt_id(record->status.attempt_id());
    slot.set_job_id(record->status.job_id());
    slot.set_task_index(record->status.task_index());
  }
  if (!include_finished) {
    for (const Place& place : places_) {
      if (place.attempt != nullptr) {
        state.attempts.push_back(place.attempt->status);
      }
    }
    return state;
  }
  state.attempts.reserve(attempts_.size());
  for (const auto& [id, record] : attempts_) {
    state.attempts.push_back(record->status);
  }
  return state;
}

std::shared_ptr<AttemptLog> SlotExecutor::RunningLog(
    absl::string_view attempt_id) {
  absl::MutexLock lock(&mu_);
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) return nullptr;
  return it->second->log;
}

std::optional<AttemptStatus> SlotExecutor::GetAttempt(
    absl::string_view attempt_id) {
  absl::MutexLock lock(&mu_);
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) return std::nullopt;
  return it->second->status;
}

SlotExecutor::Stats SlotExecutor::stats() {
  Stats stats;
  absl::MutexLock lock(&mu_);
  stats.busy_slots = std::min(held_, slot_count_);
  stats.queued = held_ - stats.busy_slots;
  stats.attempts_started = attempts_started_;
  return stats;
}

void SlotExecutor::StartDraining() {
  absl::MutexLock lock(&mu_);
  draining_ = true;
}

bool SlotExecutor::WaitUntilIdle(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  auto idle = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (const Place& place : places_) {
      if (place.attempt != nullptr) return false;
    }
    return true;
  };
  return mu_.AwaitWithTimeout(absl::Condition(&idle), timeout);
}

std::vector<std::string> SlotExecutor::CancelRunning() {
  std::vector<std::string> cancelled;
  absl::MutexLock lock(&mu_);
  for (const Place& place : places_) {
    AttemptRecord* record = place.attempt;
    if (record == nullptr || record->committing) continue;
    if (record->log != nullptr) {
      record->log->Append("cancelled: the worker drains and its grace is over");
    }
    record->cancel.Cancel();
    cancelled.push_back(record->status.attempt_id());
  }
  return cancelled;
}

void SlotExecutor::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (!shutting_down_) {
      shutting_down_ = true;
      // Queued attempts are cancelled too: the slot threads end each one
      // (CANCELLED, reported) before they exit.
      for (Place& place : places_) {
        if (place.attempt == nullptr) continue;
        LOG(INFO) << "worker shutting down: cancelling attempt "
                  << place.attempt->status.attempt_id();
        if (place.attempt->log != nullptr) {
          place.attempt->log->Append("cancelled: the worker is shutting down");
        }
        place.attempt->cancel.Cancel();
      }
    }
  }
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void SlotExecutor::RunSlot() {
  while (true) {
    int index = -1;
    AttemptRecord* record = nullptr;
    std::shared_ptr<AttemptLog> log;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !ready_.empty() || shutting_down_;
      };
      mu_.Await(absl::Condition(&ready));
      if (ready_.empty()) return;  // Shutting down and nothing waits.
      index = ready_.front();
      ready_.pop_front();
      record = places_[static_cast<size_t>(index)].attempt;
      log = record->log;
      if (record->status.status() == EXECUTION_STATUS_ASSIGNED) {
        // It waited in the queue: its run starts now.
        const absl::Time now = clock_->Now();
        record->start_time = now;
        record->status.set_status(EXECUTION_STATUS_RUNNING);
        *record->status.mutable_start_time() = ToProtoTime(now);
      }
    }
    const AttemptStatus final_status = RunOne(index, record, *log);
    VLOG(1) << "slot " << index << " finished attempt "
            << final_status.attempt_id() << ": "
            << quarry::v1::ExecutionStatus_Name(final_status.status());
    if (on_finished_) on_finished_(final_status);
  }
}

AttemptStatus SlotExecutor::RunOne(int index, AttemptRecord* record,
                                   AttemptLog& log) {
  const quarry::v1::Assignment& assignment = record->assignment;
  AttemptOutcome outcome;
  absl::StatusOr<const JobKind*> kind =
      kinds_->Find(assignment.kind(), assignment.is_reduce());
  if (!kind.ok()) {
    outcome.error = std::string(kind.status().message());
  } else {
    auto ask_leader = [this, record]() -> CommitPermission {
      if (ask_commit_ == nullptr) {
        quarry::v1::RequestCommitResponse granted;
        granted.set_granted(true);
        return granted;
      }
      return ask_commit_(record->assignment.attempt_id(), record->cancel);
    };
    auto begin_commit = [this, record] {
      absl::MutexLock lock(&mu_);
      if (record->cancel.cancelled()) return false;
      record->committing = true;
      return true;
    };
    outcome = RunAttempt(**kind, assignment, files_, record->cancel, ask_leader,
                         begin_commit, &log);
  }
  log.Finish(DescribeOutcome(outcome));
  log.Persist();  // Before the slot is free: the log is never missing.

  if (outcome.status == EXECUTION_STATUS_FAILED) {
    LOG(WARNING) << "attempt " << assignment.attempt_id()
                 << " failed: " << outcome.error;
  }
  absl::MutexLock lock(&mu_);
  const absl::Time now = clock_->Now();
  AttemptStatus& status = record->status;
  status.set_status(outcome.status);
  status.set_error(outcome.error);
  status.set_summary(outcome.summary);
  status.set_output_bytes(outcome.output_bytes);
  *status.mutable_end_time() = ToProtoTime(now);
  record->end_time = now;
  record->assignment.Clear();
  record->log = nullptr;
  places_[static_cast<size_t>(index)].attempt = nullptr;
  --held_;
  AttemptStatus final_status = status;
  finished_.push_back(status.attempt_id());
  PruneFinished(now);
  return final_status;
}

void SlotExecutor::PruneFinished(absl::Time now) {
  while (!finished_.empty()) {
    auto it = attempts_.find(finished_.front());
    if (it != attempts_.end()) {
      const bool too_many = finished_.size() > options_.max_finished;
      const bool too_old =
          it->second->end_time + options_.finished_retention < now;
      if (!too_many && !too_old) return;
      attempts_.erase(it);
    }
    finished_.pop_front();
  }
}

}  // namespace quarry::worker

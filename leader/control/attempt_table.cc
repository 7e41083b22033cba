#include "leader/control/attempt_table.h"

#include <glog/logging.h>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/time_util.h"
#include "leader/control/job_runtime.h"
#include "leader/control/worker_pool.h"

namespace quarry {

AttemptRef* AttemptTable::Find(const std::string& attempt_id) {
  auto it = attempts_.find(attempt_id);
  return it == attempts_.end() ? nullptr : &it->second;
}

const AttemptRef* AttemptTable::Find(const std::string& attempt_id) const {
  auto it = attempts_.find(attempt_id);
  return it == attempts_.end() ? nullptr : &it->second;
}

void AttemptTable::Add(const std::string& attempt_id, AttemptRef ref) {
  attempts_[attempt_id] = std::move(ref);
}

std::optional<AttemptRef> AttemptTable::Take(const std::string& attempt_id) {
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) return std::nullopt;
  AttemptRef ref = std::move(it->second);
  attempts_.erase(it);
  return ref;
}

quarry::v1::AttemptRecord AttemptTable::HistoryRecord(
    const std::string& attempt_id, const AttemptRef& ref,
    quarry::v1::ExecutionStatus status, const std::string& error,
    const quarry::v1::AttemptStatus* report, absl::Time now) {
  quarry::v1::AttemptRecord record;
  record.set_attempt_id(attempt_id);
  record.set_job_id(ref.job_id);
  record.set_task_index(ref.task_index);
  record.set_worker_id(ref.worker_id);
  record.set_status(status);
  record.set_error(error);
  if (report != nullptr && report->has_start_time()) {
    *record.mutable_start_time() = report->start_time();
  } else if (ref.accepted) {
    *record.mutable_start_time() = ToProtoTime(ref.accepted_at);
  }
  *record.mutable_end_time() = report != nullptr && report->has_end_time()
                                   ? report->end_time()
                                   : ToProtoTime(now);
  if (report != nullptr) record.set_output_bytes(report->output_bytes());
  return record;
}

bool AttemptTable::Accept(AttemptRef& ref, absl::Time now) {
  if (ref.accepted) return false;
  ref.accepted = true;
  ref.accepted_at = now;
  return true;
}

std::vector<std::pair<std::string, absl::Duration>> AttemptTable::Expired(
    absl::Time now,
    absl::FunctionRef<absl::Duration(const std::string&)> limit_of) const {
  std::vector<std::pair<std::string, absl::Duration>> expired;
  for (const auto& [attempt_id, ref] : attempts_) {
    if (!ref.accepted) continue;
    const absl::Duration limit = limit_of(ref.job_id);
    if (limit > absl::ZeroDuration() && now - ref.accepted_at > limit) {
      expired.emplace_back(attempt_id, limit);
    }
  }
  return expired;
}

std::map<std::string, quarry::v1::CancelTasksRequest>
AttemptTable::CancelsForJob(const std::string& job_id) const {
  std::map<std::string, quarry::v1::CancelTasksRequest> cancels;
  for (const auto& [attempt_id, ref] : attempts_) {
    if (ref.job_id != job_id) continue;
    quarry::v1::CancelTasksRequest& request = cancels[ref.worker_id];
    request.set_worker_id(ref.worker_id);
    request.add_attempt_ids(attempt_id);
  }
  return cancels;
}

std::string AttemptTable::CommitRefusal(const std::string& worker_id,
                                        const std::string& attempt_id) const {
  const AttemptRef* ref = Find(attempt_id);
  if (ref == nullptr) {
    return absl::StrCat("attempt ", attempt_id,
                        " no longer runs (superseded, lost or ended)");
  }
  if (ref->worker_id != worker_id) {
    return absl::StrCat("attempt ", attempt_id, " runs on worker ",
                        ref->worker_id, ", not ", worker_id);
  }
  return "";
}

void AttemptTable::AddUnadopted(const std::string& attempt_id, AttemptRef ref) {
  unadopted_[ref.worker_id].push_back(attempt_id);
  ref.slot = -1;
  attempts_[attempt_id] = std::move(ref);
}

AttemptTable::Adoption AttemptTable::Adopt(
    WorkerRuntime& worker,
    const google::protobuf::RepeatedPtrField<quarry::v1::AttemptStatus>&
        reported,
    std::vector<std::string> expected) {
  const std::string& worker_id = worker.record.id();
  if (auto it = unadopted_.find(worker_id); it != unadopted_.end()) {
    expected.insert(expected.end(), it->second.begin(), it->second.end());
    unadopted_.erase(it);
  }
  Adoption adoption;
  const int32_t places = static_cast<int32_t>(worker.slot_attempts.size());
  absl::flat_hash_set<std::string> kept;
  for (const quarry::v1::AttemptStatus& status : reported) {
    AttemptRef* ref = Find(status.attempt_id());
    const bool ours = ref != nullptr && ref->worker_id == worker_id;
    if (IsTerminal(status.status())) {
      if (!ours) continue;  // Ended long ago, or not the leader's business.
      ref->slot = -1;       // It holds no place; its report ends it.
    } else {
      const int32_t place = status.slot();
      if (place < 0 || place >= places ||
          !worker.slot_attempts[place].empty()) {
        continue;
      }
      --worker.free_slots;
      if (!ours) {  // Work the leader does not run: the place stays busy.
        worker.slot_attempts[place] = absl::StrCat("!", status.attempt_id());
        continue;
      }
      worker.slot_attempts[place] = status.attempt_id();
      if (ref->slot < 0) ref->accepted = false;
      ref->slot = place;
    }
    kept.insert(status.attempt_id());
    adoption.reports.push_back(status);
  }
  for (std::string& attempt_id : expected) {
    if (kept.contains(attempt_id)) continue;
    // It loses its place now (if it had one), so that ending it later
    // frees nothing that has been given to another attempt.
    if (AttemptRef* ref = Find(attempt_id); ref != nullptr) ref->slot = -1;
    adoption.orphaned.push_back(std::move(attempt_id));
  }
  if (!kept.empty() || !adoption.orphaned.empty()) {
    LOG(INFO) << "worker " << worker_id << ": adopted " << kept.size()
              << " attempts, " << adoption.orphaned.size() << " lost";
  }
  return adoption;
}

absl::flat_hash_map<std::string, std::vector<std::string>>
AttemptTable::TakeUnadoptedPastDeadline(absl::Time now) {
  if (unadopted_.empty() || now < adopt_deadline_) return {};
  return std::exchange(unadopted_, {});
}

}  // namespace quarry

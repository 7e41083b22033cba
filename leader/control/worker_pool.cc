#include "leader/control/worker_pool.h"

#include <glog/logging.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "common/job_kinds.h"
#include "common/time_util.h"
#include "leader/control/attempt_table.h"

namespace quarry {

using quarry::v1::WorkerStatus;

std::unique_ptr<WorkerRuntime> WorkerRuntime::FromRegistration(
    const quarry::v1::RegisterWorkerRequest& request,
    std::shared_ptr<WorkerClient> client, absl::Time now) {
  auto worker = std::make_unique<WorkerRuntime>();
  quarry::v1::Worker& record = worker->record;
  record.set_id(request.worker_id());
  record.set_address(request.address());
  record.set_slots(request.slots());
  record.set_queue(request.queue());
  *record.mutable_labels() = request.labels();
  if (request.kinds().empty()) {  // It does not say: the built-in kinds.
    for (const KindSpec& kind : AllKinds()) {
      if (kind.name != kExecKind) record.add_kinds(kind.name);
    }
  } else {
    *record.mutable_kinds() = request.kinds();
  }
  *record.mutable_plugin_kinds() = request.plugin_kinds();
  worker->kinds = std::make_shared<const KindSet>(record.kinds().begin(),
                                                  record.kinds().end());
  record.set_status(quarry::v1::WORKER_STATUS_ALIVE);
  *record.mutable_register_time() = ToProtoTime(now);
  // Slots first, then the places of its queue: the leader fills both alike.
  worker->slot_attempts.assign(request.slots() + request.queue(), "");
  worker->free_slots = request.slots() + request.queue();
  worker->client = std::move(client);
  worker->last_seen = now;
  return worker;
}

std::vector<std::string> WorkerRuntime::LiveAttempts() const {
  std::vector<std::string> live;
  for (const std::string& attempt_id : slot_attempts) {
    if (!attempt_id.empty() && attempt_id[0] != '!') live.push_back(attempt_id);
  }
  return live;
}

int32_t WorkerRuntime::Occupy(const std::string& attempt_id) {
  int32_t place = 0;
  while (!slot_attempts[place].empty()) ++place;
  slot_attempts[place] = attempt_id;
  --free_slots;
  slots_changed = true;
  return place;
}

void WorkerRuntime::Free(int32_t place, const std::string& attempt_id) {
  if (place >= 0 && place < static_cast<int32_t>(slot_attempts.size()) &&
      slot_attempts[place] == attempt_id) {
    slot_attempts[place].clear();
    ++free_slots;
    slots_changed = true;
  }
}

WorkerRuntime* WorkerPool::Find(const std::string& worker_id) {
  auto it = workers_.find(worker_id);
  return it == workers_.end() ? nullptr : it->second.get();
}

int32_t WorkerPool::Intern(const std::string& worker_id) {
  auto [it, inserted] =
      name_index_.try_emplace(worker_id, static_cast<int32_t>(names_.size()));
  if (inserted) names_.push_back(worker_id);
  return it->second;
}

WorkerPool::Registration WorkerPool::Register(
    std::unique_ptr<WorkerRuntime> worker, int reported_attempts) {
  const quarry::v1::Worker record = worker->record;
  worker->name = Intern(record.id());
  // Share one set among workers that run the same kinds.
  auto known =
      std::find_if(kind_sets_.begin(), kind_sets_.end(),
                   [&worker](const std::shared_ptr<const KindSet>& set) {
                     return *set == *worker->kinds;
                   });
  if (known != kind_sets_.end()) {
    worker->kinds = *known;
  } else {
    kind_sets_.push_back(worker->kinds);
  }
  alive_kinds_stale_ = true;
  if (kinds_ != nullptr)
    kinds_->SetWorkerKinds(record.id(), record.plugin_kinds());
  Registration registration;
  auto it = workers_.find(record.id());
  if (it != workers_.end()) {
    registration.expected = it->second->LiveAttempts();
    LOG(INFO) << "worker " << record.id() << " registered again at "
              << record.address() << ", reporting " << reported_attempts
              << " attempts";
    registration.old_link = std::move(it->second->link);
    it->second = std::move(worker);
  } else {
    LOG(INFO) << "worker " << record.id() << " registered at "
              << record.address() << " with " << record.slots() << " slots";
    it = workers_.emplace(record.id(), std::move(worker)).first;
  }
  registration.worker = it->second.get();
  dirty_.insert(record.id());
  return registration;
}

absl::Status WorkerPool::NoteReport(const std::string& worker_id, bool draining,
                                    absl::Time now) {
  WorkerRuntime* worker = Find(worker_id);
  if (worker == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "worker ", worker_id, " is not registered; register again"));
  }
  worker->last_seen = now;
  if (draining && !worker->draining) {
    LOG(INFO) << "worker " << worker_id << " is draining";
    worker->draining = true;
  }
  return absl::OkStatus();
}

absl::StatusOr<WorkerPool::Connection> WorkerPool::Connect(
    const std::string& worker_id, std::shared_ptr<WorkerLink> link,
    absl::Time now) {
  WorkerRuntime* worker = Find(worker_id);
  if (worker == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "worker ", worker_id, " is not registered; register first"));
  }
  Connection connection;
  connection.id = ++last_connection_id_;
  // The newest stream wins; the one it replaces is closed, so a worker
  // whose stream was taken over opens a fresh one (it is still alive).
  connection.replaced = std::exchange(worker->link, std::move(link));
  worker->connection_id = connection.id;
  worker->disconnected = false;
  worker->last_seen = now;
  connection.drain = worker->draining;
  dirty_.insert(worker_id);
  return connection;
}

bool WorkerPool::Disconnect(const std::string& worker_id,
                            int64_t connection_id) {
  WorkerRuntime* worker = Find(worker_id);
  if (worker == nullptr || worker->connection_id != connection_id) {
    return false;  // Forgotten, or a newer connection replaced this one.
  }
  worker->disconnected = true;
  worker->link = nullptr;
  return true;
}

absl::StatusOr<WorkerRuntime*> WorkerPool::Drain(const std::string& worker_id) {
  WorkerRuntime* worker = Find(worker_id);
  if (worker == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("worker ", worker_id, " is not registered"));
  }
  if (worker->link == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "worker ", worker_id, " is not connected; it cannot be told to drain"));
  }
  LOG(INFO) << "draining worker " << worker_id << " on request";
  worker->draining = true;
  if (worker->record.status() == quarry::v1::WORKER_STATUS_ALIVE) {
    worker->record.set_status(quarry::v1::WORKER_STATUS_DRAINING);
    alive_kinds_stale_ = true;
  }
  dirty_.insert(worker_id);
  return worker;
}

std::shared_ptr<WorkerLink> WorkerPool::Forget(const std::string& worker_id) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) return nullptr;
  std::shared_ptr<WorkerLink> link = std::move(it->second->link);
  forgotten_.push_back(worker_id);
  dirty_.erase(worker_id);
  workers_.erase(it);
  alive_kinds_stale_ = true;
  if (kinds_ != nullptr) kinds_->RemoveWorker(worker_id);
  return link;
}

void WorkerPool::MarkDisconnectedDead(WorkerRuntime& worker) {
  worker.record.set_status(quarry::v1::WORKER_STATUS_DEAD);
  alive_kinds_stale_ = true;
}

const KindSet& WorkerPool::AliveKinds() {
  if (!alive_kinds_stale_) return alive_kinds_;
  alive_kinds_.clear();
  // Each distinct set once: a thousand workers share a few sets.
  std::vector<const KindSet*> seen;
  for (const auto& [id, worker] : workers_) {
    if (worker->record.status() != quarry::v1::WORKER_STATUS_ALIVE) continue;
    if (std::find(seen.begin(), seen.end(), worker->kinds.get()) !=
        seen.end()) {
      continue;
    }
    seen.push_back(worker->kinds.get());
    alive_kinds_.insert(worker->kinds->begin(), worker->kinds->end());
  }
  alive_kinds_stale_ = false;
  return alive_kinds_;
}

std::vector<std::string> WorkerPool::ClearPlaces(WorkerRuntime& worker) {
  std::vector<std::string> live = worker.LiveAttempts();
  if (!live.empty()) worker.slots_changed = true;
  for (std::string& place : worker.slot_attempts) place.clear();
  worker.free_slots = static_cast<int32_t>(worker.slot_attempts.size());
  dirty_.insert(worker.record.id());
  return live;
}

void WorkerPool::MarkUnreachable(WorkerRuntime& worker,
                                 const std::string& why) {
  if (!worker.unreachable) {
    LOG(WARNING) << "worker " << worker.record.id()
                 << " gets no new work until it answers: " << why;
  }
  worker.unreachable = true;
  worker.problem = why;
}

void WorkerPool::ReleaseStalePlace(const std::string& worker_id,
                                   const std::string& attempt_id) {
  WorkerRuntime* worker = Find(worker_id);
  if (worker == nullptr) return;
  for (std::string& place : worker->slot_attempts) {
    if (!place.empty() && place[0] == '!' &&
        absl::string_view(place).substr(1) == attempt_id) {
      place.clear();
      ++worker->free_slots;
      worker->slots_changed = true;
    }
  }
}

void WorkerPool::HoldPlaceUntilReported(const std::string& worker_id,
                                        int32_t place,
                                        const std::string& attempt_id) {
  WorkerRuntime* worker = Find(worker_id);
  if (worker == nullptr || place < 0 ||
      place >= static_cast<int32_t>(worker->slot_attempts.size())) {
    return;  // Gone, or registered again with fewer places.
  }
  std::string& held = worker->slot_attempts[place];
  if (!held.empty()) return;
  held = absl::StrCat("!", attempt_id);
  --worker->free_slots;
}

void WorkerPool::ReconcileStalePlaces(
    WorkerRuntime& worker,
    const google::protobuf::RepeatedPtrField<quarry::v1::SlotState>&
        slot_states,
    absl::FunctionRef<bool(const std::string&)> live) {
  for (const quarry::v1::SlotState& slot : slot_states) {
    if (slot.index() < 0 ||
        slot.index() >= static_cast<int32_t>(worker.slot_attempts.size())) {
      continue;
    }
    std::string& mine = worker.slot_attempts[slot.index()];
    const bool busy = !slot.attempt_id().empty() &&
                      slot.status() != quarry::v1::EXECUTION_STATUS_PENDING;
    if (busy && mine.empty() && !live(slot.attempt_id())) {
      mine = absl::StrCat("!", slot.attempt_id());
      --worker.free_slots;
      worker.slots_changed = true;
    } else if (!busy && !mine.empty() && mine[0] == '!') {
      mine.clear();
      ++worker.free_slots;
      worker.slots_changed = true;
    }
  }
}

void WorkerPool::UpdateHealth(absl::Time now, std::vector<Probe>* probes,
                              std::vector<Lost>* lost) {
  int lazy_writes = 0;
  for (auto it = workers_.begin(); it != workers_.end();) {
    WorkerRuntime& worker = *it->second;
    const absl::Duration silence = now - worker.last_seen;
    WorkerStatus status = quarry::v1::WORKER_STATUS_ALIVE;
    if (worker.disconnected || silence >= options_.dead_after) {
      status = quarry::v1::WORKER_STATUS_DEAD;
    } else if (silence >= options_.suspect_after || worker.unreachable) {
      status = quarry::v1::WORKER_STATUS_SUSPECT;
    } else if (worker.draining) {
      status = quarry::v1::WORKER_STATUS_DRAINING;
    }
    if (status != worker.record.status()) {
      LOG(INFO) << "worker " << worker.record.id() << " is now "
                << quarry::v1::WorkerStatus_Name(status) << " (silent for "
                << absl::FormatDuration(silence) << ")";
      worker.record.set_status(status);
      dirty_.insert(worker.record.id());
      alive_kinds_stale_ = true;
      if (status == quarry::v1::WORKER_STATUS_DEAD) {
        lost->push_back(
            {absl::StrCat("worker ", worker.record.id(), " died (silent for ",
                          absl::FormatDuration(silence), ")"),
             ClearPlaces(worker)});
      }
    }
    if (worker.record.status() == quarry::v1::WORKER_STATUS_DEAD &&
        silence >= options_.forget_dead_after) {
      LOG(INFO) << "forgetting dead worker " << worker.record.id();
      forgotten_.push_back(worker.record.id());
      dirty_.erase(worker.record.id());
      if (kinds_ != nullptr) kinds_->RemoveWorker(worker.record.id());
      it = workers_.erase(it);
      alive_kinds_stale_ = true;
      continue;
    }
    // What changes all the time (slots, the heartbeat's age) is stored
    // lazily: a cluster of a thousand busy workers would otherwise rewrite
    // every record on every step.
    if (lazy_writes < options_.max_lazy_worker_writes_per_step &&
        ((worker.slots_changed &&
          now - worker.written_at >= options_.slot_write_interval) ||
         (worker.last_seen != worker.heartbeat_written &&
          now - worker.heartbeat_written >= options_.heartbeat_interval))) {
      dirty_.insert(worker.record.id());
      ++lazy_writes;
    }
    // A worker silent for probe_interval is probed; one that reports all
    // the time (busy) only every reconcile_interval, to reconcile the
    // attempts it runs. Dead workers are still probed, less often, to
    // notice one that was only cut off and comes back.
    const absl::Duration probe_interval =
        status == quarry::v1::WORKER_STATUS_DEAD ? options_.dead_after
                                                 : options_.probe_interval;
    const absl::Duration since_probe = now - worker.last_probe_sent;
    if (!worker.probe_in_flight && since_probe >= probe_interval &&
        static_cast<int>(probes->size()) < options_.max_probes_per_step &&
        (now - worker.last_seen >= probe_interval ||
         since_probe >= options_.reconcile_interval)) {
      worker.probe_in_flight = true;
      worker.last_probe_sent = now;
      probes->push_back(
          Probe{worker.client, worker.record.id(), now, worker.LiveAttempts()});
    }
    ++it;
  }
}

std::vector<WorkerRuntime*> WorkerPool::Schedulable(bool* capped) {
  std::vector<WorkerRuntime*> schedulable;
  for (auto& [id, worker] : workers_) {
    if (worker->record.status() == quarry::v1::WORKER_STATUS_ALIVE &&
        !worker->unreachable && worker->free_slots > 0) {
      schedulable.push_back(worker.get());
    }
  }
  // Fewer, fuller batches cost less than a task or two for every one of a
  // thousand workers.
  *capped =
      static_cast<int>(schedulable.size()) > options_.max_workers_per_step;
  if (*capped) {
    std::stable_sort(schedulable.begin(), schedulable.end(),
                     [](const WorkerRuntime* a, const WorkerRuntime* b) {
                       return a->free_slots > b->free_slots;
                     });
    schedulable.resize(options_.max_workers_per_step);
  }
  return schedulable;
}

quarry::v1::Worker WorkerPool::Record(const WorkerRuntime& worker,
                                      const AttemptTable& attempts) const {
  quarry::v1::Worker record = worker.record;
  *record.mutable_last_heartbeat_time() = ToProtoTime(worker.last_seen);
  for (int32_t slot = 0;
       slot < static_cast<int32_t>(worker.slot_attempts.size()); ++slot) {
    quarry::v1::SlotState* state = record.add_slot_states();
    state->set_index(slot);
    state->set_status(quarry::v1::EXECUTION_STATUS_PENDING);
    const std::string& attempt_id = worker.slot_attempts[slot];
    if (attempt_id.empty()) continue;
    if (attempt_id[0] == '!') {  // Stale work from before a restart.
      state->set_attempt_id(attempt_id.substr(1));
      state->set_status(quarry::v1::EXECUTION_STATUS_RUNNING);
      continue;
    }
    const AttemptRef* ref = attempts.Find(attempt_id);
    if (ref == nullptr) continue;
    state->set_attempt_id(attempt_id);
    state->set_job_id(ref->job_id);
    state->set_task_index(ref->task_index);
    state->set_status(ref->accepted ? quarry::v1::EXECUTION_STATUS_RUNNING
                                    : quarry::v1::EXECUTION_STATUS_ASSIGNED);
  }
  return record;
}

void WorkerPool::CollectWrites(absl::Time now, const AttemptTable& attempts,
                               StoreWrites* writes) {
  for (const std::string& id : dirty_) {
    WorkerRuntime* worker = Find(id);
    if (worker == nullptr) continue;
    worker->heartbeat_written = worker->last_seen;
    worker->written_at = now;
    worker->slots_changed = false;
    writes->workers.push_back(Record(*worker, attempts));
  }
  dirty_.clear();
  writes->deleted_workers = std::move(forgotten_);
  forgotten_.clear();
}

void WorkerPool::AddStats(absl::Time now, ControllerStats* stats) const {
  for (const auto& [id, worker] : workers_) {
    const quarry::v1::WorkerStatus status = worker->record.status();
    ++stats->workers[status];
    stats->heartbeat_age[id] = now - worker->last_seen;
    if (status == quarry::v1::WORKER_STATUS_DEAD) continue;
    const int64_t slots = worker->record.slots();
    const int64_t held = worker->held();
    stats->slots += slots;
    stats->busy_slots += std::min(held, slots);
    stats->queued += std::max<int64_t>(0, held - slots);
  }
}

}  // namespace quarry

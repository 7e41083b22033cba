// Unit tests of WorkerRuntime's places and WorkerPool's own invariants:
// registration, interned names, health (SUSPECT, DEAD, forgotten), probes,
// which workers can take work, connections, draining and stale places.
#include "leader/control/worker_pool.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leader/control/attempt_table.h"

namespace quarry {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const absl::Time kT0 = absl::FromUnixSeconds(1000);

class FakeLink : public WorkerLink {
 public:
  void SendDrain() override { ++drains; }
  void Close() override { ++closes; }
  int drains = 0;
  int closes = 0;
};

ControllerOptions Options() {
  ControllerOptions options;
  options.suspect_after = absl::Seconds(1);
  options.dead_after = absl::Seconds(2);
  options.forget_dead_after = absl::Seconds(10);
  options.probe_interval = absl::Milliseconds(100);
  options.reconcile_interval = absl::Seconds(1);
  return options;
}

std::unique_ptr<WorkerRuntime> NewWorker(const std::string& id, int slots,
                                         int queue = 0, absl::Time now = kT0) {
  quarry::v1::RegisterWorkerRequest request;
  request.set_worker_id(id);
  request.set_address("127.0.0.1:1");
  request.set_slots(slots);
  request.set_queue(queue);
  return WorkerRuntime::FromRegistration(request, nullptr, now);
}

WorkerRuntime* Add(WorkerPool& pool, const std::string& id, int slots,
                   int queue = 0) {
  return pool.Register(NewWorker(id, slots, queue), 0).worker;
}

TEST(WorkerPoolTest, RegistersNewWorker) {
  WorkerPool pool(Options());
  WorkerPool::Registration registration = pool.Register(NewWorker("a", 2), 0);
  ASSERT_NE(registration.worker, nullptr);
  EXPECT_EQ(pool.Find("a"), registration.worker);
  EXPECT_EQ(pool.size(), 1u);
  EXPECT_THAT(registration.expected, IsEmpty());
  EXPECT_EQ(registration.old_link, nullptr);
  EXPECT_EQ(registration.worker->name, pool.Intern("a"));
  EXPECT_EQ(registration.worker->record.status(),
            quarry::v1::WORKER_STATUS_ALIVE);
  EXPECT_EQ(registration.worker->free_slots, 2);
}

TEST(WorkerPoolTest, RegisteringAgainReturnsWhatTheFirstHeld) {
  WorkerPool pool(Options());
  WorkerRuntime* first = Add(pool, "a", 3);
  first->Occupy("job-000001.0.1");
  first->Occupy("job-000001.1.1");
  pool.HoldPlaceUntilReported("a", 2, "job-000001.2.1");  // Stale.
  auto link = std::make_shared<FakeLink>();
  ASSERT_TRUE(pool.Connect("a", link, kT0).ok());

  WorkerPool::Registration again = pool.Register(NewWorker("a", 1), 2);
  EXPECT_THAT(again.expected, ElementsAre("job-000001.0.1", "job-000001.1.1"));
  EXPECT_EQ(again.old_link, link);
  EXPECT_EQ(link->closes, 0);  // Closed by the caller, outside the lock.
  EXPECT_EQ(pool.size(), 1u);
  WorkerRuntime* second = pool.Find("a");
  EXPECT_EQ(second, again.worker);
  EXPECT_EQ(second->free_slots, 1);
  EXPECT_EQ(second->name, pool.Intern("a"));
  EXPECT_EQ(pool.names().size(), 1u);
}

TEST(WorkerPoolTest, InternIsStable) {
  WorkerPool pool(Options());
  EXPECT_EQ(pool.Intern("x"), 0);
  EXPECT_EQ(pool.Intern("y"), 1);
  EXPECT_EQ(pool.Intern("x"), 0);
  Add(pool, "y", 1);
  EXPECT_EQ(pool.Find("y")->name, 1);
  EXPECT_THAT(pool.names(), ElementsAre("x", "y"));
}

TEST(WorkerPoolTest, RuntimeOccupyAndFreeKeepFreeSlotsEqualToFreePlaces) {
  auto worker = NewWorker("a", 2, /*queue=*/1);
  ASSERT_EQ(worker->slot_attempts.size(), 3u);
  EXPECT_EQ(worker->Occupy("x"), 0);
  EXPECT_EQ(worker->Occupy("y"), 1);
  EXPECT_EQ(worker->free_slots, 1);
  EXPECT_EQ(worker->idle_slots(), 0);
  EXPECT_EQ(worker->held(), 2);

  worker->Free(0, "y");  // Place 0 holds x: ignored.
  worker->Free(7, "x");  // No such place.
  EXPECT_EQ(worker->slot_attempts[0], "x");
  EXPECT_EQ(worker->free_slots, 1);

  worker->Free(0, "x");
  EXPECT_EQ(worker->free_slots, 2);
  EXPECT_EQ(worker->idle_slots(), 1);
  EXPECT_EQ(worker->Occupy("z"), 0);  // The first free place.
  EXPECT_EQ(worker->Occupy("q"), 2);  // A queue place.
  EXPECT_EQ(worker->free_slots, 0);
  EXPECT_THAT(worker->slot_attempts, ElementsAre("z", "y", "q"));
}

TEST(WorkerPoolTest, ClearPlacesReturnsLiveAttemptsOnly) {
  WorkerPool pool(Options());
  WorkerRuntime* worker = Add(pool, "a", 4);
  worker->Occupy("x");
  pool.HoldPlaceUntilReported("a", 1, "stale");
  worker->Occupy("y");
  EXPECT_EQ(worker->slot_attempts[1], "!stale");
  EXPECT_EQ(worker->free_slots, 1);
  EXPECT_THAT(pool.ClearPlaces(*worker), ElementsAre("x", "y"));
  EXPECT_EQ(worker->free_slots, 4);
  EXPECT_THAT(worker->slot_attempts, ElementsAre("", "", "", ""));
}

TEST(WorkerPoolTest, SilenceMakesSuspectThenDeadThenForgotten) {
  WorkerPool pool(Options());
  WorkerRuntime* worker = Add(pool, "a", 2);
  worker->Occupy("x");
  std::vector<Probe> probes;
  std::vector<WorkerPool::Lost> lost;

  pool.UpdateHealth(kT0 + absl::Milliseconds(999), &probes, &lost);
  EXPECT_EQ(worker->record.status(), quarry::v1::WORKER_STATUS_ALIVE);
  pool.UpdateHealth(kT0 + absl::Seconds(1), &probes, &lost);
  EXPECT_EQ(worker->record.status(), quarry::v1::WORKER_STATUS_SUSPECT);
  EXPECT_THAT(lost, IsEmpty());
  EXPECT_EQ(worker->free_slots, 1);

  pool.UpdateHealth(kT0 + absl::Seconds(2), &probes, &lost);
  EXPECT_EQ(worker->record.status(), quarry::v1::WORKER_STATUS_DEAD);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_THAT(lost[0].attempt_ids, ElementsAre("x"));
  EXPECT_THAT(lost[0].why, HasSubstr("worker a died"));
  EXPECT_EQ(worker->free_slots, 2);
  EXPECT_THAT(worker->slot_attempts, ElementsAre("", ""));

  AttemptTable attempts;
  StoreWrites writes;
  pool.CollectWrites(kT0 + absl::Seconds(2), attempts, &writes);
  ASSERT_EQ(writes.workers.size(), 1u);
  EXPECT_EQ(writes.workers[0].status(), quarry::v1::WORKER_STATUS_DEAD);

  lost.clear();
  pool.UpdateHealth(kT0 + absl::Seconds(9), &probes, &lost);
  EXPECT_NE(pool.Find("a"), nullptr);
  pool.UpdateHealth(kT0 + absl::Seconds(10), &probes, &lost);
  EXPECT_EQ(pool.Find("a"), nullptr);
  EXPECT_EQ(pool.size(), 0u);
  EXPECT_THAT(lost, IsEmpty());  // Lost once, when it died.
  StoreWrites forgotten;
  pool.CollectWrites(kT0 + absl::Seconds(10), attempts, &forgotten);
  EXPECT_THAT(forgotten.deleted_workers, ElementsAre("a"));
  EXPECT_THAT(forgotten.workers, IsEmpty());
}

TEST(WorkerPoolTest, ReportKeepsWorkerAliveAndNotesDraining) {
  WorkerPool pool(Options());
  WorkerRuntime* worker = Add(pool, "a", 1);
  const absl::Status unknown = pool.NoteReport("b", false, kT0);
  EXPECT_EQ(unknown.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(unknown.message(), "worker b is not registered; register again");

  ASSERT_TRUE(pool.NoteReport("a", true, kT0 + absl::Seconds(5)).ok());
  EXPECT_TRUE(worker->draining);
  std::vector<Probe> probes;
  std::vector<WorkerPool::Lost> lost;
  // Heard from 500 ms ago: neither SUSPECT nor DEAD, but DRAINING.
  pool.UpdateHealth(kT0 + absl::Milliseconds(5500), &probes, &lost);
  EXPECT_EQ(worker->record.status(), quarry::v1::WORKER_STATUS_DRAINING);
}

TEST(WorkerPoolTest, ProbesAreCappedPerStep) {
  ControllerOptions options = Options();
  options.max_probes_per_step = 2;
  WorkerPool pool(options);
  Add(pool, "a", 1)->Occupy("x");
  Add(pool, "b", 1);
  Add(pool, "c", 1);
  const absl::Time now = kT0 + absl::Milliseconds(200);  // All silent.
  std::vector<Probe> probes;
  std::vector<WorkerPool::Lost> lost;
  pool.UpdateHealth(now, &probes, &lost);
  ASSERT_EQ(probes.size(), 2u);
  EXPECT_EQ(probes[0].worker_id, "a");
  EXPECT_THAT(probes[0].attempt_ids, ElementsAre("x"));
  EXPECT_EQ(probes[0].sent_at, now);
  EXPECT_EQ(probes[1].worker_id, "b");

  // The next pass probes the one left out, not those with a probe out.
  std::vector<Probe> next;
  pool.UpdateHealth(now, &next, &lost);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].worker_id, "c");
}

TEST(WorkerPoolTest, SchedulableLeavesOutSuspectUnreachableAndFull) {
  WorkerPool pool(Options());
  WorkerRuntime* alive = Add(pool, "a", 2);
  Add(pool, "b", 2)->record.set_status(quarry::v1::WORKER_STATUS_SUSPECT);
  pool.MarkUnreachable(*Add(pool, "c", 2), "rpc failed");
  WorkerRuntime* full = Add(pool, "d", 1);
  full->Occupy("x");
  EXPECT_EQ(
      pool.Connect("e", std::make_shared<FakeLink>(), kT0).status().code(),
      absl::StatusCode::kNotFound);
  Add(pool, "e", 2);
  ASSERT_TRUE(pool.Connect("e", std::make_shared<FakeLink>(), kT0).ok());
  ASSERT_TRUE(pool.Drain("e").ok());
  bool capped = true;
  EXPECT_THAT(pool.Schedulable(&capped), ElementsAre(alive));
  EXPECT_FALSE(capped);
}

TEST(WorkerPoolTest, SchedulableOverCapKeepsMostFreePlaces) {
  ControllerOptions options = Options();
  options.max_workers_per_step = 2;
  WorkerPool pool(options);
  WorkerRuntime* a = Add(pool, "a", 1);
  WorkerRuntime* b = Add(pool, "b", 3);
  WorkerRuntime* c = Add(pool, "c", 1, /*queue=*/1);
  bool capped = false;
  EXPECT_THAT(pool.Schedulable(&capped), ElementsAre(b, c));
  EXPECT_TRUE(capped);
  b->Occupy("x");
  b->Occupy("y");
  c->Occupy("z");
  // a, b, c have one free place each: the first two, in id order.
  EXPECT_THAT(pool.Schedulable(&capped), ElementsAre(a, b));
  EXPECT_TRUE(capped);
}

TEST(WorkerPoolTest, NewestConnectionWinsAndStaleDisconnectIsIgnored) {
  WorkerPool pool(Options());
  WorkerRuntime* worker = Add(pool, "a", 1);
  auto first = std::make_shared<FakeLink>();
  auto second = std::make_shared<FakeLink>();
  auto one = pool.Connect("a", first, kT0);
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->replaced, nullptr);
  EXPECT_FALSE(one->drain);
  auto two = pool.Connect("a", second, kT0);
  ASSERT_TRUE(two.ok());
  EXPECT_NE(two->id, one->id);
  EXPECT_EQ(two->replaced, first);
  EXPECT_EQ(worker->link, second);

  EXPECT_FALSE(pool.Disconnect("a", one->id));
  EXPECT_EQ(worker->link, second);
  EXPECT_FALSE(worker->disconnected);
  EXPECT_FALSE(pool.Disconnect("nobody", two->id));

  EXPECT_TRUE(pool.Disconnect("a", two->id));
  EXPECT_EQ(worker->link, nullptr);
  std::vector<Probe> probes;
  std::vector<WorkerPool::Lost> lost;
  pool.UpdateHealth(kT0, &probes, &lost);
  EXPECT_EQ(worker->record.status(), quarry::v1::WORKER_STATUS_DEAD);
  EXPECT_EQ(lost.size(), 1u);

  // It connects again: alive on the next pass; a draining one is told.
  worker->draining = true;
  auto three = pool.Connect("a", first, kT0);
  ASSERT_TRUE(three.ok());
  EXPECT_TRUE(three->drain);
  EXPECT_FALSE(worker->disconnected);
  EXPECT_EQ(first->drains + first->closes + second->closes, 0);
}

TEST(WorkerPoolTest, DrainNeedsARegisteredConnectedWorker) {
  WorkerPool pool(Options());
  EXPECT_EQ(pool.Drain("a").status().code(), absl::StatusCode::kNotFound);
  WorkerRuntime* worker = Add(pool, "a", 1);
  const auto unconnected = pool.Drain("a");
  EXPECT_EQ(unconnected.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(unconnected.status().message(), HasSubstr("not connected"));
  EXPECT_FALSE(worker->draining);

  ASSERT_TRUE(pool.Connect("a", std::make_shared<FakeLink>(), kT0).ok());
  const auto drained = pool.Drain("a");
  ASSERT_TRUE(drained.ok());
  EXPECT_EQ(*drained, worker);
  EXPECT_TRUE(worker->draining);
  EXPECT_EQ(worker->record.status(), quarry::v1::WORKER_STATUS_DRAINING);
}

TEST(WorkerPoolTest, StalePlacesAreHeldAndReleased) {
  WorkerPool pool(Options());
  WorkerRuntime* worker = Add(pool, "a", 3);
  worker->Occupy("live");
  pool.HoldPlaceUntilReported("a", 0, "old");  // Place taken: no-op.
  pool.HoldPlaceUntilReported("a", 5, "old");  // No such place.
  pool.HoldPlaceUntilReported("gone", 1, "old");
  EXPECT_EQ(worker->free_slots, 2);
  pool.HoldPlaceUntilReported("a", 2, "old");
  EXPECT_THAT(worker->slot_attempts, ElementsAre("live", "", "!old"));
  EXPECT_EQ(worker->free_slots, 1);

  pool.ReleaseStalePlace("a", "live");  // Not stale: kept.
  pool.ReleaseStalePlace("a", "other");
  EXPECT_EQ(worker->free_slots, 1);
  pool.ReleaseStalePlace("a", "old");
  EXPECT_THAT(worker->slot_attempts, ElementsAre("live", "", ""));
  EXPECT_EQ(worker->free_slots, 2);
}

quarry::v1::SlotState Slot(int32_t index, quarry::v1::ExecutionStatus status,
                           const std::string& attempt_id) {
  quarry::v1::SlotState slot;
  slot.set_index(index);
  slot.set_status(status);
  slot.set_attempt_id(attempt_id);
  return slot;
}

TEST(WorkerPoolTest, ReconcileMarksForeignWorkBusyAndFreesEndedStaleWork) {
  WorkerPool pool(Options());
  WorkerRuntime* worker = Add(pool, "a", 4);
  worker->Occupy("mine");
  pool.HoldPlaceUntilReported("a", 2, "old");
  google::protobuf::RepeatedPtrField<quarry::v1::SlotState> slots;
  *slots.Add() = Slot(0, quarry::v1::EXECUTION_STATUS_RUNNING, "mine");
  *slots.Add() = Slot(1, quarry::v1::EXECUTION_STATUS_RUNNING, "foreign");
  *slots.Add() = Slot(2, quarry::v1::EXECUTION_STATUS_PENDING, "");
  *slots.Add() = Slot(3, quarry::v1::EXECUTION_STATUS_RUNNING, "started");
  *slots.Add() = Slot(9, quarry::v1::EXECUTION_STATUS_RUNNING, "beyond");
  pool.ReconcileStalePlaces(*worker, slots, [](const std::string& id) {
    return id == "mine" || id == "started";  // Live attempts of the leader.
  });
  EXPECT_THAT(worker->slot_attempts, ElementsAre("mine", "!foreign", "", ""));
  EXPECT_EQ(worker->free_slots, 2);
}

TEST(WorkerPoolTest, CollectWritesRecordsSlotStates) {
  WorkerPool pool(Options());
  WorkerRuntime* worker = Add(pool, "a", 3);
  AttemptTable attempts;
  const int32_t place = worker->Occupy("job-000001.4.1");
  attempts.Add("job-000001.4.1",
               AttemptRef{"job-000001", 4, 1, "a", place, true, kT0});
  pool.HoldPlaceUntilReported("a", 1, "old");
  StoreWrites writes;
  pool.CollectWrites(kT0, attempts, &writes);
  ASSERT_EQ(writes.workers.size(), 1u);
  const quarry::v1::Worker& record = writes.workers[0];
  ASSERT_EQ(record.slot_states_size(), 3);
  EXPECT_EQ(record.slot_states(0).attempt_id(), "job-000001.4.1");
  EXPECT_EQ(record.slot_states(0).job_id(), "job-000001");
  EXPECT_EQ(record.slot_states(0).task_index(), 4);
  EXPECT_EQ(record.slot_states(0).status(),
            quarry::v1::EXECUTION_STATUS_RUNNING);
  EXPECT_EQ(record.slot_states(1).attempt_id(), "old");
  EXPECT_EQ(record.slot_states(2).status(),
            quarry::v1::EXECUTION_STATUS_PENDING);
  EXPECT_FALSE(worker->slots_changed);
  EXPECT_THAT(writes.deleted_workers, IsEmpty());

  StoreWrites again;
  pool.CollectWrites(kT0, attempts, &again);
  EXPECT_TRUE(again.empty());
}

}  // namespace
}  // namespace quarry

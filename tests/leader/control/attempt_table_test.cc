// Unit tests of AttemptTable's own invariants: live attempts by id, their
// confirmation and time limits, cancels and commit refusals, and the
// adoption of restored attempts by a worker that registers again.
#include "leader/control/attempt_table.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/time_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leader/control/worker_pool.h"

namespace quarry {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::UnorderedElementsAre;

const absl::Time kT0 = absl::FromUnixSeconds(1000);

AttemptRef Ref(const std::string& job_id, int32_t task,
               const std::string& worker, int32_t slot = 0) {
  return AttemptRef{job_id, task, 1, worker, slot, false, absl::Time()};
}

std::vector<std::string> Ids(
    const std::vector<quarry::v1::AttemptStatus>& reports) {
  std::vector<std::string> ids;
  for (const auto& report : reports) ids.push_back(report.attempt_id());
  return ids;
}

TEST(AttemptTableTest, AddFindTake) {
  AttemptTable table;
  table.Add("job-000001.0.1", Ref("job-000001", 0, "w1", 3));
  EXPECT_TRUE(table.contains("job-000001.0.1"));
  EXPECT_EQ(table.size(), 1u);
  const AttemptRef* found = table.Find("job-000001.0.1");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->worker_id, "w1");
  EXPECT_EQ(found->slot, 3);
  EXPECT_EQ(table.Find("job-000001.0.2"), nullptr);

  std::optional<AttemptRef> taken = table.Take("job-000001.0.1");
  ASSERT_TRUE(taken.has_value());
  EXPECT_EQ(taken->job_id, "job-000001");
  EXPECT_EQ(taken->slot, 3);
  EXPECT_FALSE(table.Take("job-000001.0.1").has_value());
  EXPECT_EQ(table.Find("job-000001.0.1"), nullptr);
  EXPECT_EQ(table.size(), 0u);
}

TEST(AttemptTableTest, AcceptOnlyTheFirstTime) {
  AttemptRef ref = Ref("job-000001", 0, "w1");
  EXPECT_TRUE(AttemptTable::Accept(ref, kT0));
  EXPECT_TRUE(ref.accepted);
  EXPECT_EQ(ref.accepted_at, kT0);
  EXPECT_FALSE(AttemptTable::Accept(ref, kT0 + absl::Seconds(5)));
  EXPECT_EQ(ref.accepted_at, kT0);
}

TEST(AttemptTableTest, ExpiredUsesEachJobsLimitAndSkipsUnaccepted) {
  AttemptTable table;
  table.Add("a", Ref("job-000001", 0, "w1"));
  table.Add("b", Ref("job-000001", 1, "w1"));  // Never confirmed.
  table.Add("c", Ref("job-000002", 0, "w1"));
  table.Add("d", Ref("job-000003", 0, "w1"));
  AttemptTable::Accept(*table.Find("a"), kT0);
  AttemptTable::Accept(*table.Find("c"), kT0);
  AttemptTable::Accept(*table.Find("d"), kT0 + absl::Seconds(5));
  auto limit_of = [](const std::string& job_id) {
    if (job_id == "job-000002") return absl::ZeroDuration();  // No limit.
    return absl::Seconds(10);
  };
  EXPECT_THAT(table.Expired(kT0 + absl::Seconds(10), limit_of), IsEmpty());
  EXPECT_THAT(table.Expired(kT0 + absl::Seconds(11), limit_of),
              ElementsAre(Pair("a", absl::Seconds(10))));
  EXPECT_THAT(table.Expired(kT0 + absl::Seconds(16), limit_of),
              UnorderedElementsAre(Pair("a", absl::Seconds(10)),
                                   Pair("d", absl::Seconds(10))));
}

TEST(AttemptTableTest, CancelsForJobGroupsByWorker) {
  AttemptTable table;
  table.Add("job-000001.0.1", Ref("job-000001", 0, "w1"));
  table.Add("job-000001.1.1", Ref("job-000001", 1, "w2"));
  table.Add("job-000001.2.1", Ref("job-000001", 2, "w1"));
  table.Add("job-000002.0.1", Ref("job-000002", 0, "w1"));
  auto cancels = table.CancelsForJob("job-000001");
  ASSERT_EQ(cancels.size(), 2u);
  EXPECT_EQ(cancels["w1"].worker_id(), "w1");
  EXPECT_THAT(cancels["w1"].attempt_ids(),
              UnorderedElementsAre("job-000001.0.1", "job-000001.2.1"));
  EXPECT_EQ(cancels["w2"].worker_id(), "w2");
  EXPECT_THAT(cancels["w2"].attempt_ids(), ElementsAre("job-000001.1.1"));
  EXPECT_THAT(table.CancelsForJob("job-000003"), IsEmpty());
}

TEST(AttemptTableTest, CommitRefusal) {
  AttemptTable table;
  table.Add("job-000001.0.1", Ref("job-000001", 0, "w1"));
  EXPECT_EQ(table.CommitRefusal("w1", "job-000001.0.1"), "");
  EXPECT_EQ(table.CommitRefusal("w2", "job-000001.0.1"),
            "attempt job-000001.0.1 runs on worker w1, not w2");
  EXPECT_EQ(table.CommitRefusal("w1", "job-000001.0.2"),
            "attempt job-000001.0.2 no longer runs (superseded, lost or "
            "ended)");
}

std::unique_ptr<WorkerRuntime> Worker(const std::string& id, int slots) {
  quarry::v1::RegisterWorkerRequest request;
  request.set_worker_id(id);
  request.set_slots(slots);
  return WorkerRuntime::FromRegistration(request, nullptr, kT0);
}

quarry::v1::AttemptStatus Reported(const std::string& attempt_id,
                                   quarry::v1::ExecutionStatus status,
                                   int32_t slot) {
  quarry::v1::AttemptStatus report;
  report.set_attempt_id(attempt_id);
  report.set_status(status);
  report.set_slot(slot);
  return report;
}

TEST(AttemptTableTest, AdoptKeepsReportedPlacesAndOrphansTheRest) {
  AttemptTable table;
  // Restored from the store (confirmed before the leader restarted).
  AttemptRef running = Ref("job-000001", 0, "w1", 4);
  running.accepted = true;
  running.accepted_at = kT0;
  table.AddUnadopted("job-000001.0.1", running);
  table.AddUnadopted("job-000001.1.1", Ref("job-000001", 1, "w1"));
  table.AddUnadopted("job-000001.2.1", Ref("job-000001", 2, "w1"));
  table.AddUnadopted("job-000001.5.1", Ref("job-000001", 5, "w2"));
  EXPECT_EQ(table.Find("job-000001.0.1")->slot, -1);
  // Placed by this leader, expected from the earlier registration.
  table.Add("job-000001.3.1", Ref("job-000001", 3, "w1", 1));

  auto worker = Worker("w1", 3);
  google::protobuf::RepeatedPtrField<quarry::v1::AttemptStatus> reported;
  *reported.Add() =
      Reported("job-000001.0.1", quarry::v1::EXECUTION_STATUS_RUNNING, 2);
  *reported.Add() =
      Reported("foreign.7.1", quarry::v1::EXECUTION_STATUS_RUNNING, 0);
  *reported.Add() =
      Reported("job-000001.2.1", quarry::v1::EXECUTION_STATUS_DONE, 1);
  *reported.Add() =
      Reported("gone.1.1", quarry::v1::EXECUTION_STATUS_FAILED, 1);
  // Another worker's attempt: not ours here; its place stays busy.
  *reported.Add() =
      Reported("job-000001.5.1", quarry::v1::EXECUTION_STATUS_RUNNING, 1);

  AttemptTable::Adoption adoption =
      table.Adopt(*worker, reported, {"job-000001.3.1"});
  EXPECT_THAT(worker->slot_attempts,
              ElementsAre("!foreign.7.1", "!job-000001.5.1", "job-000001.0.1"));
  EXPECT_EQ(worker->free_slots, 0);

  const AttemptRef* adopted = table.Find("job-000001.0.1");
  EXPECT_EQ(adopted->slot, 2);
  EXPECT_FALSE(adopted->accepted);                    // To be confirmed again.
  EXPECT_EQ(table.Find("job-000001.2.1")->slot, -1);  // Ended there.
  EXPECT_THAT(Ids(adoption.reports),
              ElementsAre("job-000001.0.1", "job-000001.2.1"));
  EXPECT_THAT(adoption.orphaned,
              UnorderedElementsAre("job-000001.3.1", "job-000001.1.1"));
  EXPECT_EQ(table.Find("job-000001.3.1")->slot, -1);
  EXPECT_EQ(table.Find("job-000001.5.1")->slot, -1);  // Untouched.

  // Adopted once: registering again orphans nothing more.
  auto again = Worker("w1", 3);
  AttemptTable::Adoption second = table.Adopt(*again, {}, {});
  EXPECT_THAT(second.orphaned, IsEmpty());
  EXPECT_THAT(second.reports, IsEmpty());
}

TEST(AttemptTableTest, UnadoptedAreGivenUpOnceAfterTheDeadline) {
  AttemptTable table;
  table.set_adopt_deadline(kT0 + absl::Seconds(5));
  table.AddUnadopted("a", Ref("job-000001", 0, "w1"));
  table.AddUnadopted("b", Ref("job-000001", 1, "w1"));
  table.AddUnadopted("c", Ref("job-000001", 2, "w2"));
  table.AddUnadopted("d", Ref("job-000001", 3, "w3"));
  auto w3 = Worker("w3", 1);
  table.Adopt(*w3, {}, {});  // w3 registered in time: d is orphaned there.

  EXPECT_THAT(table.TakeUnadoptedPastDeadline(kT0 + absl::Seconds(4)),
              IsEmpty());
  auto past = table.TakeUnadoptedPastDeadline(kT0 + absl::Seconds(5));
  EXPECT_THAT(past, UnorderedElementsAre(Pair("w1", ElementsAre("a", "b")),
                                         Pair("w2", ElementsAre("c"))));
  EXPECT_THAT(table.TakeUnadoptedPastDeadline(kT0 + absl::Seconds(6)),
              IsEmpty());
  EXPECT_EQ(table.size(), 4u);  // Still live: the caller ends them.
}

TEST(AttemptTableTest, HistoryRecordTimes) {
  AttemptRef ref = Ref("job-000001", 2, "w1");
  const absl::Time now = kT0 + absl::Seconds(30);

  // No report, never confirmed: no start time, ends now.
  quarry::v1::AttemptRecord bare = AttemptTable::HistoryRecord(
      "job-000001.2.1", ref, quarry::v1::EXECUTION_STATUS_LOST, "died", nullptr,
      now);
  EXPECT_EQ(bare.attempt_id(), "job-000001.2.1");
  EXPECT_EQ(bare.job_id(), "job-000001");
  EXPECT_EQ(bare.task_index(), 2);
  EXPECT_EQ(bare.worker_id(), "w1");
  EXPECT_EQ(bare.status(), quarry::v1::EXECUTION_STATUS_LOST);
  EXPECT_EQ(bare.error(), "died");
  EXPECT_FALSE(bare.has_start_time());
  EXPECT_EQ(FromProtoTime(bare.end_time()), now);

  // Confirmed: starts when confirmed.
  AttemptTable::Accept(ref, kT0 + absl::Seconds(1));
  quarry::v1::AttemptStatus empty_report;
  empty_report.set_output_bytes(5);
  quarry::v1::AttemptRecord accepted = AttemptTable::HistoryRecord(
      "job-000001.2.1", ref, quarry::v1::EXECUTION_STATUS_FAILED, "",
      &empty_report, now);
  EXPECT_EQ(FromProtoTime(accepted.start_time()), kT0 + absl::Seconds(1));
  EXPECT_EQ(FromProtoTime(accepted.end_time()), now);
  EXPECT_EQ(accepted.output_bytes(), 5);

  // The worker's times win.
  quarry::v1::AttemptStatus report;
  *report.mutable_start_time() = ToProtoTime(kT0 + absl::Seconds(2));
  *report.mutable_end_time() = ToProtoTime(kT0 + absl::Seconds(20));
  quarry::v1::AttemptRecord timed = AttemptTable::HistoryRecord(
      "job-000001.2.1", ref, quarry::v1::EXECUTION_STATUS_DONE, "", &report,
      now);
  EXPECT_EQ(FromProtoTime(timed.start_time()), kT0 + absl::Seconds(2));
  EXPECT_EQ(FromProtoTime(timed.end_time()), kT0 + absl::Seconds(20));
}

}  // namespace
}  // namespace quarry

// SubmitJob's bound on the unfinished tasks a leader holds
// (--max_pending_tasks).
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/leader/control/controller_fixture.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;

TEST_F(ControllerTest, SubmitRefusesAJobPastMaxPendingTasks) {
  PlannerLimits limits;
  limits.max_pending_tasks = 10;
  JobManager bounded(&faulty_store_, controller_.get(), &notifier_, &clock_,
                     limits);
  quarry::v1::JobSpec spec;
  spec.set_kind("noop");
  (*spec.mutable_settings())["tasks"] = "6";
  ASSERT_TRUE(bounded.Submit(spec).ok());
  absl::StatusOr<quarry::v1::SubmitJobResponse> refused = bounded.Submit(spec);
  ASSERT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
  EXPECT_THAT(refused.status().message(),
              HasSubstr("the leader holds 6 unfinished tasks; this job's 6 "
                        "would pass --max_pending_tasks=10"));
  (*spec.mutable_settings())["tasks"] = "4";
  EXPECT_TRUE(bounded.Submit(spec).ok());  // Exactly at the bound.

  // Finished tasks make room again.
  Register("w1", 16);
  Step();
  ASSERT_TRUE(Report("w1", AcceptStarts("w1"),
                     quarry::v1::EXECUTION_STATUS_DONE)
                  .ok());
  Step();
  (*spec.mutable_settings())["tasks"] = "10";
  EXPECT_TRUE(bounded.Submit(spec).ok());
}

}  // namespace
}  // namespace quarry

#include "common/ids.h"

#include "gtest/gtest.h"

namespace quarry {
namespace {

TEST(IdsTest, JobIdsRoundTrip) {
  EXPECT_EQ(FormatJobId(42), "job-000042");
  EXPECT_EQ(ParseJobId("job-000042"), 42);
  EXPECT_EQ(ParseJobId("job-1234567"), 1234567);
  EXPECT_FALSE(ParseJobId("job-").has_value());
  EXPECT_FALSE(ParseJobId("job-0").has_value());
  EXPECT_FALSE(ParseJobId("job--1").has_value());
  EXPECT_FALSE(ParseJobId("job-1x").has_value());
  EXPECT_FALSE(ParseJobId("task-000001").has_value());
}

TEST(IdsTest, AttemptIdsRoundTrip) {
  EXPECT_EQ(FormatAttemptId("job-000003", 12, 2), "job-000003.12.2");
  auto parts = ParseAttemptId("job-000003.12.2");
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(parts->job_id, "job-000003");
  EXPECT_EQ(parts->task_index, 12);
  EXPECT_EQ(parts->attempt_number, 2);
  EXPECT_FALSE(ParseAttemptId("job-000003.12").has_value());
  EXPECT_FALSE(ParseAttemptId("job-000003.-1.1").has_value());
  EXPECT_FALSE(ParseAttemptId("job-000003.1.0").has_value());
}

TEST(IdsTest, WorkerIdsAndAddressesAreChecked) {
  EXPECT_TRUE(ValidateWorkerId("worker-1.rack_2", "id").ok());
  EXPECT_FALSE(ValidateWorkerId("", "id").ok());
  EXPECT_FALSE(ValidateWorkerId("a b", "id").ok());
  EXPECT_FALSE(ValidateWorkerId(std::string(129, 'a'), "id").ok());
  EXPECT_TRUE(ValidateHostPort("127.0.0.1:7070", "--listen").ok());
  EXPECT_TRUE(ValidateHostPort("[::1]:0", "--listen").ok());
  EXPECT_FALSE(ValidateHostPort("127.0.0.1", "--listen").ok());
  EXPECT_FALSE(ValidateHostPort(":80", "--listen").ok());
  EXPECT_FALSE(ValidateHostPort("host:70000", "--listen").ok());
}

}  // namespace
}  // namespace quarry

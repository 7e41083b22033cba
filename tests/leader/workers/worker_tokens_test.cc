#include "leader/workers/worker_tokens.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;

const Principal kW{"w", Role::kWorker};
const Principal kW2{"w2", Role::kWorker};
const Principal kOps{"ops", Role::kAdmin};

TEST(WorkerTokensTest, AnIdBelongsToTheFirstPrincipalUntilReleased) {
  WorkerTokens tokens;
  EXPECT_TRUE(tokens.Register("w-1", kW, "token-of-w").ok());
  EXPECT_EQ(tokens.Get("w-1"), "token-of-w");
  EXPECT_TRUE(tokens.Claim("w-1", kW).ok());
  const absl::Status refused = tokens.Register("w-1", kW2, "token-of-w2");
  EXPECT_TRUE(absl::IsPermissionDenied(refused));
  EXPECT_THAT(refused.message(), HasSubstr("belongs to principal w, not w2"));
  EXPECT_TRUE(absl::IsPermissionDenied(tokens.Claim("w-1", kW2)));
  EXPECT_EQ(tokens.Get("w-1"), "token-of-w");  // Unchanged.
  tokens.Release("w-1");
  EXPECT_EQ(tokens.Get("w-1"), "");
  EXPECT_TRUE(tokens.Register("w-1", kW2, "token-of-w2").ok());
  EXPECT_EQ(tokens.Get("w-1"), "token-of-w2");
}

TEST(WorkerTokensTest, AReportBindsAnUnknownIdAndAnAdminMayUseAny) {
  WorkerTokens tokens;
  // After a leader restart a worker may report before it registers again.
  EXPECT_TRUE(tokens.Claim("w-1", kW).ok());
  EXPECT_TRUE(absl::IsPermissionDenied(tokens.Claim("w-1", kW2)));
  EXPECT_TRUE(tokens.Register("w-1", kW, "token-of-w").ok());
  EXPECT_TRUE(tokens.Claim("w-1", kOps).ok());
  EXPECT_TRUE(tokens.Register("w-1", kOps, "token-of-ops").ok());
  EXPECT_TRUE(absl::IsPermissionDenied(tokens.Claim("w-1", kW)));
}

}  // namespace
}  // namespace quarry

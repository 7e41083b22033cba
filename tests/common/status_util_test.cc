#include "common/status_util.h"

#include <string>

#include "absl/strings/match.h"
#include "gtest/gtest.h"

namespace quarry {
namespace {

TEST(StatusUtilTest, CodeAndShortMessageGoOnTheWireUnchanged) {
  const grpc::Status status =
      ToGrpcStatus(absl::NotFoundError("job job-000042 not found"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "job job-000042 not found");
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
  EXPECT_EQ(FromGrpcStatus(status), absl::NotFoundError("job job-000042 not found"));
}

// Found by the RPC fuzz test: "job <a 70,000-byte id> not found" went out
// whole, and the client got RESOURCE_EXHAUSTED (metadata over its limit)
// instead of NOT_FOUND.
TEST(StatusUtilTest, LongMessagesAreCutSoTheClientStillReadsThem) {
  const std::string id(70'000, 'x');
  const grpc::Status status =
      ToGrpcStatus(absl::NotFoundError("job " + id + " not found"));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_LT(status.error_message().size(), kMaxStatusMessageBytes + 32);
  EXPECT_TRUE(absl::StartsWith(status.error_message(), "job xxx"));
  EXPECT_TRUE(absl::EndsWith(status.error_message(),
                             "... (" + std::to_string(70'014 - 1024) +
                                 " more bytes)"))
      << status.error_message().substr(1000);
}

}  // namespace
}  // namespace quarry

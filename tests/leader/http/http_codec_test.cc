// The HTTP adapter's pieces that need no server: status mapping, query
// parameters into request messages, JSON bodies in and errors out.
#include <google/protobuf/util/json_util.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leader/http/http_status.h"
#include "leader/http/json_codec.h"
#include "leader/http/query_params.h"
#include "quarry/v1/http.pb.h"
#include "quarry/v1/job_service.pb.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(HttpStatusTest, MapsCodesAsGrpcGatewayDoes) {
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOk), 200);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kFailedPrecondition), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kOutOfRange), 400);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kPermissionDenied), 403);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kAborted), 409);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kResourceExhausted), 429);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kCancelled), 499);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kInternal), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnknown), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDataLoss), 500);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnimplemented), 501);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);
}

TEST(HttpStatusTest, ErrorBodyIsAnHttpErrorInJson) {
  quarry::v1::HttpError error;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                  ErrorJson(absl::NotFoundError("job job-000009 not found")),
                  &error)
                  .ok());
  EXPECT_EQ(error.code(), 5);
  EXPECT_EQ(error.status(), "NOT_FOUND");
  EXPECT_EQ(error.message(), "job job-000009 not found");
}

TEST(HttpStatusTest, ErrorBodyIsValidUtf8WhateverTheMessageEchoes) {
  const std::string json =
      ErrorJson(absl::NotFoundError("job \xc6\x83\xff\xe0\x80x not found"));
  quarry::v1::HttpError error;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, &error).ok())
      << json;
  EXPECT_EQ(error.message(),
            "job \xc6\x83\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
            "x not found");
}

TEST(QueryParamsTest, SetsFieldsByEitherSpelling) {
  quarry::v1::ListJobsRequest request;
  ASSERT_TRUE(FillFromQuery({{"state", "JOB_STATE_DONE"},
                             {"pageSize", "10"},
                             {"page_token", "abc"}},
                            &request)
                  .ok());
  EXPECT_EQ(request.state(), quarry::v1::JOB_STATE_DONE);
  EXPECT_EQ(request.page_size(), 10);
  EXPECT_EQ(request.page_token(), "abc");
}

TEST(QueryParamsTest, EnumsByNumberBoolsAndTimestamps) {
  quarry::v1::ListHistoryRequest history;
  ASSERT_TRUE(FillFromQuery({{"state", "3"},
                             {"end_after", "2026-01-02T03:04:05Z"}},
                            &history)
                  .ok());
  EXPECT_EQ(history.state(), 3);
  EXPECT_EQ(history.end_after().seconds(), 1767323045);
  quarry::v1::GetJobRequest get;
  ASSERT_TRUE(FillFromQuery({{"include_tasks", "true"}}, &get).ok());
  EXPECT_TRUE(get.include_tasks());
}

TEST(QueryParamsTest, ErrorsNameTheParameter) {
  quarry::v1::ListJobsRequest request;
  absl::Status status = FillFromQuery({{"colour", "red"}}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("colour"));
  EXPECT_THAT(status.message(), HasSubstr("page_size"));

  status = FillFromQuery({{"page_size", "ten"}}, &request);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("page_size=\"ten\""));

  status = FillFromQuery({{"state", "JOB_STATE_SOMETIMES"}}, &request);
  EXPECT_THAT(status.message(), HasSubstr("JOB_STATE_DONE"));

  status = FillFromQuery({{"page_size", "1"}, {"page_size", "2"}}, &request);
  EXPECT_THAT(status.message(), HasSubstr("more than once"));

  quarry::v1::ListHistoryRequest history;
  status = FillFromQuery({{"end_before", "yesterday"}}, &history);
  EXPECT_THAT(status.message(), HasSubstr("RFC 3339"));
}

TEST(JsonCodecTest, ParsesAJobSpecAndNamesWhatIsWrong) {
  quarry::v1::JobSpec spec;
  ASSERT_TRUE(ParseJsonBody(R"({"kind": "sleep", "output_dir": "/o",
                                "settings": {"ms": "5"}, "maxAttempts": 2})",
                            &spec)
                  .ok());
  EXPECT_EQ(spec.kind(), "sleep");
  EXPECT_EQ(spec.output_dir(), "/o");
  EXPECT_EQ(spec.max_attempts(), 2);

  absl::Status status = ParseJsonBody(R"({"kind": "x", "colour": 1})", &spec);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), HasSubstr("colour"));
  EXPECT_THAT(status.message(), HasSubstr("quarry.v1.JobSpec"));

  status = ParseJsonBody(R"({"maxAttempts": "many"})", &spec);
  EXPECT_THAT(status.message(), HasSubstr("max_attempts"));

  status = ParseJsonBody(R"({"kind": )", &spec);
  EXPECT_TRUE(absl::IsInvalidArgument(status));
  EXPECT_THAT(status.message(), Not(HasSubstr("\n")));

  status = ParseJsonBody("", &spec);
  EXPECT_THAT(status.message(), HasSubstr("empty"));
}

TEST(JsonCodecTest, PrintsDefaultsToo) {
  quarry::v1::SubmitJobResponse response;
  response.set_job_id("job-000001");
  EXPECT_EQ(ToJson(response), R"({"jobId":"job-000001","taskCount":0})");
}

}  // namespace
}  // namespace quarry

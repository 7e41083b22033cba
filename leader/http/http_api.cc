#include "leader/http/http_api.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "leader/api/cluster_view.h"
#include "leader/http/http_status.h"
#include "leader/http/json_codec.h"
#include "leader/http/query_params.h"

namespace quarry {
namespace {

using Authorization = std::optional<absl::string_view>;

Authorization AuthorizationOf(const HttpRequest& request) {
  if (!request.authorization.has_value()) return std::nullopt;
  return absl::string_view(*request.authorization);
}

HttpReply Error(const absl::Status& status) {
  return HttpReply{HttpStatusOf(status.code()), ErrorJson(status)};
}

template <typename T>
HttpReply Answer(const absl::StatusOr<T>& result, int ok_status = 200) {
  if (!result.ok()) return Error(result.status());
  return HttpReply{ok_status, ToJson(*result)};
}

// The request message of a route from its query parameters; the route then
// sets the fields its path names (the path wins).
template <typename T>
absl::StatusOr<T> RequestFor(const HttpRequest& http) {
  T request;
  if (absl::Status filled = FillFromQuery(http.query, &request);
      !filled.ok()) {
    return filled;
  }
  return request;
}

}  // namespace

HttpApi::HttpApi(const JobCalls* jobs, const CallerCheck* callers,
                 const Readiness* readiness, Store* store, const Clock* clock)
    : jobs_(jobs),
      callers_(callers),
      readiness_(readiness),
      store_(store),
      clock_(clock) {}

HttpReply HttpApi::SubmitJob(const HttpRequest& http) const {
  quarry::v1::SubmitJobRequest request;
  if (!http.query.empty()) {
    return Error(absl::InvalidArgumentError(
        "POST /v1/jobs takes no query parameters; send the JobSpec as the "
        "JSON body"));
  }
  if (absl::Status parsed = ParseJsonBody(http.body, request.mutable_spec());
      !parsed.ok()) {
    return Error(parsed);
  }
  return Answer(jobs_->Submit(AuthorizationOf(http), request), 201);
}

HttpReply HttpApi::ListJobs(const HttpRequest& http) const {
  absl::StatusOr<quarry::v1::ListJobsRequest> request =
      RequestFor<quarry::v1::ListJobsRequest>(http);
  if (!request.ok()) return Error(request.status());
  return Answer(jobs_->List(AuthorizationOf(http), *request));
}

HttpReply HttpApi::GetJob(const HttpRequest& http) const {
  absl::StatusOr<quarry::v1::GetJobRequest> request =
      RequestFor<quarry::v1::GetJobRequest>(http);
  if (!request.ok()) return Error(request.status());
  request->set_job_id(http.path.at(0));
  return Answer(jobs_->Get(AuthorizationOf(http), *request));
}

HttpReply HttpApi::GetJobResult(const HttpRequest& http) const {
  absl::StatusOr<quarry::v1::GetJobResultRequest> request =
      RequestFor<quarry::v1::GetJobResultRequest>(http);
  if (!request.ok()) return Error(request.status());
  request->set_job_id(http.path.at(0));
  return Answer(jobs_->Result(AuthorizationOf(http), *request));
}

HttpReply HttpApi::CancelJob(const HttpRequest& http) const {
  absl::StatusOr<quarry::v1::CancelJobRequest> request =
      RequestFor<quarry::v1::CancelJobRequest>(http);
  if (!request.ok()) return Error(request.status());
  request->set_job_id(http.path.at(0));
  return Answer(jobs_->Cancel(AuthorizationOf(http), *request));
}

HttpReply HttpApi::GetTaskLog(const HttpRequest& http) const {
  absl::StatusOr<quarry::v1::GetAttemptLogRequest> request =
      RequestFor<quarry::v1::GetAttemptLogRequest>(http);
  if (!request.ok()) return Error(request.status());
  request->set_job_id(http.path.at(0));
  int32_t index;
  if (!absl::SimpleAtoi(http.path.at(1), &index)) {
    return Error(absl::InvalidArgumentError(absl::StrCat(
        "task index \"", http.path.at(1).substr(0, 32),
        "\" in the path is not an integer")));
  }
  request->set_task_index(index);
  return Answer(jobs_->Log(AuthorizationOf(http), *request));
}

HttpReply HttpApi::GetCluster(const HttpRequest& http) const {
  if (absl::StatusOr<quarry::v1::GetClusterRequest> request =
          RequestFor<quarry::v1::GetClusterRequest>(http);
      !request.ok()) {
    return Error(request.status());
  }
  return Answer(ServeGetCluster(*callers_, *readiness_, AuthorizationOf(http),
                                store_, clock_->Now()));
}

HttpReply HttpApi::ListHistory(const HttpRequest& http) const {
  absl::StatusOr<quarry::v1::ListHistoryRequest> request =
      RequestFor<quarry::v1::ListHistoryRequest>(http);
  if (!request.ok()) return Error(request.status());
  return Answer(jobs_->History(AuthorizationOf(http), *request));
}

std::optional<HttpReply> HttpApi::WatchJobStart(
    const HttpRequest& http) const {
  absl::StatusOr<quarry::v1::WatchJobRequest> request =
      RequestFor<quarry::v1::WatchJobRequest>(http);
  if (!request.ok()) return Error(request.status());
  // The same check WatchJob makes first (role, readiness, the job exists),
  // answered while an HTTP status can still say it.
  quarry::v1::GetJobRequest get;
  get.set_job_id(http.path.at(0));
  if (absl::StatusOr<quarry::v1::GetJobResponse> job =
          jobs_->Get(AuthorizationOf(http), get);
      !job.ok()) {
    return Error(job.status());
  }
  return std::nullopt;
}

void HttpApi::WatchJob(
    const HttpRequest& http,
    const std::function<bool(const std::string& frame)>& write,
    const std::function<bool()>& cancelled) const {
  quarry::v1::WatchJobRequest request;
  request.set_job_id(http.path.at(0));
  const absl::Status ended = jobs_->Watch(
      AuthorizationOf(http), request,
      [&write](const quarry::v1::JobEvent& event) {
        return write(absl::StrCat("data: ", ToJson(event), "\n\n"));
      },
      cancelled);
  write(absl::StrCat("event: end\ndata: ", ErrorJson(ended), "\n\n"));
}

}  // namespace quarry

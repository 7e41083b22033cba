#ifndef QUARRY_LEADER_HTTP_HTTP_API_H_
#define QUARRY_LEADER_HTTP_HTTP_API_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/store.h"
#include "leader/api/caller_check.h"
#include "leader/api/job_calls.h"
#include "leader/api/readiness.h"

namespace quarry {

// One HTTP request as the adapter sees it (the router fills it in).
struct HttpRequest {
  // The Authorization header's value; nullopt without one.
  std::optional<std::string> authorization;
  // The route's placeholders in order, e.g. {job id, task index}.
  std::vector<std::string> path;
  std::multimap<std::string, std::string> query;
  std::string body;
};

// The answer: an HTTP status and a JSON body.
struct HttpReply {
  int status = 200;
  std::string body;
};

// Thin adapter of the HTTP/JSON API (docs/http.md): each route turns its
// path, query and JSON body into the gRPC request message (protobuf's JSON
// mapping, FillFromQuery), calls the same JobCalls / ServeGetCluster the
// gRPC services call, and answers the response message as JSON, or the
// error as quarry.v1.HttpError with the status grpc-gateway would give.
// No validation or logic of its own. Holds no state; thread-safe; called on
// the HTTP server's threads.
class HttpApi {
 public:
  // Every pointer outlives this.
  HttpApi(const JobCalls* jobs, const CallerCheck* callers,
          const Readiness* readiness, Store* store, const Clock* clock);

  // POST /v1/jobs, body: a JobSpec. 201 with the SubmitJobResponse.
  HttpReply SubmitJob(const HttpRequest& request) const;
  // GET /v1/jobs?state=&page_size=&page_token=
  HttpReply ListJobs(const HttpRequest& request) const;
  // GET /v1/jobs/{id}?include_tasks=&include_attempts=
  HttpReply GetJob(const HttpRequest& request) const;
  // GET /v1/jobs/{id}/result
  HttpReply GetJobResult(const HttpRequest& request) const;
  // POST /v1/jobs/{id}:cancel
  HttpReply CancelJob(const HttpRequest& request) const;
  // GET /v1/jobs/{id}/tasks/{index}/log?attempt_id=
  HttpReply GetTaskLog(const HttpRequest& request) const;
  // GET /v1/cluster
  HttpReply GetCluster(const HttpRequest& request) const;
  // GET /v1/history?state=&kind=&end_after=&end_before=&page_size=&page_token=
  HttpReply ListHistory(const HttpRequest& request) const;

  // GET /v1/jobs/{id}/events, Server-Sent Events of WatchJob. First
  // WatchJobStart: an error reply, or nullopt when the stream may begin
  // (the caller may read the job, which exists). Then WatchJob writes one
  // "data: <JobEvent JSON>" frame per change through `write` (false: the
  // client has gone) until the job is terminal, then one "event: end"
  // frame with the final status (quarry.v1.HttpError, code 0 when the job
  // finished), so that EventSource clients close instead of reconnecting.
  std::optional<HttpReply> WatchJobStart(const HttpRequest& request) const;
  void WatchJob(const HttpRequest& request,
                const std::function<bool(const std::string& frame)>& write,
                const std::function<bool()>& cancelled) const;

 private:
  const JobCalls* const jobs_;
  const CallerCheck* const callers_;
  const Readiness* const readiness_;
  Store* const store_;
  const Clock* const clock_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_HTTP_HTTP_API_H_

#ifndef QUARRY_LEADER_API_JOB_SERVICE_H_
#define QUARRY_LEADER_API_JOB_SERVICE_H_

#include "leader/api/caller_check.h"
#include "leader/api/job_calls.h"
#include "leader/api/job_manager.h"
#include "leader/workers/attempt_log_fetcher.h"
#include "leader/api/readiness.h"
#include "quarry/v1/job_service.grpc.pb.h"

namespace quarry {

// Thin gRPC adapter: JobService RPCs → JobCalls (the caller check,
// readiness and the JobManager or AttemptLogFetcher call, shared with the
// HTTP API); this class only converts statuses and streams. Thread-safe.
//
// GetJob, the call clients poll, runs on gRPC's callback API when
// `get_job_never_blocks` (the memory store and no history: nothing it calls
// waits on I/O): inline on the thread that read the request, without the
// hand-off to a sync-server thread, which about doubles the GetJob rate
// while a busy job competes for the cores (docs/benchmarks.md). Otherwise
// (Redis, PostgreSQL) it stays on the sync API: a blocking call must not
// hold one of gRPC's event threads.
class JobServiceImpl : public quarry::v1::JobService::Service {
 public:
  // Calls answer UNAVAILABLE until `readiness` is ready. GetAttemptLog
  // goes to `logs`. `callers` null: every caller may do everything.
  JobServiceImpl(JobManager* manager, const Readiness* readiness,
                 const AttemptLogFetcher* logs,
                 bool get_job_never_blocks = false,
                 const CallerCheck* callers = nullptr);

  grpc::Status SubmitJob(grpc::ServerContext* context,
                         const quarry::v1::SubmitJobRequest* request,
                         quarry::v1::SubmitJobResponse* response) override;
  // The sync API's GetJob; both APIs serve HandleGetJob.
  grpc::Status GetJob(grpc::ServerContext* context,
                      const quarry::v1::GetJobRequest* request,
                      quarry::v1::GetJobResponse* response) final;
  // What GetJob does (decorators override this).
  virtual grpc::Status HandleGetJob(const grpc::ServerContextBase& context,
                                    const quarry::v1::GetJobRequest* request,
                                    quarry::v1::GetJobResponse* response);
  grpc::Status ListJobs(grpc::ServerContext* context,
                        const quarry::v1::ListJobsRequest* request,
                        quarry::v1::ListJobsResponse* response) override;
  grpc::Status GetJobResult(
      grpc::ServerContext* context,
      const quarry::v1::GetJobResultRequest* request,
      quarry::v1::GetJobResultResponse* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context,
                         const quarry::v1::CancelJobRequest* request,
                         quarry::v1::CancelJobResponse* response) override;
  grpc::Status ListHistory(grpc::ServerContext* context,
                           const quarry::v1::ListHistoryRequest* request,
                           quarry::v1::ListHistoryResponse* response) override;
  grpc::Status WatchJob(
      grpc::ServerContext* context, const quarry::v1::WatchJobRequest* request,
      grpc::ServerWriter<quarry::v1::JobEvent>* writer) override;
  grpc::Status GetAttemptLog(
      grpc::ServerContext* context,
      const quarry::v1::GetAttemptLogRequest* request,
      quarry::v1::GetAttemptLogResponse* response) override;

 private:
  const JobCalls calls_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_API_JOB_SERVICE_H_

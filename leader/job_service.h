#ifndef QUARRY_LEADER_JOB_SERVICE_H_
#define QUARRY_LEADER_JOB_SERVICE_H_

#include "leader/attempt_log_fetcher.h"
#include "leader/job_manager.h"
#include "leader/readiness.h"
#include "quarry/v1/job_service.grpc.pb.h"

namespace quarry {

// Thin gRPC adapter: JobService RPCs → JobManager (GetAttemptLog →
// AttemptLogFetcher). Thread-safe.
class JobServiceImpl : public quarry::v1::JobService::Service {
 public:
  // Calls answer UNAVAILABLE until `readiness` is ready. GetAttemptLog
  // goes to `logs`.
  JobServiceImpl(JobManager* manager, const Readiness* readiness,
                 const AttemptLogFetcher* logs)
      : manager_(manager), readiness_(readiness), logs_(logs) {}

  grpc::Status SubmitJob(grpc::ServerContext* context,
                         const quarry::v1::SubmitJobRequest* request,
                         quarry::v1::SubmitJobResponse* response) override;
  grpc::Status GetJob(grpc::ServerContext* context,
                      const quarry::v1::GetJobRequest* request,
                      quarry::v1::GetJobResponse* response) override;
  grpc::Status ListJobs(grpc::ServerContext* context,
                        const quarry::v1::ListJobsRequest* request,
                        quarry::v1::ListJobsResponse* response) override;
  grpc::Status GetJobResult(grpc::ServerContext* context,
                            const quarry::v1::GetJobResultRequest* request,
                            quarry::v1::GetJobResultResponse* response) override;
  grpc::Status CancelJob(grpc::ServerContext* context,
                         const quarry::v1::CancelJobRequest* request,
                         quarry::v1::CancelJobResponse* response) override;
  grpc::Status ListHistory(grpc::ServerContext* context,
                           const quarry::v1::ListHistoryRequest* request,
                           quarry::v1::ListHistoryResponse* response) override;
  grpc::Status WatchJob(grpc::ServerContext* context,
                        const quarry::v1::WatchJobRequest* request,
                        grpc::ServerWriter<quarry::v1::JobEvent>* writer) override;
  grpc::Status GetAttemptLog(
      grpc::ServerContext* context,
      const quarry::v1::GetAttemptLogRequest* request,
      quarry::v1::GetAttemptLogResponse* response) override;

 private:
  JobManager* const manager_;
  const Readiness* const readiness_;
  const AttemptLogFetcher* const logs_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_JOB_SERVICE_H_

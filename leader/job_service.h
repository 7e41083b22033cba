#ifndef QUARRY_LEADER_JOB_SERVICE_H_
#define QUARRY_LEADER_JOB_SERVICE_H_

#include "leader/job_manager.h"
#include "quarry/v1/job_service.grpc.pb.h"

namespace quarry {

// Thin gRPC adapter: JobService RPCs → JobManager. Thread-safe. GetJob,
// the call readers make in a loop, uses the callback API: it is answered on
// the gRPC thread that read it, without a hand-off to a sync server thread.
class JobServiceImpl final
    : public quarry::v1::JobService::WithCallbackMethod_GetJob<
          quarry::v1::JobService::Service> {
 public:
  explicit JobServiceImpl(JobManager* manager) : manager_(manager) {}

  grpc::Status SubmitJob(grpc::ServerContext* context,
                         const quarry::v1::SubmitJobRequest* request,
                         quarry::v1::SubmitJobResponse* response) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
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
  grpc::Status WatchJob(grpc::ServerContext* context,
                        const quarry::v1::WatchJobRequest* request,
                        grpc::ServerWriter<quarry::v1::JobEvent>* writer) override;

 private:
  JobManager* const manager_;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_JOB_SERVICE_H_

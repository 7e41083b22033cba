#ifndef QUARRY_TESTS_CLI_FAKE_LEADER_H_
#define QUARRY_TESTS_CLI_FAKE_LEADER_H_

#include <grpcpp/grpcpp.h>

#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "quarry/v1/cluster_service.grpc.pb.h"
#include "quarry/v1/job_service.grpc.pb.h"

// A fake leader for the CLI tests: JobService and ClusterService with
// scripted answers, served by a real gRPC server inside the test.
namespace quarry::cli::testing {

namespace v1 = quarry::v1;

// The only job the fake knows.
inline constexpr char kJobId[] = "job-000001";

// A two-task job in `state` with `done` tasks done.
inline v1::Job MakeJob(v1::JobState state, int done,
                       const std::string& error = "") {
  v1::Job job;
  job.set_id(kJobId);
  job.set_state(state);
  job.set_task_count(2);
  job.mutable_task_counts()->set_done(done);
  job.mutable_task_counts()->set_running(state == v1::JOB_STATE_RUNNING ? 1
                                                                        : 0);
  job.set_error(error);
  return job;
}

// A JobService with scripted answers. Thread-safe (gRPC calls it from its
// threads; the test reads what it recorded).
class FakeJobService final : public v1::JobService::Service {
 public:
  struct Stream {
    std::vector<v1::Job> events;
    grpc::Status end = grpc::Status::OK;
  };

  void AddStream(Stream stream) {
    absl::MutexLock lock(&mu_);
    streams_.push_back(std::move(stream));
  }
  void SetJob(v1::Job job) {
    absl::MutexLock lock(&mu_);
    job_ = std::move(job);
  }
  int watch_calls() {
    absl::MutexLock lock(&mu_);
    return watch_calls_;
  }
  v1::SubmitJobRequest last_submit() {
    absl::MutexLock lock(&mu_);
    return last_submit_;
  }
  v1::ListJobsRequest last_list() {
    absl::MutexLock lock(&mu_);
    return last_list_;
  }
  // Lets the hanging GetJobResult call return.
  absl::Notification release_hang;

  grpc::Status SubmitJob(grpc::ServerContext*,
                         const v1::SubmitJobRequest* request,
                         v1::SubmitJobResponse* response) override {
    absl::MutexLock lock(&mu_);
    last_submit_ = *request;
    if (request->spec().kind() == "bogus") {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "spec.kind: unknown kind bogus"};
    }
    response->set_job_id(kJobId);
    response->set_task_count(2);
    return grpc::Status::OK;
  }

  grpc::Status GetJob(grpc::ServerContext*, const v1::GetJobRequest* request,
                      v1::GetJobResponse* response) override {
    absl::MutexLock lock(&mu_);
    if (request->job_id() != kJobId || !job_.has_value()) {
      return NotFound(request->job_id());
    }
    *response->mutable_job() = *job_;
    if (request->include_tasks()) {
      for (int i = 0; i < kLogTasks; ++i) {
        v1::Task& task = *response->add_tasks();
        task.set_index(i);
        if (i < kLogTasks - 1) task.set_attempt_id(AttemptOf(i));
      }
    }
    return grpc::Status::OK;
  }

  // Task 0's log is complete; task 1's worker is gone; task 2 still runs
  // and its log was truncated; task 3 has no attempt.
  static constexpr int kLogTasks = 4;
  static std::string AttemptOf(int task) {
    return std::string(kJobId) + "." + std::to_string(task) + ".1";
  }
  grpc::Status GetAttemptLog(grpc::ServerContext*,
                             const v1::GetAttemptLogRequest* request,
                             v1::GetAttemptLogResponse* response) override {
    absl::MutexLock lock(&mu_);
    last_log_ = *request;
    if (request->job_id() != kJobId) return NotFound(request->job_id());
    const std::string attempt = request->attempt_id().empty()
                                    ? AttemptOf(request->task_index())
                                    : request->attempt_id();
    switch (request->task_index()) {
      case 1:
        return {grpc::StatusCode::UNAVAILABLE,
                "worker w2 that ran attempt " + attempt +
                    " is gone (DEAD); its log is lost"};
      case 0:
      case 2:
        break;
      default:
        return {grpc::StatusCode::FAILED_PRECONDITION,
                "task has not started an attempt yet"};
    }
    v1::AttemptLog& log = *response->mutable_log();
    log.set_attempt_id(attempt);
    log.set_worker_id("w1");
    log.set_content("T1 attempt " + attempt + " started\nT2 ended\n");
    log.set_finished(request->task_index() == 0);
    log.set_truncated(request->task_index() == 2);
    response->set_worker_address("127.0.0.1:7101");
    return grpc::Status::OK;
  }
  v1::GetAttemptLogRequest last_log() {
    absl::MutexLock lock(&mu_);
    return last_log_;
  }

  grpc::Status ListJobs(grpc::ServerContext*,
                        const v1::ListJobsRequest* request,
                        v1::ListJobsResponse* response) override {
    absl::MutexLock lock(&mu_);
    last_list_ = *request;
    *response->add_jobs() = MakeJob(v1::JOB_STATE_DONE, 2);
    response->set_next_page_token("page-2");
    return grpc::Status::OK;
  }

  grpc::Status GetJobResult(grpc::ServerContext*,
                            const v1::GetJobResultRequest* request,
                            v1::GetJobResultResponse* response) override {
    if (request->job_id() == "job-hang") {
      release_hang.WaitForNotificationWithTimeout(absl::Seconds(30));
      return grpc::Status::OK;
    }
    if (request->job_id() != kJobId) return NotFound(request->job_id());
    response->set_job_id(kJobId);
    response->set_state(v1::JOB_STATE_DONE);
    response->set_output_dir("/out");
    v1::OutputFile& file = *response->add_files();
    file.set_path("/out/part-00000");
    file.set_size_bytes(10);
    file.set_summary("3 lines");
    return grpc::Status::OK;
  }

  grpc::Status CancelJob(grpc::ServerContext*,
                         const v1::CancelJobRequest* request,
                         v1::CancelJobResponse* response) override {
    if (request->job_id() != kJobId) {
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "job " + request->job_id() + " is already DONE"};
    }
    *response->mutable_job() = MakeJob(v1::JOB_STATE_CANCELLED, 1);
    return grpc::Status::OK;
  }

  grpc::Status WatchJob(grpc::ServerContext*,
                        const v1::WatchJobRequest* request,
                        grpc::ServerWriter<v1::JobEvent>* writer) override {
    Stream stream;
    {
      absl::MutexLock lock(&mu_);
      ++watch_calls_;
      if (streams_.empty()) {
        return {grpc::StatusCode::UNAVAILABLE, "leader is restarting"};
      }
      stream = std::move(streams_.front());
      streams_.pop_front();
    }
    for (const v1::Job& job : stream.events) {
      v1::JobEvent event;
      *event.mutable_job() = job;
      writer->Write(event);
    }
    return stream.end;
  }

 private:
  static grpc::Status NotFound(const std::string& id) {
    return {grpc::StatusCode::NOT_FOUND, "job " + id + " not found"};
  }

  absl::Mutex mu_;
  std::deque<Stream> streams_ ABSL_GUARDED_BY(mu_);
  std::optional<v1::Job> job_ ABSL_GUARDED_BY(mu_);
  int watch_calls_ ABSL_GUARDED_BY(mu_) = 0;
  v1::SubmitJobRequest last_submit_ ABSL_GUARDED_BY(mu_);
  v1::ListJobsRequest last_list_ ABSL_GUARDED_BY(mu_);
  v1::GetAttemptLogRequest last_log_ ABSL_GUARDED_BY(mu_);
};

// A ClusterService whose worker becomes ALIVE on the `alive_on_call`-th
// GetCluster, and which drains "worker-1" (and knows no other worker).
// Thread-safe.
class FakeClusterService final : public v1::ClusterService::Service {
 public:
  void set_alive_on_call(int call) {
    absl::MutexLock lock(&mu_);
    alive_on_call_ = call;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  std::vector<std::string> drained() {
    absl::MutexLock lock(&mu_);
    return drained_;
  }

  grpc::Status DrainWorker(grpc::ServerContext*,
                           const v1::DrainWorkerRequest* request,
                           v1::DrainWorkerResponse* response) override {
    absl::MutexLock lock(&mu_);
    drained_.push_back(request->worker_id());
    if (request->worker_id() != "worker-1") {
      return {grpc::StatusCode::NOT_FOUND,
              "worker " + request->worker_id() + " not found"};
    }
    v1::Worker& worker = *response->mutable_worker();
    worker.set_id("worker-1");
    worker.set_address("127.0.0.1:7101");
    worker.set_slots(2);
    worker.set_status(v1::WORKER_STATUS_DRAINING);
    return grpc::Status::OK;
  }

  grpc::Status GetCluster(grpc::ServerContext*, const v1::GetClusterRequest*,
                          v1::GetClusterResponse* response) override {
    absl::MutexLock lock(&mu_);
    ++calls_;
    v1::Worker& worker = *response->add_workers();
    worker.set_id("worker-1");
    worker.set_address("127.0.0.1:7101");
    worker.set_slots(2);
    const bool alive = alive_on_call_ > 0 && calls_ >= alive_on_call_;
    worker.set_status(alive ? v1::WORKER_STATUS_ALIVE
                            : v1::WORKER_STATUS_SUSPECT);
    response->set_status(alive ? v1::CLUSTER_STATUS_HEALTHY
                               : v1::CLUSTER_STATUS_UNAVAILABLE);
    return grpc::Status::OK;
  }

 private:
  absl::Mutex mu_;
  int alive_on_call_ ABSL_GUARDED_BY(mu_) = 1;
  int calls_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<std::string> drained_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::cli::testing

#endif  // QUARRY_TESTS_CLI_FAKE_LEADER_H_

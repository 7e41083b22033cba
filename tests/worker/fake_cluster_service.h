#ifndef QUARRY_TESTS_WORKER_FAKE_CLUSTER_SERVICE_H_
#define QUARRY_TESTS_WORKER_FAKE_CLUSTER_SERVICE_H_

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/server_util.h"
#include "quarry/v1/cluster_service.grpc.pb.h"
#include "quarry/v1/worker_service.grpc.pb.h"
#include "worker/worker_server.h"

namespace quarry::worker::testing {

// A ClusterService that, like a real leader, answers NOT_FOUND to reports
// and streams from workers it has not registered. Records when each
// attempt's report arrived. Grants the first commit request of each task
// and refuses the others; never answers attempts named "*.hang". Sends
// KIND_DRAIN on Drain(). Thread-safe (gRPC threads call it, the test reads
// it).
class FakeClusterService final : public quarry::v1::ClusterService::Service {
 public:
  grpc::Status RegisterWorker(
      grpc::ServerContext*, const quarry::v1::RegisterWorkerRequest* request,
      quarry::v1::RegisterWorkerResponse* response) override {
    absl::MutexLock lock(&mu_);
    registered_.insert(request->worker_id());
    ++registrations_;
    response->set_heartbeat_interval_ms(20);
    return grpc::Status::OK;
  }

  grpc::Status ReportWorkerState(
      grpc::ServerContext*, const quarry::v1::ReportWorkerStateRequest* request,
      quarry::v1::ReportWorkerStateResponse*) override {
    const absl::Time now = absl::Now();
    absl::MutexLock lock(&mu_);
    if (!registered_.contains(request->worker_id())) {
      return grpc::Status(
          grpc::StatusCode::NOT_FOUND,
          absl::StrCat("unknown worker ", request->worker_id()));
    }
    ++reports_;
    for (const auto& attempt : request->attempts()) {
      arrivals_[attempt.attempt_id()] = now;
      statuses_[attempt.attempt_id()] = attempt;
    }
    return grpc::Status::OK;
  }

  grpc::Status GetCluster(grpc::ServerContext*,
                          const quarry::v1::GetClusterRequest*,
                          quarry::v1::GetClusterResponse*) override {
    return grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "fake");
  }

  grpc::Status ConnectWorker(
      grpc::ServerContext* context,
      const quarry::v1::ConnectWorkerRequest* request,
      grpc::ServerWriter<quarry::v1::WorkerCommand>* writer) override {
    const std::string& id = request->worker_id();
    {
      absl::MutexLock lock(&mu_);
      if (!registered_.contains(id)) {
        return grpc::Status(grpc::StatusCode::NOT_FOUND,
                            absl::StrCat("unknown worker ", id));
      }
      ++open_streams_;
      ++streams_opened_;
    }
    quarry::v1::WorkerCommand command;
    command.set_kind(quarry::v1::WorkerCommand::KIND_CONNECTED);
    writer->Write(command);
    absl::MutexLock lock(&mu_);
    // The client going away is not a mutex condition: look every 2 ms.
    auto wake = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return drains_.contains(id) || stopping_;
    };
    while (!stopping_ && !context->IsCancelled()) {
      mu_.AwaitWithTimeout(absl::Condition(&wake), absl::Milliseconds(2));
      if (drains_.erase(id) > 0) {
        command.set_kind(quarry::v1::WorkerCommand::KIND_DRAIN);
        writer->Write(command);
      }
    }
    if (--open_streams_ == 0 && !stopping_) ++gaps_;
    return grpc::Status::OK;
  }

  grpc::Status RequestCommit(
      grpc::ServerContext* context,
      const quarry::v1::RequestCommitRequest* request,
      quarry::v1::RequestCommitResponse* response) override {
    const std::string& attempt = request->attempt_id();
    if (absl::EndsWith(attempt, ".hang")) {
      absl::MutexLock lock(&mu_);
      ++hanging_;
      while (!stopping_ && !context->IsCancelled()) {
        mu_.AwaitWithTimeout(absl::Condition(&stopping_),
                             absl::Milliseconds(2));
      }
      return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    }
    // "job.task.attempt": the first attempt of a task to ask wins.
    const std::string task = attempt.substr(0, attempt.rfind('.'));
    absl::MutexLock lock(&mu_);
    auto [it, first] = committers_.emplace(task, attempt);
    response->set_granted(it->second == attempt);
    if (!response->granted()) {
      response->set_reason(absl::StrCat("attempt ", it->second,
                                        " already committed the output"));
    }
    return grpc::Status::OK;
  }

  grpc::Status DeregisterWorker(
      grpc::ServerContext*, const quarry::v1::DeregisterWorkerRequest* request,
      quarry::v1::DeregisterWorkerResponse*) override {
    absl::MutexLock lock(&mu_);
    registered_.erase(request->worker_id());
    deregistered_.insert(request->worker_id());
    return grpc::Status::OK;
  }

  // Sends KIND_DRAIN to `worker_id` (if its stream is open).
  void Drain(const std::string& worker_id) {
    absl::MutexLock lock(&mu_);
    drains_.insert(worker_id);
  }
  // Ends every stream, so the server can shut down.
  void Stop() {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  bool WaitForOpenStreams(int n) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return open_streams_ == n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10));
  }
  bool WaitForStreamsOpened(int n) {
    absl::MutexLock lock(&mu_);
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return streams_opened_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10));
  }
  int gaps() {
    absl::MutexLock lock(&mu_);
    return gaps_;
  }
  bool WaitForHangingCommit() {
    absl::MutexLock lock(&mu_);
    auto done = [&]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return hanging_ > 0; };
    return mu_.AwaitWithTimeout(absl::Condition(&done), absl::Seconds(10));
  }
  bool deregistered(const std::string& worker_id) {
    absl::MutexLock lock(&mu_);
    return deregistered_.contains(worker_id);
  }

  // Waits for the report of `attempt_id`; returns (status, arrival time).
  bool WaitForAttempt(absl::string_view attempt_id,
                      quarry::v1::AttemptStatus* status, absl::Time* arrival) {
    absl::MutexLock lock(&mu_);
    auto seen = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return arrivals_.contains(attempt_id);
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&seen), absl::Seconds(10))) {
      return false;
    }
    *status = statuses_.at(attempt_id);
    *arrival = arrivals_.at(attempt_id);
    return true;
  }

  bool WaitForRegistrations(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return registrations_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

  bool WaitForReports(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto enough = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return reports_ >= n;
    };
    return mu_.AwaitWithTimeout(absl::Condition(&enough), timeout);
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_set<std::string> registered_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> deregistered_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<std::string> drains_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> committers_
      ABSL_GUARDED_BY(mu_);
  int open_streams_ ABSL_GUARDED_BY(mu_) = 0;
  int streams_opened_ ABSL_GUARDED_BY(mu_) = 0;
  // Times no stream of any worker was open any more.
  int gaps_ ABSL_GUARDED_BY(mu_) = 0;
  int hanging_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int registrations_ ABSL_GUARDED_BY(mu_) = 0;
  int reports_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, absl::Time> arrivals_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, quarry::v1::AttemptStatus> statuses_
      ABSL_GUARDED_BY(mu_);
};

// A fake leader process: the service and its gRPC server.
struct FakeLeader {
  ~FakeLeader() { Stop(); }
  void Stop() {
    if (server == nullptr) return;
    service.Stop();
    server->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
    server.reset();
  }
  FakeClusterService service;
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

inline std::unique_ptr<FakeLeader> StartLeader(const std::string& listen) {
  auto leader = std::make_unique<FakeLeader>();
  absl::StatusOr<StartedServer> started =
      StartGrpcServer(listen, {&leader->service});
  EXPECT_TRUE(started.ok()) << started.status();
  if (!started.ok()) return nullptr;
  leader->server = std::move(started->server);
  leader->port = started->port;
  return leader;
}

inline grpc::Status StartTask(WorkerServer& worker,
                              const quarry::v1::Assignment& assignment) {
  auto stub = quarry::v1::WorkerService::NewStub(grpc::CreateChannel(
      worker.address(), grpc::InsecureChannelCredentials()));
  quarry::v1::StartTasksRequest request;
  request.set_worker_id(worker.worker_id());
  *request.add_assignments() = assignment;
  quarry::v1::StartTasksResponse response;
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::Status status = stub->StartTasks(&context, request, &response);
  if (status.ok() && response.accepted_attempt_ids_size() != 1) {
    return grpc::Status(grpc::StatusCode::ABORTED, "rejected");
  }
  return status;
}

}  // namespace quarry::worker::testing

#endif  // QUARRY_TESTS_WORKER_FAKE_CLUSTER_SERVICE_H_

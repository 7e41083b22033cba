// Authentication and roles end to end: a real leader started with
// --auth_file, real workers with and without a worker token, the real CLI,
// and raw gRPC calls to every method of the leader's services.
#include <signal.h>
#include <sys/stat.h>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "common/auth.h"
#include "google/protobuf/descriptor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "quarry/v1/worker_service.grpc.pb.h"
#include "tests/testing/local_cluster.h"
#include "tests/testing/rpc.h"
#include "tests/testing/subprocess.h"
#include "tests/testing/temp_dir.h"

namespace quarry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kAlice[] = "alice-token-5f0c9a8d7e6b";
constexpr char kBob[] = "bob-token-1a2b3c4d5e6f7a";
constexpr char kRoot[] = "root-token-9f8e7d6c5b4a3";
constexpr char kWatch[] = "watch-token-0a9b8c7d6e5f";
constexpr char kWorker[] = "worker-token-77aa88bb99cc";
constexpr char kOtherWorker[] = "other-worker-token-6d6d6d6d6d";
constexpr char kCarol[] = "carol-token-3c3c3c3c3c3c3c";

std::string AuthFile() {
  return absl::StrCat("# principals of the test\n", "alice user ", kAlice,
                      "\nbob user ", kBob, "\nroot admin ", kRoot,
                      "\nwatch reader ", kWatch, "\nw worker ", kWorker,
                      "\nw2 worker ", kOtherWorker, "\n");
}

void WritePrivate(const std::string& path, const std::string& text) {
  WriteFile(path, text);
  chmod(path.c_str(), 0600);
}

class AuthClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auth_file_ = dir_.path() + "/auth";
    WritePrivate(auth_file_, AuthFile());
    auto cluster = LocalCluster::Start({"--auth_file=" + auth_file_});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    cluster_->set_token(kRoot);
    worker_token_ = dir_.path() + "/worker-token";
    WritePrivate(worker_token_, kWorker);
  }
  void TearDown() override {
    if (cluster_ != nullptr) EXPECT_TRUE(cluster_->Shutdown().ok());
  }

  // A context with a deadline and, if not empty, `token`.
  static std::unique_ptr<grpc::ClientContext> As(const std::string& token) {
    std::unique_ptr<grpc::ClientContext> context = ContextWithDeadline();
    AddToken(token, *context);
    return context;
  }

  // Submits a noop job of `tasks` tasks, each taking `ms`, as `token`.
  absl::StatusOr<std::string> SubmitAs(const std::string& token,
                                       int tasks = 1, int ms = 0) {
    quarry::v1::SubmitJobRequest request;
    request.mutable_spec()->set_kind(ms > 0 ? "sleep" : "noop");
    (*request.mutable_spec()->mutable_settings())["tasks"] =
        absl::StrCat(tasks);
    if (ms > 0) (*request.mutable_spec()->mutable_settings())["ms"] =
        absl::StrCat(ms);
    quarry::v1::SubmitJobResponse response;
    grpc::Status status =
        cluster_->jobs().SubmitJob(As(token).get(), request, &response);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return response.job_id();
  }

  grpc::Status CancelAs(const std::string& token, const std::string& job) {
    quarry::v1::CancelJobRequest request;
    request.set_job_id(job);
    quarry::v1::CancelJobResponse response;
    return cluster_->jobs().CancelJob(As(token).get(), request, &response);
  }

  // The status of calling `method` ("/quarry.v1.JobService/GetJob") with an
  // empty request as `token`, through the generic stub.
  grpc::Status CallRaw(const std::string& method, const std::string& token) {
    grpc::GenericStub stub(grpc::CreateChannel(
        cluster_->leader_address(), grpc::InsecureChannelCredentials()));
    std::unique_ptr<grpc::ClientContext> context = As(token);
    grpc::Slice empty("");  // Every request message may be empty.
    grpc::ByteBuffer request(&empty, 1);
    grpc::ByteBuffer response;
    absl::Notification done;
    grpc::Status result;
    stub.UnaryCall(context.get(), method, grpc::StubOptions(), &request,
                   &response, [&](grpc::Status status) {
                     result = std::move(status);
                     done.Notify();
                   });
    done.WaitForNotification();  // The context's deadline bounds it.
    return result;
  }

  TempDir dir_;
  std::string auth_file_;
  std::string worker_token_;
  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(AuthClusterTest, EveryLeaderCallNeedsAKnownTokenButHealthStaysOpen) {
  int methods = 0;
  for (const char* service : {"quarry.v1.JobService", "quarry.v1.ClusterService"}) {
    const google::protobuf::ServiceDescriptor* descriptor =
        google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
            service);
    ASSERT_NE(descriptor, nullptr);
    for (int i = 0; i < descriptor->method_count(); ++i) {
      const std::string method =
          absl::StrCat("/", service, "/", descriptor->method(i)->name());
      for (const std::string& token : {std::string(), std::string("nope-not-a-token-1")}) {
        const grpc::Status status = CallRaw(method, token);
        EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
            << method << " token '" << token << "': " << status.error_message();
        EXPECT_THAT(status.error_message(), Not(HasSubstr("nope-not")));
      }
      ++methods;
    }
  }
  EXPECT_GE(methods, 15);
  // The health check answers anyone (load balancers, probes).
  auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      cluster_->leader_address(), grpc::InsecureChannelCredentials()));
  grpc::health::v1::HealthCheckResponse answer;
  EXPECT_TRUE(
      health->Check(ContextWithDeadline().get(), {}, &answer).ok());
}

TEST_F(AuthClusterTest, RolesGateSubmitCancelAndDrain) {
  ASSERT_TRUE(cluster_
                  ->StartWorker("worker-1", 2,
                                {"--token_file=" + worker_token_})
                  .ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok()) << cluster_->LogTails();

  // A reader reads but cannot submit; a worker token cannot submit.
  quarry::v1::GetClusterResponse view;
  EXPECT_TRUE(
      cluster_->cluster().GetCluster(As(kWatch).get(), {}, &view).ok());
  absl::StatusOr<std::string> refused = SubmitAs(kWatch);
  EXPECT_TRUE(absl::IsPermissionDenied(refused.status())) << refused.status();
  EXPECT_THAT(refused.status().message(),
              HasSubstr("SubmitJob needs role user or admin; watch has role "
                        "reader"));
  EXPECT_TRUE(absl::IsPermissionDenied(SubmitAs(kWorker).status()));

  // alice owns her job; bob may neither cancel it nor drain a worker.
  absl::StatusOr<std::string> job = SubmitAs(kAlice, 4, 60'000);
  ASSERT_TRUE(job.ok()) << job.status();
  quarry::v1::GetJobRequest get;
  get.set_job_id(*job);
  quarry::v1::GetJobResponse got;
  ASSERT_TRUE(cluster_->jobs().GetJob(As(kBob).get(), get, &got).ok());
  EXPECT_EQ(got.job().owner(), "alice");
  grpc::Status cancel = CancelAs(kBob, *job);
  EXPECT_EQ(cancel.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(cancel.error_message(), HasSubstr("bob does not (owner: alice)"));
  quarry::v1::DrainWorkerRequest drain;
  drain.set_worker_id("worker-1");
  quarry::v1::DrainWorkerResponse drained;
  grpc::Status drain_status =
      cluster_->cluster().DrainWorker(As(kAlice).get(), drain, &drained);
  EXPECT_EQ(drain_status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(drain_status.error_message(),
              HasSubstr("DrainWorker needs role admin; alice has role user"));

  // alice cancels her own; an admin cancels anyone's.
  EXPECT_TRUE(CancelAs(kAlice, *job).ok());
  absl::StatusOr<std::string> bobs = SubmitAs(kBob, 2, 60'000);
  ASSERT_TRUE(bobs.ok()) << bobs.status();
  EXPECT_TRUE(CancelAs(kRoot, *bobs).ok());

  // A job runs to its end on the worker that authenticated.
  absl::StatusOr<std::string> quick = SubmitAs(kAlice, 20);
  ASSERT_TRUE(quick.ok()) << quick.status();
  absl::StatusOr<quarry::v1::Job> done = cluster_->WaitForJob(*quick);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), quarry::v1::JOB_STATE_DONE) << done->error();

  // No token reached the leader's log; the audit lines did.
  const std::string log = ReadFile(cluster_->dir() + "/leader.log");
  for (const char* token : {kAlice, kBob, kRoot, kWatch, kWorker}) {
    EXPECT_THAT(log, Not(HasSubstr(token)));
  }
  EXPECT_THAT(log, HasSubstr("audit: principal=alice role=user "
                             "method=SubmitJob target=" + *job +
                             " outcome=OK"));
  EXPECT_THAT(log, HasSubstr("audit: principal=bob role=user "
                             "method=CancelJob target=" + *job +
                             " outcome=PERMISSION_DENIED"));
  EXPECT_THAT(log, HasSubstr("audit: principal=w role=worker "
                             "method=RegisterWorker target=worker-1"));
}

TEST_F(AuthClusterTest, AWorkerTakesCallsOnlyFromItsLeader) {
  ASSERT_TRUE(cluster_
                  ->StartWorker("worker-1", 2,
                                {"--token_file=" + worker_token_})
                  .ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok());
  absl::StatusOr<quarry::v1::GetClusterResponse> view = cluster_->GetCluster();
  ASSERT_TRUE(view.ok());
  ASSERT_EQ(view->workers_size(), 1);
  auto worker = quarry::v1::WorkerService::NewStub(grpc::CreateChannel(
      view->workers(0).address(), grpc::InsecureChannelCredentials()));
  quarry::v1::StartTasksRequest start;
  start.set_worker_id("worker-1");
  quarry::v1::Assignment* assignment = start.add_assignments();
  assignment->set_attempt_id("job-999999.0.1");
  assignment->set_job_id("job-999999");
  assignment->set_kind("noop");
  for (const std::string& token : {std::string(), std::string(kAlice),
                                   std::string(kRoot)}) {
    quarry::v1::StartTasksResponse started;
    const grpc::Status status =
        worker->StartTasks(As(token).get(), start, &started);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << "token '" << token << "': " << status.error_message();
    quarry::v1::GetWorkerStateRequest state_request;
    state_request.set_worker_id("worker-1");
    quarry::v1::GetWorkerStateResponse state;
    EXPECT_EQ(worker->GetWorkerState(As(token).get(), state_request, &state)
                  .error_code(),
              grpc::StatusCode::UNAUTHENTICATED);
  }
  // The leader's own calls carry the worker's token: jobs run.
  absl::StatusOr<std::string> job = SubmitAs(kAlice, 10);
  ASSERT_TRUE(job.ok()) << job.status();
  absl::StatusOr<quarry::v1::Job> done = cluster_->WaitForJob(*job);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), quarry::v1::JOB_STATE_DONE) << done->error();
}

TEST_F(AuthClusterTest, AnotherWorkerPrincipalCannotSpeakForARegisteredId) {
  ASSERT_TRUE(cluster_
                  ->StartWorker("worker-1", 2,
                                {"--token_file=" + worker_token_})
                  .ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok());
  // w2 holds a valid worker token, but worker-1 registered as w.
  quarry::v1::RegisterWorkerRequest registration;
  registration.set_worker_id("worker-1");
  registration.set_address("127.0.0.1:1");
  registration.set_slots(1);
  registration.add_kinds("noop");
  quarry::v1::RegisterWorkerResponse registered;
  grpc::Status status = cluster_->cluster().RegisterWorker(
      As(kOtherWorker).get(), registration, &registered);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("worker id worker-1 belongs to principal w, not w2"));
  quarry::v1::ReportWorkerStateRequest report;
  report.set_worker_id("worker-1");
  quarry::v1::ReportWorkerStateResponse reported;
  status = cluster_->cluster().ReportWorkerState(As(kOtherWorker).get(),
                                                 report, &reported);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  quarry::v1::RequestCommitRequest commit;
  commit.set_worker_id("worker-1");
  commit.set_attempt_id("job-000001.0.1");
  quarry::v1::RequestCommitResponse granted;
  status = cluster_->cluster().RequestCommit(As(kOtherWorker).get(), commit,
                                             &granted);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A fresh id is w2's to take, and worker-1 still runs jobs.
  registration.set_worker_id("worker-2");
  status = cluster_->cluster().RegisterWorker(As(kOtherWorker).get(),
                                              registration, &registered);
  EXPECT_TRUE(status.ok()) << status.error_message();
  // ... and w2's to give up (no task waits for its unreachable address).
  quarry::v1::DeregisterWorkerRequest leave;
  leave.set_worker_id("worker-2");
  quarry::v1::DeregisterWorkerResponse left;
  status = cluster_->cluster().DeregisterWorker(As(kOtherWorker).get(), leave,
                                                &left);
  ASSERT_TRUE(status.ok()) << status.error_message();
  absl::StatusOr<std::string> job = SubmitAs(kAlice, 10);
  ASSERT_TRUE(job.ok()) << job.status();
  absl::StatusOr<quarry::v1::Job> done = cluster_->WaitForJob(*job);
  ASSERT_TRUE(done.ok()) << done.status();
  EXPECT_EQ(done->state(), quarry::v1::JOB_STATE_DONE) << done->error();
  EXPECT_THAT(ReadFile(cluster_->dir() + "/leader.log"),
              HasSubstr("audit: principal=w2 used worker id worker-1, which "
                        "belongs to principal w: refused"));
}

TEST_F(AuthClusterTest, AWorkerWithoutATokenIsTurnedAway) {
  ASSERT_TRUE(cluster_->StartWorker("stranger", 1).ok());
  ASSERT_TRUE(cluster_
                  ->StartWorker("worker-1", 1,
                                {"--token_file=" + worker_token_})
                  .ok());
  ASSERT_TRUE(cluster_->WaitForAliveWorkers(1).ok());
  // The stranger's registrations are refused (its log says why).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  std::string log;
  while (absl::Now() < deadline) {
    log = ReadFile(cluster_->dir() + "/worker-stranger.log");
    if (log.find("UNAUTHENTICATED") != std::string::npos) break;
    absl::SleepFor(absl::Milliseconds(50));  // Poll interval.
  }
  EXPECT_THAT(log, HasSubstr("UNAUTHENTICATED"));
  absl::StatusOr<quarry::v1::GetClusterResponse> view = cluster_->GetCluster();
  ASSERT_TRUE(view.ok());
  for (const quarry::v1::Worker& worker : view->workers()) {
    EXPECT_NE(worker.id(), "stranger");
  }
  cluster_->worker("stranger").Signal(SIGKILL);
  ASSERT_TRUE(cluster_->worker("stranger").Wait(absl::Seconds(10)).ok());
}

TEST_F(AuthClusterTest, TheCliSendsItsTokenAndSighupReloadsTheFile) {
  absl::StatusOr<std::string> job = SubmitAs(kAlice);
  ASSERT_TRUE(job.ok()) << job.status();
  const std::string leader = "--leader=" + cluster_->leader_address();
  std::string output;
  absl::StatusOr<int> code =
      RunCommand({"/usr/bin/env", absl::StrCat("QUARRY_TOKEN=", kWatch),
                  CliBinary(), leader, "status", *job},
                 &output);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << output;
  EXPECT_THAT(output, HasSubstr(*job));

  const std::string token_file = dir_.path() + "/alice-token";
  WritePrivate(token_file, kAlice);
  code = RunCommand({CliBinary(), leader, "--token-file", token_file, "cancel",
                     *job},
                    &output);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << output;  // alice cancels her own job.
  EXPECT_THAT(output, HasSubstr("CANCELLED"));
  code = RunCommand({CliBinary(), leader, "status", *job}, &output);
  ASSERT_TRUE(code.ok());
  EXPECT_NE(*code, 0);
  EXPECT_THAT(output, HasSubstr("UNAUTHENTICATED"));
  chmod(token_file.c_str(), 0644);
  code = RunCommand({CliBinary(), leader, "--token-file", token_file, "list"},
                    &output);
  ASSERT_TRUE(code.ok());
  EXPECT_NE(*code, 0);
  EXPECT_THAT(output, HasSubstr("readable or writable by group or others"));
  EXPECT_THAT(output, Not(HasSubstr(kAlice)));

  // carol is unknown until the file names her and the leader gets SIGHUP.
  EXPECT_TRUE(absl::IsUnauthenticated(SubmitAs(kCarol).status()));
  WritePrivate(auth_file_, AuthFile() + "carol user " + kCarol + "\n");
  cluster_->leader().Signal(SIGHUP);
  absl::Status carol = SubmitAs(kCarol).status();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!carol.ok() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));  // Poll interval.
    carol = SubmitAs(kCarol).status();
  }
  EXPECT_TRUE(carol.ok()) << carol;
}

TEST(LeaderListenTest, ANonLoopbackAddressNeedsAuthOrInsecure) {
  std::string output;
  absl::StatusOr<int> code =
      RunCommand({LeaderBinary(), "--listen=0.0.0.0:0"}, &output,
                 absl::Seconds(20));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 2) << output;
  EXPECT_THAT(output, HasSubstr("is not a loopback address and there is no "
                                "--auth_file"));
  code = RunCommand({WorkerBinary(), "--listen=0.0.0.0:0"}, &output,
                    absl::Seconds(20));
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_NE(*code, 0) << output;
  EXPECT_THAT(output, HasSubstr("--insecure"));
}

}  // namespace
}  // namespace quarry::testing

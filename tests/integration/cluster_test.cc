// End-to-end tests: real quarry-leader and quarry-worker processes on
// loopback, driven through the public gRPC API.
#include <glog/logging.h>
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/job_kinds.h"
#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "gtest/gtest.h"
#include "tests/integration/cluster_fixture.h"
#include "tests/integration/test_corpus.h"
#include "tests/testing/local_cluster.h"

namespace quarry::testing {
namespace {

using quarry::v1::JobSpec;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

JobSpec Spec(const std::string& kind, const std::vector<std::string>& inputs,
             const std::string& output_dir) {
  JobSpec spec;
  spec.set_kind(kind);
  for (const std::string& input : inputs) spec.add_inputs(input);
  spec.set_output_dir(output_dir);
  return spec;
}

using ClusterTest = ClusterFixture;

TEST_F(ClusterTest, EveryKindRunsToAVerifiedResult) {
  StartWorkers(2, 2);
  const std::string in = cluster_->dir() + "/in";
  const std::vector<std::string> files = WriteCorpus(in, 9);
  const std::string out = cluster_->dir() + "/out-";

  // wordcount: parts plus a result.tsv equal to the reference count.
  quarry::v1::Job job = RunToDone(Spec("wordcount", {in}, out + "wordcount"));
  EXPECT_EQ(job.task_count(), 10);
  EXPECT_EQ(ReadFile(out + "wordcount/result.tsv"), ReferenceWordCount(files));
  EXPECT_THAT(ListDir(out + "wordcount"),
              ElementsAreArray(ExpectedParts(9, {"result.tsv"})));
  // Packed into tasks of several files: fewer parts, the same result.
  JobSpec packed = Spec("wordcount", {in}, out + "wordcount-packed");
  int64_t corpus_bytes = 0;
  for (const std::string& file : files) corpus_bytes += ReadFile(file).size();
  packed.set_bytes_per_task(corpus_bytes / 3 + 1);
  job = RunToDone(packed);
  EXPECT_GE(job.task_count(), 4);
  EXPECT_LE(job.task_count(), 5);
  EXPECT_EQ(ReadFile(out + "wordcount-packed/result.tsv"),
            ReferenceWordCount(files));
  EXPECT_THAT(
      ListDir(out + "wordcount-packed"),
      ElementsAreArray(ExpectedParts(job.task_count() - 1, {"result.tsv"})));

  // sha256 and grep: each part equals what coreutils/grep print.
  RunToDone(Spec("sha256", {in}, out + "sha256"));
  JobSpec grep = Spec("grep", {in}, out + "grep");
  (*grep.mutable_settings())["pattern"] = "[Ee]arth";
  RunToDone(grep);
  RunToDone(Spec("linecount", {in}, out + "linecount"));
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string part = PartFileName(static_cast<int32_t>(i));
    std::string expected;
    ASSERT_EQ(*RunCommand({"/usr/bin/sha256sum", files[i]}, &expected), 0);
    EXPECT_EQ(ReadFile(out + "sha256/" + part), expected);
    expected.clear();
    ASSERT_TRUE(  // grep exits 1 when a file has no match.
        RunCommand({"/bin/grep", "-Hn", "-a", "[Ee]arth", files[i]}, &expected)
            .ok());
    EXPECT_EQ(ReadFile(out + "grep/" + part), expected) << files[i];
    const std::string content = ReadFile(files[i]);
    int64_t lines = std::count(content.begin(), content.end(), '\n');
    if (!content.empty() && content.back() != '\n') ++lines;
    EXPECT_EQ(ReadFile(out + "linecount/" + part),
              absl::StrCat(files[i], "\t", lines, "\n"));
  }
  EXPECT_THAT(ListDir(out + "sha256"), ElementsAreArray(ExpectedParts(9)));

  // sleep and noop without an output directory touch no files.
  JobSpec sleep = Spec("sleep", {}, "");
  (*sleep.mutable_settings())["ms"] = "20";
  (*sleep.mutable_settings())["tasks"] = "4";
  EXPECT_EQ(RunToDone(sleep).task_counts().done(), 4);
  JobSpec noop = Spec("noop", {in}, "");
  EXPECT_EQ(RunToDone(noop).task_counts().done(), 9);
  EXPECT_FALSE(std::filesystem::exists(out + "noop"));
}

TEST_F(ClusterTest, SubmitAnswersAtOnceAndJobWaitsForAWorker) {
  JobSpec spec = Spec("noop", {}, "");
  (*spec.mutable_settings())["tasks"] = "3";
  ASSERT_TRUE(cluster_->GetCluster().ok());  // Connects the channel.
  std::vector<absl::Duration> took;
  std::vector<std::string> ids;
  for (int i = 0; i < 21; ++i) {
    const absl::Time start = absl::Now();
    absl::StatusOr<std::string> id = cluster_->Submit(spec);
    took.push_back(absl::Now() - start);
    ASSERT_TRUE(id.ok()) << id.status();
    ids.push_back(*id);
  }
  std::sort(took.begin(), took.end());
  LOG(INFO) << "SubmitJob with no worker, round trip as the client sees it: "
            << "median " << took[10] << ", max " << took.back();

  quarry::v1::GetJobRequest request;
  request.set_job_id(ids[0]);
  quarry::v1::GetJobResponse response;
  ASSERT_TRUE(cluster_->jobs()
                  .GetJob(ContextWithDeadline().get(), request, &response)
                  .ok());
  EXPECT_EQ(response.job().state(), quarry::v1::JOB_STATE_PENDING);
  auto cluster = cluster_->GetCluster();
  ASSERT_TRUE(cluster.ok());
  EXPECT_EQ(cluster->status(), quarry::v1::CLUSTER_STATUS_UNAVAILABLE);

  StartWorkers(1, 2);
  for (const std::string& id : ids) {
    absl::StatusOr<quarry::v1::Job> job = cluster_->WaitForJob(id);
    ASSERT_TRUE(job.ok()) << job.status();
    EXPECT_EQ(job->state(), quarry::v1::JOB_STATE_DONE);
  }
}

TEST_F(ClusterTest, TwoThousandNoopTasksOnTwoWorkersOfFourSlots) {
  StartWorkers(2, 4);
  // A single task first: submit → DONE as a client sees it.
  JobSpec one = Spec("noop", {}, "");
  (*one.mutable_settings())["tasks"] = "1";
  RunToDone(one);  // Warm-up (connections).
  absl::Time start = absl::Now();
  RunToDone(one);
  LOG(INFO) << "single noop task: submit -> DONE in " << absl::Now() - start;

  JobSpec spec = Spec("noop", {}, "");
  (*spec.mutable_settings())["tasks"] = "2000";
  start = absl::Now();
  quarry::v1::Job job = RunToDone(spec);
  const absl::Duration took = absl::Now() - start;
  EXPECT_EQ(job.task_counts().done(), 2000);
  LOG(INFO) << "2000 noop tasks on 2x4 slots: " << took << ", "
            << 2000 / absl::ToDoubleSeconds(took) << " tasks/s";
}

TEST_F(ClusterTest, BadInputIsRefusedAndChangesNothing) {
  StartWorkers(1, 1);
  const std::string in = cluster_->dir() + "/in";
  WriteCorpus(in, 2);
  WriteFile(cluster_->dir() + "/a-file", "x");
  WriteFile(cluster_->dir() + "/full/thing", "x");
  struct Case {
    JobSpec spec;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Case> cases;
  const std::string out = cluster_->dir() + "/out";
  cases.push_back(
      {Spec("nosuchkind", {in}, out), grpc::INVALID_ARGUMENT, "kind"});
  cases.push_back(
      {Spec("linecount", {}, out), grpc::INVALID_ARGUMENT, "inputs"});
  cases.push_back(
      {Spec("linecount", {""}, out), grpc::INVALID_ARGUMENT, "inputs[0]"});
  cases.push_back(
      {Spec("linecount", {in + "/nope"}, out), grpc::NOT_FOUND, "inputs[0]"});
  cases.push_back({Spec("linecount", {in}, cluster_->dir() + "/a-file"),
                   grpc::INVALID_ARGUMENT, "output_dir"});
  cases.push_back({Spec("linecount", {in}, cluster_->dir() + "/full"),
                   grpc::INVALID_ARGUMENT, "not empty"});
  cases.push_back(
      {Spec("grep", {in}, out), grpc::INVALID_ARGUMENT, "settings.pattern"});
  JobSpec big = Spec("sleep", {}, "");
  (*big.mutable_settings())["ms"] = "-1";
  cases.push_back({big, grpc::INVALID_ARGUMENT, "settings.ms"});
  for (const Case& c : cases) {
    quarry::v1::SubmitJobRequest request;
    *request.mutable_spec() = c.spec;
    quarry::v1::SubmitJobResponse response;
    grpc::Status status = cluster_->jobs().SubmitJob(
        ContextWithDeadline().get(), request, &response);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(c.message));
  }
  EXPECT_FALSE(std::filesystem::exists(out));
  quarry::v1::ListJobsResponse list;
  ASSERT_TRUE(
      cluster_->jobs().ListJobs(ContextWithDeadline().get(), {}, &list).ok());
  EXPECT_EQ(list.jobs_size(), 0);

  quarry::v1::GetJobRequest get;
  get.set_job_id("job-424242");
  quarry::v1::GetJobResponse job;
  EXPECT_EQ(cluster_->jobs()
                .GetJob(ContextWithDeadline().get(), get, &job)
                .error_code(),
            grpc::NOT_FOUND);

  // A registration the leader refuses, naming `field`.
  auto expect_refused = [this](int slots, int queue, const std::string& field) {
    quarry::v1::RegisterWorkerRequest request;
    request.set_worker_id("bad");
    request.set_address("127.0.0.1:9");
    request.set_slots(slots);
    request.set_queue(queue);
    quarry::v1::RegisterWorkerResponse response;
    grpc::Status status = cluster_->cluster().RegisterWorker(
        ContextWithDeadline().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT) << field;
    EXPECT_THAT(status.error_message(), HasSubstr(field));
  };
  for (int slots : {0, -3, 100000}) expect_refused(slots, 0, "slots");
  for (int queue : {-1, 1 << 20}) expect_refused(4, queue, "queue");
  // A worker flag the worker refuses (exit code != 0), naming the flag.
  auto expect_flag_refused = [this](const std::string& flag) {
    std::string output;
    absl::StatusOr<int> code = RunCommand(
        {WorkerBinary(), "--leader=" + cluster_->leader_address(), flag},
        &output, absl::Seconds(20));
    ASSERT_TRUE(code.ok());
    EXPECT_NE(*code, 0) << output;
    EXPECT_THAT(output, HasSubstr(flag.substr(2, flag.find('=') - 2)))
        << output;
  };
  for (const std::string slots : {"-1", "0", "5000", "many"}) {
    expect_flag_refused("--slots=" + slots);
  }
  for (const std::string queue : {"-1", "65", "lots"}) {
    expect_flag_refused("--queue_per_slot=" + queue);
  }
  EXPECT_EQ(cluster_->GetCluster()->workers_size(), 1);
}

TEST_F(ClusterTest, WorkerRefusesWorkMeantForAnotherAndLeaderCarriesOn) {
  StartWorkers(1, 2);
  const std::string real_address = cluster_->GetCluster()->workers(0).address();
  // A misconfigured registration: id "ghost" advertises worker-1's address.
  quarry::v1::RegisterWorkerRequest request;
  request.set_worker_id("ghost");
  request.set_address(real_address);
  request.set_slots(8);
  quarry::v1::RegisterWorkerResponse response;
  ASSERT_TRUE(
      cluster_->cluster()
          .RegisterWorker(ContextWithDeadline().get(), request, &response)
          .ok());
  JobSpec spec = Spec("noop", {}, "");
  (*spec.mutable_settings())["tasks"] = "40";
  spec.set_max_attempts(1);
  quarry::v1::Job job = RunToDone(spec);
  EXPECT_EQ(job.task_counts().done(), 40);
  auto cluster = cluster_->GetCluster();
  ASSERT_TRUE(cluster.ok());
  for (const auto& worker : cluster->workers()) {
    if (worker.id() == "ghost") {
      EXPECT_NE(worker.status(), quarry::v1::WORKER_STATUS_ALIVE);
    }
  }
}

TEST_F(ClusterTest, HealthAndReflectionAreServedEverywhere) {
  StartWorkers(1, 1);
  const std::string worker_address =
      cluster_->GetCluster()->workers(0).address();
  for (const std::string& address :
       {cluster_->leader_address(), worker_address}) {
    auto channel =
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    auto health = grpc::health::v1::Health::NewStub(channel);
    grpc::health::v1::HealthCheckResponse status;
    ASSERT_TRUE(health->Check(ContextWithDeadline().get(), {}, &status).ok());
    EXPECT_EQ(status.status(), grpc::health::v1::HealthCheckResponse::SERVING);

    auto reflection =
        grpc::reflection::v1alpha::ServerReflection::NewStub(channel);
    auto context = ContextWithDeadline();
    auto stream = reflection->ServerReflectionInfo(context.get());
    grpc::reflection::v1alpha::ServerReflectionRequest list;
    list.set_list_services("");
    ASSERT_TRUE(stream->Write(list));
    // `grpcurl describe` and health checks without .proto files need the
    // descriptors themselves.
    for (const char* symbol :
         {"grpc.health.v1.Health", "quarry.v1.Assignment"}) {
      grpc::reflection::v1alpha::ServerReflectionRequest describe;
      describe.set_file_containing_symbol(symbol);
      ASSERT_TRUE(stream->Write(describe));
    }
    stream->WritesDone();
    grpc::reflection::v1alpha::ServerReflectionResponse reply;
    ASSERT_TRUE(stream->Read(&reply));
    for (int i = 0; i < 2; ++i) {
      grpc::reflection::v1alpha::ServerReflectionResponse described;
      ASSERT_TRUE(stream->Read(&described));
      EXPECT_TRUE(described.has_file_descriptor_response())
          << described.error_response().error_message();
    }
    std::vector<std::string> services;
    for (const auto& service : reply.list_services_response().service()) {
      services.push_back(service.name());
    }
    const std::string expected = address == worker_address
                                     ? "quarry.v1.WorkerService"
                                     : "quarry.v1.JobService";
    EXPECT_THAT(services, ::testing::Contains(expected));
    stream->Finish();
  }
}

TEST_F(ClusterTest, CliRunsAJobAndExitCodesAreTrustworthy) {
  StartWorkers(2, 2);
  const std::string in = cluster_->dir() + "/in";
  const std::vector<std::string> files = WriteCorpus(in, 5);
  const std::string leader = "--leader=" + cluster_->leader_address();
  std::string output;

  absl::StatusOr<int> code = RunCommand(
      {CliBinary(), leader, "submit", "--kind", "wordcount", "--input", in,
       "--output", cluster_->dir() + "/out", "--wait"},
      &output);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(*code, 0) << output;
  EXPECT_THAT(output, HasSubstr("DONE"));
  EXPECT_EQ(ReadFile(cluster_->dir() + "/out/result.tsv"),
            ReferenceWordCount(files));
  const std::string job_id = std::vector<std::string>(
      absl::StrSplit(output, absl::ByAnyChar("\n "), absl::SkipEmpty()))[0];
  EXPECT_EQ(*RunCommand({CliBinary(), leader, "status", job_id}, &output), 0)
      << output;
  EXPECT_EQ(
      *RunCommand({CliBinary(), leader, "--json", "result", job_id}, &output),
      0);
  EXPECT_THAT(output, HasSubstr("result.tsv"));

  code = RunCommand(
      {CliBinary(), leader, "submit", "--kind", "linecount", "--input", in,
       "--output", cluster_->dir() + "/out", "--wait"},
      &output);
  EXPECT_EQ(*code, 3) << output;  // Non-empty output directory: refused.
  EXPECT_THAT(output, HasSubstr("output_dir"));

  // A job cancelled while `submit --wait` follows it: exit 1.
  absl::StatusOr<Subprocess> waiting =
      Subprocess::Start({CliBinary(), leader, "submit", "--kind", "sleep",
                         "--set", "ms=60000", "--set", "tasks=2", "--wait"},
                        cluster_->dir() + "/cli-wait.log");
  ASSERT_TRUE(waiting.ok());
  std::string sleep_job;
  for (int i = 0; i < 500 && sleep_job.empty(); ++i) {  // Bounded: 10 s.
    quarry::v1::ListJobsRequest list;
    list.set_state(quarry::v1::JOB_STATE_RUNNING);
    quarry::v1::ListJobsResponse running;
    ASSERT_TRUE(cluster_->jobs()
                    .ListJobs(ContextWithDeadline().get(), list, &running)
                    .ok());
    if (running.jobs_size() > 0)
      sleep_job = running.jobs(0).id();
    else
      absl::SleepFor(absl::Milliseconds(20));  // Nothing to wait on.
  }
  ASSERT_FALSE(sleep_job.empty())
      << ReadFile(cluster_->dir() + "/cli-wait.log");
  EXPECT_EQ(*RunCommand({CliBinary(), leader, "cancel", sleep_job}, &output), 0)
      << output;
  EXPECT_THAT(output, HasSubstr("CANCELLED"));
  absl::StatusOr<int> waited = waiting->Wait(absl::Seconds(20));
  ASSERT_TRUE(waited.ok());
  EXPECT_EQ(*waited, 1) << ReadFile(cluster_->dir() + "/cli-wait.log");
  EXPECT_EQ(*RunCommand({CliBinary(), leader, "cancel", sleep_job}, &output),
            3);

  // Two jobs never share an output directory, even with overwrite.
  absl::StatusOr<std::string> slow = cluster_->Submit([&] {
    JobSpec spec = Spec("sleep", {}, cluster_->dir() + "/shared");
    (*spec.mutable_settings())["ms"] = "60000";
    (*spec.mutable_settings())["tasks"] = "1";
    return spec;
  }());
  ASSERT_TRUE(slow.ok()) << slow.status();
  code = RunCommand(
      {CliBinary(), leader, "submit", "--kind", "linecount", "--input", in,
       "--output", cluster_->dir() + "/shared", "--overwrite"},
      &output);
  EXPECT_EQ(*code, 3) << output;
  EXPECT_THAT(output, HasSubstr("in use by job " + *slow));
  EXPECT_EQ(*RunCommand({CliBinary(), leader, "cancel", *slow}, &output), 0);
  // A cancelled job leaves nothing behind once its attempts have stopped.
  std::vector<std::string> left = {"?"};
  for (const absl::Time deadline = absl::Now() + absl::Seconds(10);
       !left.empty() && absl::Now() < deadline;) {
    left = ListDir(cluster_->dir() + "/shared");
    if (!left.empty()) absl::SleepFor(absl::Milliseconds(10));  // No event.
  }
  EXPECT_THAT(left, ::testing::IsEmpty());

  EXPECT_EQ(*RunCommand({CliBinary(), leader, "status", "job-999999"}, &output),
            3);
  EXPECT_THAT(output, HasSubstr("NOT_FOUND"));
  EXPECT_EQ(*RunCommand({CliBinary(), leader, "submit", "--kind", "grep",
                         "--input", in, "--set", "novalue"},
                        &output),
            2);
  EXPECT_EQ(
      *RunCommand({CliBinary(), "--leader=127.0.0.1:1", "--timeout=1", "list"},
                  &output),
      4);
}

}  // namespace
}  // namespace quarry::testing

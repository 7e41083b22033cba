#include "worker/worker_server.h"

#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "tests/worker/test_util.h"
#include "tests/worker/worker_server_fixture.h"

namespace quarry::worker {
namespace {

using quarry::v1::AttemptStatus;
using ::testing::HasSubstr;
using testing::MakeAssignment;
using testing::ReadFileOrMissing;
using testing::TempDir;

class WorkerServerTest : public testing::WorkerServerFixture {};

TEST_F(WorkerServerTest, RegistersRunsAWordCountAndReportsIt) {
  StartWorker(LocalConfig());
  EXPECT_EQ(worker_->address(), absl::StrCat("127.0.0.1:", worker_->port()));
  ASSERT_TRUE(leader_->WaitUntil([](const std::vector<Call>& calls, int) {
    return !calls.empty() && calls[0].is_register;
  }));
  const quarry::v1::RegisterWorkerRequest registration =
      leader_->calls()[0].registration;
  EXPECT_EQ(registration.worker_id(), "w-test");
  EXPECT_EQ(registration.address(), worker_->address());
  EXPECT_EQ(registration.slots(), 2);
  EXPECT_EQ(registration.labels().at("zone"), "a");

  TempDir dir;
  const std::string in0 = dir.WriteFile("in0.txt", "To be, or not to be");
  const std::string in1 = dir.WriteFile("in1.txt", "be quick");
  const std::string part0 = dir.Join("part-00000");
  const std::string part1 = dir.Join("part-00001");
  ASSERT_TRUE(
      Start(MakeAssignment("job-000001.0.1", "wordcount", {in0}, part0, {}, 0))
          .ok());
  ASSERT_TRUE(
      Start(MakeAssignment("job-000001.1.1", "wordcount", {in1}, part1, {}, 1))
          .ok());
  AttemptStatus done = WaitForReport("job-000001.0.1");
  EXPECT_EQ(done.status(), quarry::v1::EXECUTION_STATUS_DONE) << done.error();
  EXPECT_EQ(done.summary(), "6 words, 4 distinct");
  EXPECT_EQ(ReadFileOrMissing(part0), "be\t2\nnot\t1\nor\t1\nto\t2\n");
  EXPECT_EQ(done.output_bytes(), 21);
  WaitForReport("job-000001.1.1");

  quarry::v1::Assignment reduce = MakeAssignment(
      "job-000001.2.1", "wordcount", {part0, part1}, dir.Join("result.tsv"));
  reduce.set_is_reduce(true);
  ASSERT_TRUE(Start(reduce).ok());
  done = WaitForReport("job-000001.2.1");
  EXPECT_EQ(done.status(), quarry::v1::EXECUTION_STATUS_DONE) << done.error();
  EXPECT_EQ(done.summary(), "be=3 to=2 not=1 or=1 quick=1");
  EXPECT_EQ(ReadFileOrMissing(dir.Join("result.tsv")),
            "be\t3\nto\t2\nnot\t1\nor\t1\nquick\t1\n");
}

TEST_F(WorkerServerTest, ShutdownReportsRunningAttemptsAsCancelled) {
  StartWorker(LocalConfig());
  ASSERT_TRUE(Start(MakeAssignment("job-000001.0.1", "sleep", {}, "",
                                   {{"ms", "3600000"}}, 0))
                  .ok());
  worker_->Shutdown();
  const AttemptStatus stopped = WaitForReport("job-000001.0.1");
  EXPECT_EQ(stopped.status(), quarry::v1::EXECUTION_STATUS_CANCELLED);
}

TEST_F(WorkerServerTest, DefaultIdIsHostnameAndPort) {
  WorkerConfig config = LocalConfig();
  config.worker_id.clear();
  StartWorker(config);
  EXPECT_EQ(worker_->worker_id(),
            absl::StrCat(Hostname(), "-", worker_->port()));
}

TEST_F(WorkerServerTest, WildcardListenAdvertisesTheHostname) {
  WorkerConfig config = LocalConfig();
  config.listen = "0.0.0.0:0";
  config.insecure = true;  // Not loopback: refused without it.
  StartWorker(config);
  EXPECT_EQ(worker_->address(), absl::StrCat(Hostname(), ":", worker_->port()));

  WorkerConfig advertised = LocalConfig();
  advertised.advertise_host = "worker7.example";
  worker_.reset();
  StartWorker(advertised);
  EXPECT_EQ(worker_->address(),
            absl::StrCat("worker7.example:", worker_->port()));
}

TEST(WorkerConfigTest, ValidatesEveryFlag) {
  WorkerConfig config;
  EXPECT_TRUE(ValidateWorkerConfig(config).ok());
  config.slots = 0;
  EXPECT_THAT(ValidateWorkerConfig(config).message(), HasSubstr("--slots"));
  config.slots = 1025;
  EXPECT_THAT(ValidateWorkerConfig(config).message(), HasSubstr("--slots"));
  config.slots = 1024;
  EXPECT_TRUE(ValidateWorkerConfig(config).ok());
  config.leader = "nowhere";
  EXPECT_THAT(ValidateWorkerConfig(config).message(), HasSubstr("--leader"));
  config.leader = "127.0.0.1:7070";
  config.listen = "127.0.0.1:99999";
  EXPECT_THAT(ValidateWorkerConfig(config).message(), HasSubstr("--listen"));
  config.listen = "127.0.0.1:0";
  config.worker_id = "bad id!";
  EXPECT_THAT(ValidateWorkerConfig(config).message(), HasSubstr("--id"));
  config.worker_id = "";
  config.drain.grace = absl::Seconds(-1);
  EXPECT_THAT(ValidateWorkerConfig(config).message(),
              HasSubstr("--drain_grace"));
  config.drain.grace = absl::ZeroDuration();
  EXPECT_TRUE(ValidateWorkerConfig(config).ok());
  config.attempt_logs.keep = 0;
  EXPECT_THAT(ValidateWorkerConfig(config).message(),
              HasSubstr("--attempt_log_keep"));
  config.attempt_logs.keep = 1;
  EXPECT_TRUE(ValidateWorkerConfig(config).ok());
}

TEST(WorkerConfigTest, ParsesLabels) {
  absl::StatusOr<std::map<std::string, std::string>> labels =
      ParseLabels("zone=a,gpu=none,,empty=");
  ASSERT_TRUE(labels.ok()) << labels.status();
  EXPECT_EQ(*labels, (std::map<std::string, std::string>{
                         {"zone", "a"}, {"gpu", "none"}, {"empty", ""}}));
  EXPECT_TRUE(ParseLabels("")->empty());
  EXPECT_FALSE(ParseLabels("zone").ok());
  EXPECT_FALSE(ParseLabels("=a").ok());
}

}  // namespace
}  // namespace quarry::worker

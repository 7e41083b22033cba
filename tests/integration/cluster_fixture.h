#ifndef QUARRY_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_
#define QUARRY_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/local_cluster.h"

namespace quarry::testing {

// A test with a real leader (started in SetUp) to which the test adds
// workers; TearDown stops every process and fails the test if one did not
// exit cleanly.
class ClusterFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    auto cluster = LocalCluster::Start();
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
  }

  void TearDown() override {
    if (cluster_ != nullptr) {
      absl::Status stopped = cluster_->Shutdown();
      EXPECT_TRUE(stopped.ok()) << stopped;
    }
  }

  // Starts workers "worker-1".."worker-<count>" and waits until they are
  // ALIVE.
  void StartWorkers(int count, int slots) {
    for (int i = 1; i <= count; ++i) {
      ASSERT_TRUE(
          cluster_->StartWorker(absl::StrCat("worker-", i), slots).ok());
    }
    ASSERT_TRUE(cluster_->WaitForAliveWorkers(count).ok());
  }

  // Submits and waits; the job must end DONE.
  quarry::v1::Job RunToDone(const quarry::v1::JobSpec& spec) {
    absl::StatusOr<std::string> id = cluster_->Submit(spec);
    EXPECT_TRUE(id.ok()) << id.status();
    if (!id.ok()) return {};
    absl::StatusOr<quarry::v1::Job> job = cluster_->WaitForJob(*id);
    EXPECT_TRUE(job.ok()) << job.status();
    if (!job.ok()) return {};
    EXPECT_EQ(job->state(), quarry::v1::JOB_STATE_DONE) << job->error() << "\n"
                                                        << cluster_->LogTails();
    return *job;
  }

  std::unique_ptr<LocalCluster> cluster_;
};

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_INTEGRATION_CLUSTER_FIXTURE_H_

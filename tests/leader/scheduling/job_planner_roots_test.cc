// Job planning with --data_root: inputs and the output directory must lie
// beneath the roots by their cleaned text and as resolved, and the leader's
// own walk and output-directory work never follow a symlink out of them.
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/job_kinds.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "leader/control/output_finalizer.h"
#include "leader/scheduling/job_planner.h"
#include "tests/testing/temp_dir.h"

namespace quarry {
namespace {

using ::quarry::testing::ListDir;
using ::quarry::testing::ReadFile;
using ::quarry::testing::TempDir;
using ::quarry::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class JobPlannerRootsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = dir_.Join("data");
    WriteFile(root_ + "/in/a.txt", "a");
    WriteFile(root_ + "/in/sub/b.txt", "b");
    WriteFile(dir_.Join("ro/c.txt"), "c");
    secret_ = dir_.Join("outside/secret");
    WriteFile(secret_, "secret");
    absl::StatusOr<DataRoots> roots =
        DataRoots::Parse({root_, dir_.Join("ro") + ":ro"});
    ASSERT_TRUE(roots.ok()) << roots.status();
    limits_.data_roots = *std::move(roots);
  }

  quarry::v1::JobSpec Spec(const std::string& input, const std::string& out) {
    quarry::v1::JobSpec spec;
    spec.set_kind("linecount");
    spec.add_inputs(input);
    spec.set_output_dir(out);
    return spec;
  }
  absl::StatusOr<JobPlan> Plan(const quarry::v1::JobSpec& spec) {
    return PlanJob(spec, limits_);
  }
  std::string Error(const quarry::v1::JobSpec& spec) {
    absl::StatusOr<JobPlan> plan = Plan(spec);
    EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument)
        << plan.status();
    return std::string(plan.status().message());
  }
  void Symlink(const std::string& target, const std::string& link) {
    ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0) << link;
  }

  TempDir dir_;
  std::string root_;
  std::string secret_;
  PlannerLimits limits_;
};

TEST_F(JobPlannerRootsTest, PlansJobsInsideTheRoots) {
  quarry::v1::JobSpec spec = Spec(root_ + "/in", root_ + "/out");
  spec.add_inputs(dir_.Join("ro"));
  absl::StatusOr<JobPlan> plan = Plan(spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->tasks.map_inputs,
              ElementsAre(root_ + "/in/a.txt", root_ + "/in/sub/b.txt",
                          dir_.Join("ro/c.txt")));
}

TEST_F(JobPlannerRootsTest, RefusesInputsOutsideTheRootsNamingFieldAndRoots) {
  const std::string roots = root_ + ", " + dir_.Join("ro") + ":ro";
  EXPECT_EQ(
      Error(Spec("/etc/shadow", root_ + "/out")),
      "inputs[0] \"/etc/shadow\" is outside the data roots (" + roots + ")");
  EXPECT_EQ(Error(Spec(root_ + "/../outside", root_ + "/out")),
            "inputs[0] \"" + dir_.Join("outside") +
                "\" is outside the data roots (" + roots + ")");
  EXPECT_THAT(Error(Spec(root_ + "2", root_ + "/out")),
              HasSubstr("is outside the data roots"));
}

TEST_F(JobPlannerRootsTest, RefusesASymlinkInTheInputTreeThatLeadsOut) {
  Symlink(secret_, root_ + "/in/sub/leak");
  const std::string error = Error(Spec(root_ + "/in", root_ + "/out"));
  EXPECT_THAT(error,
              HasSubstr("inputs[0]: the symbolic link \"" + root_ +
                        "/in/sub/leak\" leads outside the data root " + root_));
  // Named directly, or through a linked directory, too.
  EXPECT_THAT(Error(Spec(root_ + "/in/sub/leak", root_ + "/out")),
              HasSubstr("leads outside the data root"));
  Symlink(dir_.Join("outside"), root_ + "/linked");
  EXPECT_THAT(Error(Spec(root_ + "/linked/secret", root_ + "/out")),
              HasSubstr("inputs[0] \"" + root_ + "/linked/secret\" leads"));
}

TEST_F(JobPlannerRootsTest, FollowsSymlinksThatStayInsideTheRoot) {
  Symlink("../a.txt", root_ + "/in/sub/again");
  absl::StatusOr<JobPlan> plan = Plan(Spec(root_ + "/in", root_ + "/out"));
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_THAT(plan->tasks.map_inputs,
              ElementsAre(root_ + "/in/a.txt", root_ + "/in/sub/again",
                          root_ + "/in/sub/b.txt"));
}

TEST_F(JobPlannerRootsTest, RefusesOutputsOutsideWritableRoots) {
  EXPECT_THAT(Error(Spec(root_ + "/in", dir_.Join("outside/x"))),
              HasSubstr("output_dir \"" + dir_.Join("outside/x") +
                        "\" is outside the data roots"));
  EXPECT_THAT(Error(Spec(root_ + "/in", dir_.Join("ro/out"))),
              HasSubstr("is under the read-only data root"));
  EXPECT_THAT(Error(Spec(root_ + "/in", root_ + "/../outside/x")),
              HasSubstr("is outside the data roots"));
  Symlink(dir_.Join("outside"), root_ + "/out-link");
  EXPECT_THAT(
      Error(Spec(root_ + "/in", root_ + "/out-link/x")),
      HasSubstr("passes through the symbolic link \"" + root_ + "/out-link\""));
  EXPECT_THAT(ListDir(dir_.Join("outside")), ElementsAre("secret"));
}

TEST_F(JobPlannerRootsTest, AFileAboveTheOutputDirCannotBeCreated) {
  for (const DataRoots& roots : {DataRoots(), limits_.data_roots}) {
    limits_.data_roots = roots;
    const quarry::v1::JobSpec spec =
        Spec(root_ + "/in", root_ + "/in/a.txt/sub");
    absl::StatusOr<JobPlan> plan = Plan(spec);
    ASSERT_TRUE(plan.ok()) << plan.status();
    absl::Status prepared = PrepareOutputDir(plan->spec, roots);
    EXPECT_EQ(prepared.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(prepared.message(), "output_dir \"" + root_ +
                                      "/in/a.txt/sub\" cannot be created: "
                                      "Not a directory");
    EXPECT_THAT(Error(Spec(root_ + "/in", root_ + "/in/a.txt")),
                HasSubstr("exists and is not a directory"));
  }
}

TEST_F(JobPlannerRootsTest, PrepareAndFinalizeNeverFollowPlantedSymlinks) {
  quarry::v1::JobSpec spec = Spec(root_ + "/in", root_ + "/out");
  spec.set_overwrite(true);
  ASSERT_TRUE(PrepareOutputDir(spec, limits_.data_roots).ok());
  // Links planted where Quarry removes its own files.
  Symlink(secret_, root_ + "/out/part-00000");
  Symlink(secret_, root_ + "/out/result.tsv");
  Symlink(dir_.Join("outside"), root_ + "/out/.quarry-staging");
  ASSERT_TRUE(PrepareOutputDir(spec, limits_.data_roots).ok());
  EXPECT_TRUE(ListDir(root_ + "/out").empty());

  Symlink(secret_, root_ + "/out/part-00000");
  Symlink(dir_.Join("outside"), root_ + "/out/.quarry-staging");
  quarry::v1::Job job;
  *job.mutable_spec() = spec;
  job.set_task_count(1);
  job.set_state(quarry::v1::JOB_STATE_CANCELLED);
  StagingDirRemover finalizer(limits_.data_roots);
  ASSERT_TRUE(finalizer.Finalize(job).ok());
  EXPECT_TRUE(ListDir(root_ + "/out").empty());
  EXPECT_EQ(ReadFile(secret_), "secret");
  EXPECT_THAT(ListDir(dir_.Join("outside")), ElementsAre("secret"));

  // An output directory swapped for a link: refused, not followed.
  ASSERT_EQ(rmdir((root_ + "/out").c_str()), 0);
  Symlink(dir_.Join("outside"), root_ + "/out");
  EXPECT_FALSE(PrepareOutputDir(spec, limits_.data_roots).ok());
  EXPECT_FALSE(finalizer.Finalize(job).ok());
  EXPECT_THAT(ListDir(dir_.Join("outside")), ElementsAre("secret"));
}

}  // namespace
}  // namespace quarry

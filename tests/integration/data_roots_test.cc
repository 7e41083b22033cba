// --data_root end to end: a real leader and real workers confined to a
// writable root and a read-only one. Jobs naming paths outside them are
// refused at submission; symlinks planted after submission (before any
// worker runs the tasks) are not followed; nothing outside the roots is
// read or written, which the tests check by contents, mtimes and listings.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/job_kinds.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/integration/test_corpus.h"
#include "tests/testing/local_cluster.h"
#include "tests/testing/temp_dir.h"

namespace quarry::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using JobSpec = quarry::v1::JobSpec;

namespace fs = std::filesystem;

// What lies outside the roots: every file's contents and mtime, by path.
using Tree = std::map<std::string, std::pair<std::string, int64_t>>;
Tree Snapshot(const std::string& dir) {
  Tree tree;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    struct stat info;
    lstat(entry.path().c_str(), &info);
    tree[entry.path().string()] = {
        entry.is_regular_file() ? ReadFile(entry.path().string()) : "<dir>",
        info.st_mtim.tv_sec * 1'000'000'000 + info.st_mtim.tv_nsec};
  }
  return tree;
}

void Symlink(const std::string& target, const std::string& link) {
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0) << link;
}

class DataRootsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Exec commands run as nobody when the tests run as root.
    chmod(dir_.path().c_str(), 0755);
    data_ = dir_.Join("data");
    in_ = dir_.Join("in");
    outside_ = dir_.Join("outside");
    WriteFile(in_ + "/a.txt", "alpha\nbeta\n");
    WriteFile(in_ + "/b.txt", "gamma\n");
    WriteFile(outside_ + "/secret", "SECRET-CONTENTS\n");
    WriteFile(outside_ + "/target", "target stays\n");
    fs::create_directories(outside_ + "/dir");
    fs::create_directories(data_);
    for (const auto& entry : fs::recursive_directory_iterator(dir_.path())) {
      chmod(entry.path().c_str(), entry.is_directory() ? 0755 : 0644);
    }
    // An hour in the past: any write would show in the mtimes.
    for (const auto& entry : fs::recursive_directory_iterator(outside_)) {
      const struct timespec past[2] = {{time(nullptr) - 3600, 0},
                                       {time(nullptr) - 3600, 0}};
      utimensat(AT_FDCWD, entry.path().c_str(), past, AT_SYMLINK_NOFOLLOW);
    }
    outside_before_ = Snapshot(outside_);

    // Repeated on the leader, a comma list on the workers.
    auto cluster = LocalCluster::Start(
        {"--data_root", data_, "--data_root=" + in_ + ":ro"});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    // Ready (its state restored) before any submission; no worker yet.
    ASSERT_TRUE(cluster_->WaitForAliveWorkers(0).ok());
  }

  void TearDown() override {
    if (cluster_ != nullptr) EXPECT_TRUE(cluster_->Shutdown().ok());
    EXPECT_EQ(Snapshot(outside_), outside_before_)
        << "something outside the data roots changed";
  }

  void StartWorkers(int count) {
    for (int i = 1; i <= count; ++i) {
      ASSERT_TRUE(cluster_
                      ->StartWorker(absl::StrCat("worker-", i), 2,
                                    {"--data_root=" + data_ + "," + in_ + ":ro",
                                     "--allow_exec"})
                      .ok());
    }
    ASSERT_TRUE(cluster_->WaitForAliveWorkers(count).ok());
  }

  static JobSpec Spec(const std::string& kind,
                      const std::vector<std::string>& inputs,
                      const std::string& output_dir) {
    JobSpec spec;
    spec.set_kind(kind);
    for (const std::string& input : inputs) spec.add_inputs(input);
    spec.set_output_dir(output_dir);
    spec.set_max_attempts(1);
    return spec;
  }

  // The error of a submission that must be refused as INVALID_ARGUMENT.
  std::string Refused(const JobSpec& spec) {
    absl::StatusOr<std::string> id = cluster_->Submit(spec);
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument)
        << id.status();
    return std::string(id.status().message());
  }

  std::string Submitted(const JobSpec& spec) {
    absl::StatusOr<std::string> id = cluster_->Submit(spec);
    EXPECT_TRUE(id.ok()) << id.status();
    return id.value_or("");
  }

  quarry::v1::Job Finished(const std::string& id) {
    absl::StatusOr<quarry::v1::Job> job = cluster_->WaitForJob(id);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.value_or(quarry::v1::Job());
  }

  TempDir dir_;
  std::string data_, in_, outside_;
  Tree outside_before_;
  std::unique_ptr<LocalCluster> cluster_;
};

TEST_F(DataRootsTest, JobsNamingPathsOutsideTheRootsAreRefused) {
  const std::string roots = data_ + ", " + in_ + ":ro";
  EXPECT_EQ(
      Refused(Spec("linecount", {"/etc/shadow"}, data_ + "/out")),
      "inputs[0] \"/etc/shadow\" is outside the data roots (" + roots + ")");
  // ROOT/../outside is outside once cleaned, though it starts with ROOT.
  EXPECT_EQ(
      Refused(Spec("linecount", {in_, data_ + "/../outside"}, data_ + "/out")),
      "inputs[1] \"" + outside_ + "\" is outside the data roots (" + roots +
          ")");
  EXPECT_THAT(Refused(Spec("linecount", {data_ + "/../etc"}, data_ + "/out")),
              HasSubstr("is outside the data roots"));
  EXPECT_THAT(Refused(Spec("linecount", {in_}, outside_ + "/x")),
              HasSubstr("output_dir \"" + outside_ +
                        "/x\" is outside the data roots (" + roots + ")"));
  EXPECT_THAT(
      Refused(Spec("linecount", {in_}, in_ + "/out")),
      HasSubstr("output_dir \"" + in_ +
                "/out\" is under the read-only data root " + in_ + ":ro"));

  // Symlinks out of a root, in the input tree and as the output directory.
  WriteFile(data_ + "/tree/ok.txt", "ok\n");
  Symlink(outside_ + "/secret", data_ + "/tree/leak");
  EXPECT_THAT(Refused(Spec("linecount", {data_ + "/tree"}, data_ + "/out")),
              HasSubstr("inputs[0]: the symbolic link \"" + data_ +
                        "/tree/leak\" leads outside the data root " + data_));
  Symlink(outside_ + "/dir", data_ + "/out-link");
  EXPECT_THAT(
      Refused(Spec("linecount", {in_}, data_ + "/out-link")),
      HasSubstr("passes through the symbolic link \"" + data_ + "/out-link\""));
  EXPECT_THAT(Refused(Spec("linecount", {in_}, data_ + "/out-link/sub")),
              HasSubstr("passes through the symbolic link"));
  EXPECT_FALSE(fs::exists(data_ + "/out"));  // Nothing was prepared.
}

TEST_F(DataRootsTest, AJobInsideTheRootsGivesExactOutput) {
  StartWorkers(2);
  // A link that stays inside its root is followed.
  Symlink("a.txt", in_ + "/alias");
  const std::vector<std::string> corpus = WriteCorpus(in_ + "/corpus", 9);
  quarry::v1::Job job = Finished(Submitted(
      Spec("linecount", {in_ + "/a.txt", in_ + "/alias", in_ + "/b.txt"},
           data_ + "/lines")));
  ASSERT_EQ(job.state(), quarry::v1::JOB_STATE_DONE) << job.error();
  EXPECT_EQ(ReadFile(data_ + "/lines/part-00000"), in_ + "/a.txt\t2\n");
  EXPECT_EQ(ReadFile(data_ + "/lines/part-00001"), in_ + "/alias\t2\n");
  EXPECT_EQ(ReadFile(data_ + "/lines/part-00002"), in_ + "/b.txt\t1\n");

  // wordcount's reduce reads the parts back from the writable root.
  job =
      Finished(Submitted(Spec("wordcount", {in_ + "/corpus"}, data_ + "/wc")));
  ASSERT_EQ(job.state(), quarry::v1::JOB_STATE_DONE) << job.error();
  EXPECT_EQ(ReadFile(data_ + "/wc/result.tsv"), ReferenceWordCount(corpus));
}

TEST_F(DataRootsTest, SymlinksPlantedAfterSubmissionAreNotFollowed) {
  // Jobs are submitted while no worker runs, links planted, then workers
  // start: every planted link is there before any task runs.
  WriteFile(data_ + "/swap/a.txt", "alpha\n");
  WriteFile(data_ + "/swap/b.txt", "beta\n");
  const std::string input_swapped =
      Submitted(Spec("linecount", {data_ + "/swap"}, data_ + "/out-input"));
  WriteFile(data_ + "/exec-in/e.txt", "exec input\n");
  JobSpec exec = Spec("exec", {data_ + "/exec-in/e.txt"}, data_ + "/out-exec");
  for (const char* word : {"cat", "{input}"}) exec.add_command(word);
  const std::string exec_swapped = Submitted(exec);
  const std::string part_planted =
      Submitted(Spec("linecount", {in_ + "/a.txt"}, data_ + "/out-part"));
  const std::string staging_planted =
      Submitted(Spec("linecount", {in_ + "/a.txt"}, data_ + "/out-staging"));
  const std::string dir_swapped =
      Submitted(Spec("linecount", {in_ + "/a.txt"}, data_ + "/out-dir"));

  ASSERT_EQ(unlink((data_ + "/swap/b.txt").c_str()), 0);
  Symlink(outside_ + "/secret", data_ + "/swap/b.txt");
  ASSERT_EQ(unlink((data_ + "/exec-in/e.txt").c_str()), 0);
  Symlink("../../outside/secret", data_ + "/exec-in/e.txt");
  Symlink(outside_ + "/target", data_ + "/out-part/part-00000");
  Symlink(outside_ + "/dir", data_ + "/out-staging/.quarry-staging");
  ASSERT_EQ(rmdir((data_ + "/out-dir").c_str()), 0);
  Symlink(outside_ + "/dir", data_ + "/out-dir");

  StartWorkers(2);
  quarry::v1::Job job = Finished(input_swapped);
  EXPECT_EQ(job.state(), quarry::v1::JOB_STATE_FAILED);
  EXPECT_THAT(job.error(), HasSubstr("\"" + data_ +
                                     "/swap/b.txt\" leads "
                                     "outside the data root " +
                                     data_));
  job = Finished(exec_swapped);
  EXPECT_EQ(job.state(), quarry::v1::JOB_STATE_FAILED);
  EXPECT_THAT(job.error(), HasSubstr(data_ + "/exec-in/e.txt\" leads outside"));
  EXPECT_FALSE(fs::exists(data_ + "/out-exec/part-00000"));

  // The link at the output path is replaced by the committed file.
  job = Finished(part_planted);
  EXPECT_EQ(job.state(), quarry::v1::JOB_STATE_DONE) << job.error();
  EXPECT_FALSE(fs::is_symlink(data_ + "/out-part/part-00000"));
  EXPECT_EQ(ReadFile(data_ + "/out-part/part-00000"), in_ + "/a.txt\t2\n");

  job = Finished(staging_planted);
  EXPECT_EQ(job.state(), quarry::v1::JOB_STATE_FAILED);
  EXPECT_THAT(job.error(), HasSubstr(".quarry-staging\" is a symbolic link"));
  job = Finished(dir_swapped);
  EXPECT_EQ(job.state(), quarry::v1::JOB_STATE_FAILED);
  EXPECT_THAT(job.error(), HasSubstr("passes through the symbolic link \"" +
                                     data_ + "/out-dir\""));

  // Nothing of the secret reached any output.
  for (const auto& entry : fs::recursive_directory_iterator(data_)) {
    if (!entry.is_symlink() && entry.is_regular_file()) {
      EXPECT_THAT(ReadFile(entry.path().string()),
                  Not(HasSubstr("SECRET-CONTENTS")))
          << entry.path();
    }
  }
  EXPECT_THAT(cluster_->LogTails(), Not(HasSubstr("SECRET-CONTENTS")));
}

}  // namespace
}  // namespace quarry::testing

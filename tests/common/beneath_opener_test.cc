#include "common/beneath_opener.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "common/dir_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;
using testing::ReadFile;
using testing::TempDir;
using ::testing::UnorderedElementsAre;

// The contents of the file open as `fd`.
std::string ReadFd(int fd) {
  std::string contents;
  char buffer[256];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) contents.append(buffer, n);
  return contents;
}

void Symlink(const std::string& target, const std::string& link) {
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0) << link;
}

// A root with data, a read-only root, and secrets outside both. Every
// case runs with openat2 (kAuto on this kernel) and with the per-component
// fallback used where the kernel lacks it.
class BeneathOpenerTest : public ::testing::TestWithParam<Resolver> {
 protected:
  void SetUp() override {
    root_ = dir_.Join("root");
    ro_ = dir_.Join("ro");
    outside_ = dir_.Join("outside");
    dir_.WriteFile("root/in/a.txt", "a");
    dir_.WriteFile("root/other/b.txt", "b");
    dir_.WriteFile("ro/c.txt", "c");
    dir_.WriteFile("outside/secret", "secret");
    dir_.WriteFile("root2/d.txt", "d");  // The prefix trick.
    mkdir(dir_.Join("root/out").c_str(), 0755);
    absl::StatusOr<DataRoots> roots =
        DataRoots::Parse({root_ + "," + ro_ + ":ro"});
    ASSERT_TRUE(roots.ok()) << roots.status();
    roots_ = *std::move(roots);
  }

  bool FollowsLinks() const { return GetParam() == Resolver::kAuto; }
  BeneathOpener Opener() const { return BeneathOpener(roots_, GetParam()); }

  absl::Status Input(const std::string& path) const {
    return Opener().OpenInput(path).status();
  }

  TempDir dir_;
  std::string root_, ro_, outside_;
  DataRoots roots_;
};

INSTANTIATE_TEST_SUITE_P(Resolvers, BeneathOpenerTest,
                         ::testing::Values(Resolver::kAuto,
                                           Resolver::kPerComponent),
                         [](const auto& info) {
                           return info.param == Resolver::kAuto
                                      ? std::string("Openat2")
                                      : std::string("PerComponent");
                         });

TEST_P(BeneathOpenerTest, OpensInputsBeneathTheirRoot) {
  absl::StatusOr<ScopedFd> fd = Opener().OpenInput(root_ + "/in/a.txt");
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(ReadFd(fd->get()), "a");
  EXPECT_TRUE(Input(ro_ + "/c.txt").ok());
  EXPECT_TRUE(Opener().OpenInput(root_ + "/in", O_PATH | O_DIRECTORY).ok());
  EXPECT_TRUE(Input(root_ + "//in/./a.txt").ok());
  EXPECT_EQ(Input(root_ + "/in/none").code(), absl::StatusCode::kNotFound);
}

TEST_P(BeneathOpenerTest, RefusesInputsOutsideTheRootsByTheirText) {
  for (const std::string& path :
       {outside_ + "/secret", root_ + "/../outside/secret",
        dir_.Join("root2/d.txt"), std::string("/etc/shadow")}) {
    absl::Status status = Input(path);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_THAT(status.message(), HasSubstr("is outside the data roots (" +
                                            root_ + ", " + ro_ + ":ro)"));
  }
  EXPECT_THAT(Input("relative/a.txt").message(),
              HasSubstr("is not an absolute path"));
}

TEST_P(BeneathOpenerTest, RefusesSymlinksLeadingOutOfTheRoot) {
  Symlink(outside_ + "/secret", root_ + "/in/absolute");
  Symlink("../../outside/secret", root_ + "/in/relative");
  Symlink(outside_, root_ + "/in/dir");
  Symlink("/proc/self/root" + outside_ + "/secret", root_ + "/in/proc");
  for (const std::string& name :
       {"absolute", "relative", "dir/secret", "proc"}) {
    const std::string path = root_ + "/in/" + name;
    absl::Status status = Input(path);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << path;
    EXPECT_THAT(status.message(), HasSubstr("input \"" + path + "\""));
    EXPECT_THAT(status.message(), HasSubstr(root_));
  }
  EXPECT_THAT(Input(root_ + "/in/relative").message(),
              HasSubstr(FollowsLinks() ? "leads outside the data root"
                                       : "passes through the symbolic link"));
}

TEST_P(BeneathOpenerTest, FollowsLinksThatStayBeneathTheRootWithOpenat2Only) {
  Symlink("../other/b.txt", root_ + "/in/to-b");
  Symlink("../other", root_ + "/in/other");
  for (const std::string& path :
       {root_ + "/in/to-b", root_ + "/in/other/b.txt"}) {
    absl::StatusOr<ScopedFd> fd = Opener().OpenInput(path);
    if (FollowsLinks()) {
      ASSERT_TRUE(fd.ok()) << fd.status();
      EXPECT_EQ(ReadFd(fd->get()), "b");
    } else {
      EXPECT_EQ(fd.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(fd.status().message(),
                  HasSubstr("without openat2 (Linux 5.6+)"));
    }
  }
}

TEST_P(BeneathOpenerTest, OpensAndCreatesOutputDirectoriesUnderWritableRoots) {
  EXPECT_TRUE(Opener().OpenOutputDir(root_ + "/out").ok());
  EXPECT_TRUE(Opener().OpenOutputDir(root_).ok());  // The top level too.
  EXPECT_EQ(Opener().OpenOutputDir(root_ + "/new").status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<ScopedFd> made =
      Opener().OpenOutputDir(root_ + "/new/deep/er", /*create=*/true);
  ASSERT_TRUE(made.ok()) << made.status();
  struct stat info;
  EXPECT_EQ(stat((root_ + "/new/deep/er").c_str(), &info), 0);

  absl::Status read_only = Opener().OpenOutputDir(ro_ + "/x", true).status();
  EXPECT_EQ(read_only.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(read_only.message(), HasSubstr("read-only data root"));
  EXPECT_THAT(Opener().OpenOutputDir(outside_, true).status().message(),
              HasSubstr("is outside the data roots"));
  EXPECT_THAT(Opener().OpenOutputDir(root_ + "/in/a.txt").status().message(),
              HasSubstr("Not a directory"));
}

TEST_P(BeneathOpenerTest, NeverOpensOrCreatesAnOutputDirectoryThroughASymlink) {
  Symlink(outside_, root_ + "/out-link");
  Symlink("out", root_ + "/inside-link");  // Even one that stays inside.
  for (const std::string& path :
       {root_ + "/out-link", root_ + "/out-link/new", root_ + "/inside-link"}) {
    for (const bool create : {false, true}) {
      absl::Status status = Opener().OpenOutputDir(path, create).status();
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << path;
      EXPECT_THAT(status.message(),
                  HasSubstr("passes through the symbolic link"));
      EXPECT_THAT(status.message(), HasSubstr("-link\""));
    }
  }
  EXPECT_THAT(testing::ListDir(outside_), UnorderedElementsAre("secret"));
}

TEST_P(BeneathOpenerTest, WithoutRootsOpensAsOpenDoes) {
  Symlink(outside_ + "/secret", root_ + "/in/absolute");
  Symlink(outside_, root_ + "/out-link");
  const BeneathOpener open_anywhere(DataRoots(), GetParam());
  absl::StatusOr<ScopedFd> fd = open_anywhere.OpenInput(root_ + "/in/absolute");
  ASSERT_TRUE(fd.ok()) << fd.status();
  EXPECT_EQ(ReadFd(fd->get()), "secret");
  EXPECT_TRUE(open_anywhere.OpenOutputDir(root_ + "/out-link").ok());
  EXPECT_TRUE(open_anywhere.OpenOutputDir(root_ + "/out-link/made", true).ok());
  EXPECT_EQ(ReadFile(outside_ + "/secret"), "secret");
  struct stat info;
  EXPECT_EQ(stat((outside_ + "/made").c_str(), &info), 0);
}

TEST_P(BeneathOpenerTest, OpenBeneathRefusesUncleanRelativePaths) {
  ScopedFd root(open(root_.c_str(), O_PATH | O_DIRECTORY));
  for (const std::string& relative :
       {"../outside/secret", "/etc/passwd", "in/../../outside/secret"}) {
    errno = 0;
    EXPECT_EQ(OpenBeneath(root.get(), relative, O_RDONLY,
                          Symlinks::kStayBeneath, GetParam()),
              -1)
        << relative;
    EXPECT_EQ(errno, EXDEV) << relative;
  }
  ScopedFd self(
      OpenBeneath(root.get(), ".", O_PATH, Symlinks::kRefuse, GetParam()));
  EXPECT_TRUE(self.valid());
}

TEST(DirFdTest, RemoveTreeAtNeverFollowsSymlinks) {
  TempDir dir;
  dir.WriteFile("outside/keep", "keep");
  dir.WriteFile("work/tree/file", "x");
  dir.WriteFile("work/tree/sub/file", "y");
  Symlink(dir.Join("outside"), dir.Join("work/tree/link-dir"));
  Symlink(dir.Join("outside/keep"), dir.Join("work/tree/sub/link-file"));
  Symlink(dir.Join("outside"), dir.Join("work/top-link"));
  ScopedFd work(open(dir.Join("work").c_str(), O_RDONLY | O_DIRECTORY));
  absl::StatusOr<std::vector<std::string>> names = ListDirectory(work.get());
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_THAT(*names, UnorderedElementsAre("tree", "top-link"));

  ASSERT_TRUE(RemoveTreeAt(work.get(), "tree").ok());
  ASSERT_TRUE(RemoveTreeAt(work.get(), "top-link").ok());  // The link only.
  ASSERT_TRUE(RemoveTreeAt(work.get(), "absent").ok());
  EXPECT_TRUE(testing::ListDir(dir.Join("work")).empty());
  EXPECT_EQ(ReadFile(dir.Join("outside/keep")), "keep");
}

}  // namespace
}  // namespace quarry

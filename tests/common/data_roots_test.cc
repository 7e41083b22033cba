#include "common/data_roots.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace quarry {
namespace {

using ::testing::HasSubstr;

DataRoots Parsed(const std::vector<std::string>& values) {
  absl::StatusOr<DataRoots> roots = DataRoots::Parse(values);
  EXPECT_TRUE(roots.ok()) << roots.status();
  return roots.ok() ? *std::move(roots) : DataRoots();
}

TEST(DataRootsTest, ParsesRepeatedValuesCommaListsAndReadOnlySuffix) {
  const DataRoots roots =
      Parsed({"/srv/data", " /srv/in:ro , /srv/scratch/ ,", "/srv/data"});
  ASSERT_EQ(roots.roots().size(), 3u);
  EXPECT_EQ(roots.roots()[0].path, "/srv/data");
  EXPECT_FALSE(roots.roots()[0].read_only);
  EXPECT_EQ(roots.roots()[1].path, "/srv/in");
  EXPECT_TRUE(roots.roots()[1].read_only);
  EXPECT_EQ(roots.roots()[2].path, "/srv/scratch");  // Trailing '/' gone.
  EXPECT_EQ(roots.ToString(), "/srv/data, /srv/in:ro, /srv/scratch");
}

TEST(DataRootsTest, NoValueOrBlankValuesMeanNoRoots) {
  EXPECT_TRUE(Parsed({}).empty());
  EXPECT_TRUE(Parsed({""}).empty());
  EXPECT_TRUE(Parsed({" , "}).empty());
  EXPECT_EQ(DataRoots().ToString(), "none");
}

TEST(DataRootsTest, RootsAreCleanedLexically) {
  const DataRoots roots = Parsed({"/srv//./data/../in/", "/"});
  EXPECT_EQ(roots.roots()[0].path, "/srv/in");
  EXPECT_EQ(roots.roots()[1].path, "/");
}

TEST(DataRootsTest, RefusesBadValuesNamingThem) {
  for (const auto& [value, error] :
       std::vector<std::pair<std::string, std::string>>{
           {"data", "--data_root \"data\" is not an absolute directory"},
           {"./data:ro", "--data_root \"./data:ro\" is not an absolute"},
           {":ro", "--data_root \":ro\" is not an absolute"},
           {"/a,relative", "--data_root \"relative\" is not an absolute"},
           {std::string("/a\0b", 4), "contains a NUL byte"},
       }) {
    absl::StatusOr<DataRoots> roots = DataRoots::Parse({value});
    ASSERT_FALSE(roots.ok()) << value;
    EXPECT_EQ(roots.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(roots.status().message(), HasSubstr(error));
  }
  absl::StatusOr<DataRoots> both = DataRoots::Parse({"/srv/in", "/srv/in/:ro"});
  EXPECT_THAT(both.status().message(),
              HasSubstr("/srv/in is given both read-only (:ro) and writable"));
}

TEST(DataRootsTest, ContainmentIsByWholeComponents) {
  const DataRoots roots = Parsed({"/srv/data"});
  EXPECT_NE(roots.RootOf("/srv/data"), nullptr);
  EXPECT_NE(roots.RootOf("/srv/data/a/b.txt"), nullptr);
  // The prefix trick: "/srv/data2" starts with "/srv/data" but is not in it.
  EXPECT_EQ(roots.RootOf("/srv/data2"), nullptr);
  EXPECT_EQ(roots.RootOf("/srv/data2/x"), nullptr);
  EXPECT_EQ(roots.RootOf("/srv/dat"), nullptr);
  EXPECT_EQ(roots.RootOf("/srv"), nullptr);
  EXPECT_EQ(roots.RootOf("/"), nullptr);
  EXPECT_NE(Parsed({"/"}).RootOf("/etc/shadow"), nullptr);
}

TEST(DataRootsTest, InputsAreCheckedAfterLexicalCleaning) {
  const DataRoots roots = Parsed({"/srv/data", "/srv/in:ro"});
  EXPECT_TRUE(roots.CheckInput("inputs[0]", "/srv/in/a.txt").ok());
  EXPECT_TRUE(roots.CheckInput("inputs[0]", "/srv/data").ok());
  absl::Status outside = roots.CheckInput("inputs[0]", "/etc/shadow");
  EXPECT_EQ(outside.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(outside.message(),
            "inputs[0] \"/etc/shadow\" is outside the data roots (/srv/data, "
            "/srv/in:ro)");
  // Callers clean first: ROOT/../etc is /srv/etc, outside.
  EXPECT_EQ(CleanAbsolutePath("/srv/data/../etc"), "/srv/etc");
  EXPECT_FALSE(
      roots.CheckInput("inputs[1]", CleanAbsolutePath("/srv/data/../etc"))
          .ok());
  EXPECT_TRUE(DataRoots().CheckInput("inputs[0]", "/etc/shadow").ok());
}

TEST(DataRootsTest, OutputsNeedAWritableRootAndTheInnermostRootGoverns) {
  const DataRoots roots = Parsed({"/srv/in:ro", "/data", "/data/ref:ro"});
  EXPECT_TRUE(roots.CheckOutput("output_dir", "/data/out").ok());
  EXPECT_TRUE(roots.CheckOutput("output_dir", "/data").ok());
  absl::Status read_only = roots.CheckOutput("output_dir", "/srv/in/out");
  EXPECT_EQ(read_only.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(read_only.message(),
            "output_dir \"/srv/in/out\" is under the read-only data root "
            "/srv/in:ro (inputs only; writable roots: /data)");
  // /data/ref:ro inside the writable /data: its own rule wins.
  EXPECT_FALSE(roots.CheckOutput("output_dir", "/data/ref/x").ok());
  EXPECT_TRUE(roots.CheckOutput("output_dir", "/data/refs").ok());
  EXPECT_THAT(roots.CheckOutput("output_dir", "/etc/x").message(),
              HasSubstr("output_dir \"/etc/x\" is outside the data roots"));
  EXPECT_THAT(Parsed({"/in:ro"}).CheckOutput("output_dir", "/in/x").message(),
              HasSubstr("writable roots: none"));
  EXPECT_TRUE(DataRoots().CheckOutput("output_dir", "/etc/x").ok());
}

TEST(DataRootsTest, PathsBelowTheirRoot) {
  EXPECT_EQ(PathBelowRoot({"/srv", false}, "/srv/a/b"), "a/b");
  EXPECT_EQ(PathBelowRoot({"/srv", false}, "/srv"), ".");
  EXPECT_EQ(PathBelowRoot({"/", false}, "/etc"), "etc");
  EXPECT_EQ(PathBelowRoot({"/", false}, "/"), ".");
  EXPECT_EQ(CleanAbsolutePath("/../../x//y/."), "/x/y");
  EXPECT_EQ(CleanAbsolutePath("/"), "/");
}

TEST(DataRootsTest, RootsMustExistAsDirectories) {
  testing::TempDir dir;
  const std::string file = dir.WriteFile("file", "x");
  EXPECT_TRUE(Parsed({dir.path()}).CheckDirectoriesExist().ok());
  absl::Status missing =
      Parsed({dir.Join("absent") + ":ro"}).CheckDirectoriesExist();
  EXPECT_EQ(missing.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(missing.message(), HasSubstr("absent:ro: No such file"));
  EXPECT_THAT(Parsed({file}).CheckDirectoriesExist().message(),
              HasSubstr("is not a directory"));
}

}  // namespace
}  // namespace quarry

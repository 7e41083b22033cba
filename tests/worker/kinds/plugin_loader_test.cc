// The plugin loader with real shared objects: the example byte-histogram
// plugin and the broken ones of tests/worker/plugins/bad_plugins.c.
#include "worker/kinds/plugin_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/worker/kinds/kind_test_util.h"
#include "tests/worker/test_util.h"
#include "worker/kinds/kind_registry.h"

namespace quarry::worker {
namespace {

namespace fs = std::filesystem;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::KindRun;
using testing::MakeAssignment;
using testing::RunKind;
using testing::TempDir;

std::string ExamplePlugin() {
  return absl::StrCat(QUARRY_EXAMPLE_PLUGIN_DIR, "/byte_histogram.so");
}
std::string BadPlugin(const std::string& name) {
  return absl::StrCat(QUARRY_TEST_PLUGIN_DIR, "/bad_", name, ".so");
}

class PluginLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.Join("plugins");
    fs::create_directory(dir_);
    chmod(dir_.c_str(), 0755);
  }

  // Copies `from` into the plugin directory as `name`, mode 0755.
  std::string Install(const std::string& from, const std::string& name) {
    const std::string to = absl::StrCat(dir_, "/", name);
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
    chmod(to.c_str(), 0755);
    return to;
  }

  PluginLoadResult Load() { return LoadPlugins(dir_, *registry_); }

  // The single refusal of `result`, which must name `file`.
  std::string OnlyRefusal(const PluginLoadResult& result,
                          const std::string& file) {
    EXPECT_EQ(result.refused.size(), 1u);
    if (result.refused.empty()) return "";
    EXPECT_THAT(result.refused[0], HasSubstr(file));
    return result.refused[0];
  }

  TempDir temp_;
  std::string dir_;
  std::unique_ptr<KindRegistry> registry_ = NewBuiltInKindRegistry();
};

TEST_F(PluginLoaderTest, LoadsTheExamplePluginAndListsItsKind) {
  Install(ExamplePlugin(), "byte_histogram.so");
  PluginLoadResult result = Load();
  EXPECT_THAT(result.refused, IsEmpty());
  ASSERT_EQ(result.kinds.size(), 1u);
  const quarry::v1::KindDescription& kind = result.kinds[0];
  EXPECT_EQ(kind.name(), "byte-histogram");
  EXPECT_TRUE(kind.has_reduce());
  EXPECT_TRUE(kind.needs_inputs());
  ASSERT_EQ(kind.settings_size(), 1);
  EXPECT_EQ(kind.settings(0).name(), "min_count");
  EXPECT_EQ(kind.settings(0).type(), quarry::v1::SETTING_TYPE_INTEGER);
  EXPECT_THAT(registry_->Names(), Contains("byte-histogram"));
  EXPECT_THAT(registry_->Names(), Contains("wordcount"));

  // Its map and reduce run through the registry.
  const std::string input = temp_.WriteFile("in.txt", "abca");
  absl::StatusOr<const JobKind*> map = registry_->Find("byte-histogram", false);
  ASSERT_TRUE(map.ok()) << map.status();
  KindRun run = RunKind(
      **map, MakeAssignment("job-000001.0.1", "byte-histogram", {input}));
  ASSERT_TRUE(run.status.ok()) << run.status;
  std::vector<std::string> lines = absl::StrSplit(run.output, '\n');
  ASSERT_EQ(lines.size(), 257u);  // 256 lines and the final "".
  EXPECT_EQ(lines[0], "0\t0");
  EXPECT_EQ(lines['a'], "97\t2");
  EXPECT_EQ(lines['c'], "99\t1");
  EXPECT_EQ(run.summary, "4 bytes");

  const std::string part = temp_.WriteFile("part-00000", run.output);
  absl::StatusOr<const JobKind*> reduce =
      registry_->Find("byte-histogram", true);
  ASSERT_TRUE(reduce.ok()) << reduce.status();
  run =
      RunKind(**reduce, MakeAssignment("job-000001.1.1", "byte-histogram",
                                       {part, part}, "", {{"min_count", "1"}}));
  ASSERT_TRUE(run.status.ok()) << run.status;
  EXPECT_EQ(run.output, "97\t4\n98\t2\n99\t2\n");
  EXPECT_EQ(run.summary, "8 bytes in 2 parts");
}

TEST_F(PluginLoaderTest, WrongAbiIsRefusedNamingTheFileAndTheOthersLoad) {
  Install(BadPlugin("abi"), "bad_abi.so");
  Install(ExamplePlugin(), "byte_histogram.so");
  PluginLoadResult result = Load();
  ASSERT_EQ(result.kinds.size(), 1u);
  EXPECT_EQ(result.kinds[0].name(), "byte-histogram");
  EXPECT_THAT(OnlyRefusal(result, "bad_abi.so"),
              HasSubstr("ABI version 99, this worker supports version 1"));
  EXPECT_FALSE(registry_->Find("broken", false).ok());
}

TEST_F(PluginLoaderTest, BrokenTablesAreRefusedWithTheReason) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"no_symbol", "no symbol quarry_plugin_v1"},
      {"builtin", "\"wordcount\" is a built-in kind"},
      {"name", "kinds[0].name \"Bad Name\" must match [a-z][a-z0-9_-]{0,63}"},
      {"no_map", "kinds[0].map is null"},
      {"null_table", "quarry_plugin_v1() returned null"},
      {"setting",
       "kinds[0].settings[0].min_value (10) is greater than "
       "max_value (1)"},
  };
  for (const auto& [name, reason] : cases) {
    SCOPED_TRACE(name);
    // A name of its own: dlopen would reuse an object of the same name.
    const std::string file =
        Install(BadPlugin(name), absl::StrCat("bad_", name, ".so"));
    PluginLoadResult result = Load();
    EXPECT_THAT(result.kinds, IsEmpty());
    EXPECT_THAT(OnlyRefusal(result, file), HasSubstr(reason));
    fs::remove(file);
  }
  EXPECT_FALSE(registry_->Find("broken", false).ok());
  ASSERT_TRUE(registry_->Find("wordcount", false).ok());
}

TEST_F(PluginLoaderTest, DuplicateKindIsRefused) {
  Install(ExamplePlugin(), "a.so");
  const std::string second = Install(ExamplePlugin(), "b.so");
  PluginLoadResult result = Load();
  ASSERT_EQ(result.kinds.size(), 1u);
  EXPECT_THAT(OnlyRefusal(result, second),
              HasSubstr("kind \"byte-histogram\" is already provided by " +
                        dir_ + "/a.so"));
}

TEST_F(PluginLoaderTest, GroupOrWorldWritableFileIsRefused) {
  const std::string file = Install(ExamplePlugin(), "byte_histogram.so");
  chmod(file.c_str(), 0757);
  PluginLoadResult result = Load();
  EXPECT_THAT(result.kinds, IsEmpty());
  EXPECT_THAT(OnlyRefusal(result, file),
              HasSubstr("writable by group or others (mode 0757)"));
  chmod(file.c_str(), 0775);
  EXPECT_THAT(OnlyRefusal(Load(), file), HasSubstr("(mode 0775)"));
}

TEST_F(PluginLoaderTest, WorldWritableDirectoryIsRefusedAsAWhole) {
  Install(ExamplePlugin(), "byte_histogram.so");
  chmod(dir_.c_str(), 0777);
  PluginLoadResult result = Load();
  EXPECT_THAT(result.kinds, IsEmpty());
  EXPECT_THAT(OnlyRefusal(result, dir_),
              HasSubstr("the directory is writable by group or others"));
  EXPECT_FALSE(registry_->Find("byte-histogram", false).ok());
}

TEST_F(PluginLoaderTest, MissingDirectoryLoadsNothing) {
  PluginLoadResult result = LoadPlugins(temp_.Join("nosuch"), *registry_);
  EXPECT_THAT(result.kinds, IsEmpty());
  EXPECT_THAT(OnlyRefusal(result, "nosuch"),
              HasSubstr("cannot read the directory"));
}

TEST_F(PluginLoaderTest, OnlyRegularSoFilesDirectlyInTheDirectory) {
  // A symbolic link to a plugin elsewhere is followed.
  const std::string elsewhere = temp_.Join("elsewhere.so");
  fs::copy_file(ExamplePlugin(), elsewhere);
  chmod(elsewhere.c_str(), 0755);
  fs::create_symlink(elsewhere, dir_ + "/linked.so");
  // Not loaded: another suffix, a subdirectory's file.
  Install(ExamplePlugin(), "byte_histogram.so.disabled");
  fs::create_directory(dir_ + "/sub");
  fs::copy_file(ExamplePlugin(), dir_ + "/sub/nested.so");
  // Refused: a link to a directory, a dangling link, not a shared object.
  fs::create_directory_symlink(dir_ + "/sub", dir_ + "/dir.so");
  fs::create_symlink(temp_.Join("missing"), dir_ + "/dangling.so");
  temp_.WriteFile("plugins/junk.so", "not an ELF file");
  chmod((dir_ + "/junk.so").c_str(), 0644);

  PluginLoadResult result = Load();
  ASSERT_EQ(result.kinds.size(), 1u);
  EXPECT_EQ(result.kinds[0].name(), "byte-histogram");
  ASSERT_EQ(result.refused.size(), 3u);
  EXPECT_THAT(result.refused[0], HasSubstr("dangling.so: cannot resolve"));
  EXPECT_THAT(result.refused[1], HasSubstr("dir.so: "));
  EXPECT_THAT(result.refused[1], HasSubstr("not a regular file"));
  EXPECT_THAT(result.refused[2], HasSubstr("junk.so: dlopen failed"));
}

}  // namespace
}  // namespace quarry::worker

#include "leader/scheduling/job_planner.h"

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/job_kinds.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace quarry {
namespace {

namespace fs = std::filesystem;
using ::quarry::testing::TempDir;
using ::quarry::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class JobPlannerTest : public ::testing::Test {
 protected:
  quarry::v1::JobSpec Spec(const std::string& kind) {
    quarry::v1::JobSpec spec;
    spec.set_kind(kind);
    spec.add_inputs(dir_.path() + "/in");
    spec.set_output_dir(dir_.path() + "/out");
    return spec;
  }
  void SetUp() override {
    WriteFile(dir_.path() + "/in/b.txt", "b");
    WriteFile(dir_.path() + "/in/a.txt", "a");
    WriteFile(dir_.path() + "/in/sub/c.txt", "c");
  }
  // The error of planning `spec` (which must fail).
  absl::Status Error(const quarry::v1::JobSpec& spec) {
    absl::StatusOr<JobPlan> plan = PlanJob(spec);
    EXPECT_FALSE(plan.ok());
    return plan.status();
  }
  TempDir dir_;
};

TEST_F(JobPlannerTest, ExpandsDirectoriesRecursivelyInSortedOrder) {
  absl::StatusOr<JobPlan> plan = PlanJob(Spec("linecount"));
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::vector<quarry::v1::Task> tasks = plan->tasks.MakeTasks();
  ASSERT_EQ(tasks.size(), 3u);
  const std::string in = dir_.path() + "/in/";
  EXPECT_EQ(tasks[0].inputs(0), in + "a.txt");
  EXPECT_EQ(tasks[1].inputs(0), in + "b.txt");
  EXPECT_EQ(tasks[2].inputs(0), in + "sub/c.txt");
  EXPECT_EQ(tasks[2].output_path(), dir_.path() + "/out/part-00002");
  EXPECT_EQ(tasks[2].index(), 2);
  EXPECT_FALSE(tasks[2].is_reduce());
  EXPECT_EQ(plan->spec.max_attempts(), 3);
}

TEST_F(JobPlannerTest, WordcountGetsAReduceTaskLast) {
  quarry::v1::JobSpec spec = Spec("wordcount");
  spec.add_inputs(dir_.path() + "/in/a.txt");  // A duplicate is dropped.
  absl::StatusOr<JobPlan> plan = PlanJob(spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::vector<quarry::v1::Task> tasks = plan->tasks.MakeTasks();
  ASSERT_EQ(tasks.size(), 4u);
  const quarry::v1::Task& reduce = tasks[3];
  EXPECT_TRUE(reduce.is_reduce());
  EXPECT_EQ(reduce.output_path(), dir_.path() + "/out/result.tsv");
  ASSERT_EQ(reduce.inputs_size(), 3);
  EXPECT_EQ(reduce.inputs(2), dir_.path() + "/out/part-00002");
  // The plan read back from stored tasks is the same plan.
  const TaskPlan again = TaskPlan::FromTasks(tasks, plan->tasks.output_dir);
  EXPECT_EQ(again.map_inputs, plan->tasks.map_inputs);
  EXPECT_EQ(again.map_count, 3);
  EXPECT_TRUE(again.has_reduce);
}

TEST_F(JobPlannerTest, BytesPerTaskPacksSmallFilesInOrder) {
  // In path order: a.txt 1, b.txt 1, big.txt 10, d.txt 3, sub/c.txt 3
  // bytes.
  WriteFile(dir_.path() + "/in/big.txt", std::string(10, 'x'));
  WriteFile(dir_.path() + "/in/d.txt", "ddd");
  WriteFile(dir_.path() + "/in/sub/c.txt", "ccc");
  quarry::v1::JobSpec spec = Spec("wordcount");
  spec.set_bytes_per_task(5);
  absl::StatusOr<JobPlan> plan = PlanJob(spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  const std::vector<quarry::v1::Task> tasks = plan->tasks.MakeTasks();
  // [a b] [big] [d] [sub/c]: a packet never exceeds 5 bytes unless it is
  // one file alone; the reduce comes last.
  ASSERT_EQ(tasks.size(), 5u);
  const std::string in = dir_.path() + "/in/";
  EXPECT_THAT(tasks[0].inputs(), ElementsAre(in + "a.txt", in + "b.txt"));
  EXPECT_THAT(tasks[1].inputs(), ElementsAre(in + "big.txt"));
  EXPECT_THAT(tasks[2].inputs(), ElementsAre(in + "d.txt"));
  EXPECT_THAT(tasks[3].inputs(), ElementsAre(in + "sub/c.txt"));
  EXPECT_TRUE(tasks[4].is_reduce());
  EXPECT_EQ(tasks[4].inputs_size(), 4);
  EXPECT_EQ(plan->tasks.DescribeInputs(0), "2 files from " + in + "a.txt");
  EXPECT_EQ(plan->tasks.DescribeInputs(1), in + "big.txt");
  // The plan read back from stored tasks is the same plan.
  const TaskPlan again = TaskPlan::FromTasks(tasks, plan->tasks.output_dir);
  EXPECT_EQ(again.map_inputs, plan->tasks.map_inputs);
  EXPECT_EQ(again.map_starts, plan->tasks.map_starts);
  EXPECT_EQ(again.map_count, 4);

  // Room for everything: one task (and the reduce).
  spec.set_bytes_per_task(1 << 20);
  plan = PlanJob(spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->tasks.task_count(), 2);
  // Too small to pack anything: the plain one-file-per-task layout.
  spec.set_bytes_per_task(1);
  plan = PlanJob(spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->tasks.map_count, 5);
  EXPECT_TRUE(plan->tasks.map_starts.empty());
}

TEST_F(JobPlannerTest, BadBytesPerTaskIsRefused) {
  quarry::v1::JobSpec spec = Spec("linecount");
  for (int64_t bad : {int64_t{-1}, (int64_t{1} << 40) + 1}) {
    spec.set_bytes_per_task(bad);
    const absl::Status error = Error(spec);
    EXPECT_EQ(error.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(error.message(), HasSubstr("bytes_per_task"));
  }
  quarry::v1::JobSpec noop;
  noop.set_kind("noop");
  (*noop.mutable_settings())["tasks"] = "7";
  noop.set_bytes_per_task(100);
  EXPECT_THAT(Error(noop).message(), HasSubstr("bytes_per_task"));
}

// A negative task_timeout used to be taken, silently meaning "no limit".
TEST_F(JobPlannerTest, BadTaskTimeoutIsRefusedNamingTheField) {
  quarry::v1::JobSpec spec = Spec("linecount");
  const std::pair<int64_t, int32_t> bad[] = {
      {-1, 0}, {0, -1}, {1, 1'000'000'000}, {315'576'000'001, 0}};
  for (const auto& [seconds, nanos] : bad) {
    spec.mutable_task_timeout()->set_seconds(seconds);
    spec.mutable_task_timeout()->set_nanos(nanos);
    const absl::Status error = Error(spec);
    EXPECT_EQ(error.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(error.message(), "task_timeout")) << error;
  }
  spec.mutable_task_timeout()->set_seconds(30);
  spec.mutable_task_timeout()->set_nanos(500'000'000);
  EXPECT_TRUE(PlanJob(spec).ok());
}

// An input of "/" used to make the leader walk the whole filesystem (on
// this machine /proc's churn happened to end it; /usr took 8 s and made a
// job of every file).
TEST_F(JobPlannerTest, AWalkThatTakesTooLongIsRefusedNamingTheInput) {
  PlannerLimits limits;
  limits.max_walk_time = absl::ZeroDuration();
  const absl::StatusOr<JobPlan> plan = PlanJob(Spec("linecount"), limits);
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("inputs[0] \"" + dir_.path() +
                        "/in\": the walk of the inputs took too long"));
  // A single file needs no walk.
  quarry::v1::JobSpec one_file = Spec("linecount");
  one_file.set_inputs(0, dir_.path() + "/in/a.txt");
  EXPECT_TRUE(PlanJob(one_file, limits).ok());
}

TEST_F(JobPlannerTest, NoopNeedsNeitherInputsNorOutput) {
  quarry::v1::JobSpec spec;
  spec.set_kind("noop");
  (*spec.mutable_settings())["tasks"] = "7";
  absl::StatusOr<JobPlan> plan = PlanJob(spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->tasks.task_count(), 7);
  EXPECT_TRUE(plan->tasks.map_inputs.empty());
  const std::vector<quarry::v1::Task> tasks = plan->tasks.MakeTasks();
  ASSERT_EQ(tasks.size(), 7u);
  EXPECT_EQ(tasks[0].output_path(), "");
  EXPECT_EQ(tasks[0].inputs_size(), 0);
}

TEST_F(JobPlannerTest, BadInputIsRefusedNamingTheField) {
  quarry::v1::JobSpec spec = Spec("nope");
  EXPECT_THAT(Error(spec).message(), HasSubstr("kind \"nope\" is unknown"));
  spec = Spec("");
  EXPECT_THAT(Error(spec).message(), HasSubstr("kind is required"));

  spec = Spec("linecount");
  spec.clear_inputs();
  EXPECT_THAT(Error(spec).message(), HasSubstr("inputs is required"));
  spec.add_inputs("");
  EXPECT_THAT(Error(spec).message(), HasSubstr("inputs[0] is empty"));
  spec.set_inputs(0, dir_.path() + "/missing");
  EXPECT_EQ(Error(spec).code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Error(spec).message(), HasSubstr("inputs[0]"));
  spec.set_inputs(0, "relative/path");
  EXPECT_THAT(Error(spec).message(), HasSubstr("absolute"));
  fs::create_directories(dir_.path() + "/empty");
  spec.set_inputs(0, dir_.path() + "/empty");
  EXPECT_THAT(Error(spec).message(), HasSubstr("no regular file"));

  spec = Spec("linecount");
  spec.set_output_dir(dir_.path() + "/in/a.txt");
  EXPECT_THAT(Error(spec).message(), HasSubstr("not a directory"));
  spec.set_output_dir(dir_.path() + "/in");
  EXPECT_THAT(Error(spec).message(), HasSubstr("is not empty"));
  spec.set_overwrite(true);
  EXPECT_TRUE(PlanJob(spec).ok());

  spec = Spec("grep");
  EXPECT_THAT(Error(spec).message(), HasSubstr("settings.pattern is required"));
  (*spec.mutable_settings())["pattern"] = "(unclosed";
  EXPECT_THAT(Error(spec).message(), HasSubstr("settings.pattern"));
  spec = Spec("linecount");
  (*spec.mutable_settings())["colour"] = "blue";
  EXPECT_THAT(Error(spec).message(), HasSubstr("settings.colour"));

  spec = Spec("linecount");
  spec.set_max_attempts(-1);
  EXPECT_THAT(Error(spec).message(), HasSubstr("max_attempts"));
  spec = Spec("sleep");
  (*spec.mutable_settings())["ms"] = "-5";
  EXPECT_THAT(Error(spec).message(), HasSubstr("settings.ms"));
  spec = Spec("noop");
  spec.clear_inputs();
  (*spec.mutable_settings())["tasks"] = "99999999999";
  EXPECT_THAT(Error(spec).message(), HasSubstr("settings.tasks"));
}

TEST_F(JobPlannerTest, PrepareOutputDirCreatesAndOverwritesOnlyOurFiles) {
  quarry::v1::JobSpec spec = Spec("linecount");
  spec.set_output_dir(dir_.path() + "/new/out");
  ASSERT_TRUE(PrepareOutputDir(spec, DataRoots()).ok());
  EXPECT_TRUE(fs::is_directory(spec.output_dir()));

  WriteFile(spec.output_dir() + "/part-00009", "old");
  WriteFile(spec.output_dir() + "/result.tsv", "old");
  WriteFile(spec.output_dir() + "/notes.txt", "mine");
  spec.set_overwrite(true);
  ASSERT_TRUE(PrepareOutputDir(spec, DataRoots()).ok());
  std::vector<std::string> left;
  for (const auto& entry : fs::directory_iterator(spec.output_dir())) {
    left.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(left, ElementsAre("notes.txt"));
}

TEST_F(JobPlannerTest, ExecRunsACommandPerFileOrPerArrayIndex) {
  quarry::v1::JobSpec spec = Spec("exec");
  spec.add_command("sh");
  spec.add_command("-c");
  spec.add_command("cat {input} > {output}");
  (*spec.mutable_env())["MODE"] = "fast";
  absl::StatusOr<JobPlan> plan = PlanJob(spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->tasks.task_count(), 3);
  EXPECT_FALSE(plan->tasks.has_reduce);

  quarry::v1::JobSpec array;
  array.set_kind("exec");
  array.add_command("true");
  (*array.mutable_settings())["tasks"] = "1000000";
  plan = PlanJob(array);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->tasks.task_count(), 1'000'000);
  EXPECT_TRUE(plan->tasks.output_dir.empty());  // Output is optional.
  (*array.mutable_settings())["tasks"] = "1000001";
  EXPECT_THAT(Error(array).message(),
              HasSubstr("settings.tasks must be an integer in [1, 1000000]"));
}

TEST_F(JobPlannerTest, ExecCommandAndEnvAreCheckedNamingTheField) {
  quarry::v1::JobSpec spec = Spec("exec");
  EXPECT_THAT(Error(spec).message(), HasSubstr("command is required"));
  spec.add_command("cat");
  spec.add_command("{file}");
  EXPECT_THAT(Error(spec).message(),
              HasSubstr("command[1]: unknown placeholder {file}"));
  spec.set_command(1, "{input}");
  (*spec.mutable_env())["1BAD"] = "x";
  EXPECT_THAT(Error(spec).message(), HasSubstr("is not a variable name"));
  spec.mutable_env()->clear();
  (*spec.mutable_env())["QUARRY_JOB_ID"] = "x";
  EXPECT_THAT(Error(spec).message(),
              HasSubstr("env.QUARRY_JOB_ID: QUARRY_* variables are set by"));
  spec.mutable_env()->clear();
  (*spec.mutable_settings())["kill_grace"] = "soon";
  EXPECT_THAT(Error(spec).message(),
              HasSubstr("settings.kill_grace must be a duration"));
  (*spec.mutable_settings())["kill_grace"] = "2s";
  EXPECT_TRUE(PlanJob(spec).ok());

  // Other kinds run their own code: a command is refused, not ignored.
  quarry::v1::JobSpec grep = Spec("grep");
  (*grep.mutable_settings())["pattern"] = "x";
  grep.add_command("rm");
  EXPECT_THAT(Error(grep).message(),
              HasSubstr("command is for kind exec only; kind grep"));
}

TEST_F(JobPlannerTest, AnExecReduceIsTheLastTaskWritingResult) {
  quarry::v1::JobSpec spec = Spec("exec");
  spec.add_command("cat");
  spec.add_command("{input}");
  spec.set_reduce("cat {parts} > {output}");
  absl::StatusOr<JobPlan> plan = PlanJob(spec);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->tasks.task_count(), 4);
  EXPECT_TRUE(plan->tasks.is_reduce(3));
  EXPECT_EQ(plan->tasks.OutputPath(3), dir_.path() + "/out/result");
  // A job read back from the store keeps the name.
  const TaskPlan adopted =
      TaskPlan::FromTasks(plan->tasks.MakeTasks(), plan->tasks.output_dir);
  EXPECT_EQ(adopted.OutputPath(3), dir_.path() + "/out/result");

  spec.set_reduce("sort {input}");
  EXPECT_THAT(Error(spec).message(),
              HasSubstr("reduce: unknown placeholder {input}"));
  spec.set_reduce("cat {parts}");
  spec.clear_output_dir();
  EXPECT_THAT(Error(spec).message(),
              HasSubstr("output_dir is required with reduce"));

  quarry::v1::JobSpec grep = Spec("grep");
  (*grep.mutable_settings())["pattern"] = "x";
  grep.set_reduce("cat {parts}");
  EXPECT_THAT(Error(grep).message(),
              HasSubstr("reduce is for kind exec only; kind grep"));
}

TEST_F(JobPlannerTest, OversizedRequestsAreRefusedNamingTheField) {
  quarry::v1::JobSpec spec = Spec("linecount");
  for (int i = 0; i < kMaxInputEntries; ++i) spec.add_inputs(spec.inputs(0));
  EXPECT_THAT(Error(spec).message(),
              HasSubstr("inputs has 100001 entries, more than 100000"));
  spec = Spec("grep");
  (*spec.mutable_settings())["pattern"] = std::string(70 * 1024, 'x');
  EXPECT_THAT(Error(spec).message(),
              HasSubstr("settings hold 71687 bytes, more than 65536"));
  spec = Spec("grep");
  for (int i = 0; i < 300; ++i) {
    (*spec.mutable_settings())[absl::StrCat("k", i)] = "v";
  }
  EXPECT_THAT(Error(spec).message(),
              HasSubstr("settings has 300 entries, more than 256"));
}

TEST_F(JobPlannerTest, ExecLimitsAreCheckedNamingTheField) {
  quarry::v1::JobSpec spec = Spec("exec");
  spec.add_command("true");
  auto& settings = *spec.mutable_settings();
  for (const char* size : {"lots", "512X", "-1M", "1.5G", " 1M", "15M", "17T",
                           "99999999999999999999G", "9999999999T", ""}) {
    settings["memory"] = size;
    EXPECT_THAT(Error(spec).message(),
                HasSubstr(absl::StrCat("settings.memory must be a size such "
                                       "as 512M in [16M, 16T], got \"",
                                       size, "\"")));
  }
  for (const char* size : {"512M", "512m", "1g", "16384K", "16T"}) {
    settings["memory"] = size;
    EXPECT_TRUE(PlanJob(spec).ok()) << size;
  }
  settings["max_output"] = "1P";
  EXPECT_THAT(Error(spec).message(),
              HasSubstr("settings.max_output must be a size such as 512M in "
                        "[1K, 16T], got \"1P\""));
  settings["max_output"] = "1000";
  EXPECT_THAT(Error(spec).message(), HasSubstr("settings.max_output"));
  settings["max_output"] = "1024";
  EXPECT_TRUE(PlanJob(spec).ok());
  for (const char* duration : {"10", "500ms", "721h", "soon", "-1m"}) {
    settings["cpu_time"] = duration;
    EXPECT_THAT(Error(spec).message(),
                HasSubstr(absl::StrCat("settings.cpu_time must be a duration "
                                       "in [1s, 720h] such as 5s, got \"",
                                       duration, "\"")));
  }
  settings["cpu_time"] = "10m";
  EXPECT_TRUE(PlanJob(spec).ok());

  // Other kinds do not take them.
  quarry::v1::JobSpec noop = Spec("noop");
  (*noop.mutable_settings())["memory"] = "512M";
  EXPECT_THAT(Error(noop).message(),
              HasSubstr("settings.memory: unknown setting for kind noop"));
}

TEST_F(JobPlannerTest, ByteSizesParseAndFormat) {
  int64_t bytes = 0;
  ASSERT_TRUE(ParseByteSize("512M", &bytes));
  EXPECT_EQ(bytes, int64_t{512} << 20);
  ASSERT_TRUE(ParseByteSize("7", &bytes));
  EXPECT_EQ(bytes, 7);
  ASSERT_TRUE(ParseByteSize("2t", &bytes));
  EXPECT_EQ(bytes, int64_t{2} << 40);
  ASSERT_TRUE(ParseByteSize("8388607T", &bytes));  // The largest in T.
  EXPECT_FALSE(ParseByteSize("8388608T", &bytes));
  EXPECT_FALSE(ParseByteSize("M", &bytes));
  EXPECT_FALSE(ParseByteSize("+5", &bytes));
  EXPECT_FALSE(ParseByteSize("5MB", &bytes));
  EXPECT_EQ(FormatByteSize(int64_t{512} << 20), "512M");
  EXPECT_EQ(FormatByteSize(1536), "1536");  // 1.5K: not a whole multiple.
  EXPECT_EQ(FormatByteSize(1000), "1000");
  EXPECT_EQ(FormatByteSize(int64_t{1} << 50), "1024T");
  EXPECT_EQ(FormatByteSize(0), "0");
}

// A lookup that knows one plugin kind besides the built-ins.
class PluginLookup : public KindLookup {
 public:
  std::optional<KindSpec> Find(absl::string_view name) const override {
    if (name != "histo") return BuiltInKinds().Find(name);
    KindSpec kind;
    kind.name = "histo";
    kind.has_reduce = true;
    kind.settings = {{"min_count", SettingType::kInteger, false, 0, 9, "min"},
                     DelaySetting()};
    return kind;
  }
  std::string Names() const override { return "histo, " + KindNames(); }
};

TEST_F(JobPlannerTest, PluginKindsComeFromTheLookup) {
  const PluginLookup lookup;
  quarry::v1::JobSpec spec = Spec("histo");
  // Unknown to the built-in catalog, listed with the lookup's names.
  EXPECT_THAT(Error(spec).message(),
              HasSubstr("kind \"histo\" is unknown: neither built in nor "
                        "offered by a registered worker (one of: exec,"));
  absl::StatusOr<JobPlan> plan = PlanJob(spec, {}, &lookup);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->tasks.task_count(), 4);  // Three files and the reduce.
  EXPECT_TRUE(plan->tasks.MakeTasks().back().is_reduce());

  (*spec.mutable_settings())["min_count"] = "10";
  plan = PlanJob(spec, {}, &lookup);
  EXPECT_THAT(plan.status().message(),
              HasSubstr("settings.min_count must be an integer in [0, 9]"));
  spec.set_kind("nope");
  plan = PlanJob(spec, {}, &lookup);
  EXPECT_THAT(plan.status().message(), HasSubstr("(one of: histo, exec,"));
}

}  // namespace
}  // namespace quarry

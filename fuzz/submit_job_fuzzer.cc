// fuzz_submit_job: what SubmitJob does with a hostile JobSpec before it
// stores anything. The first byte picks the shape of the input:
//   0  the rest is a JobSpec in protobuf binary (as on the wire);
//   1  a JobSpec built field by field (JobSpecBuilder);
//   2  a plugin KindDescription, then a JobSpec that may use that kind
//      (the leader's check of a registration, then of a submission);
//   3  exec command and reduce templates alone.
// Each goes through the leader's code (PlanJob: kind, settings, sizes,
// command, env, reduce, task_timeout, paths, the walk of the inputs, the
// output directory; KindSpecFromDescription; ValidateCommand and the
// template expansions) and CHECKs what must hold: errors are
// INVALID_ARGUMENT or NOT_FOUND and start with the field they name; a plan
// has tasks within the limits, only paths inside the private tree, a
// consistent packing, and round-trips through its tasks; a validated
// command always expands, and uses a placeholder exactly when its value
// changes the result. Paths are confined to a FuzzTree: nothing outside it
// is read, and nothing at all is written.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "common/command_template.h"
#include "common/job_kinds.h"
#include "common/kind_description.h"
#include "fuzz/fuzz_tree.h"
#include "fuzz/job_spec_builder.h"
#include "fuzz/template_oracles.h"
#include "glog/logging.h"
#include "leader/scheduling/job_planner.h"

namespace quarry::fuzz {
namespace {

using quarry::v1::JobSpec;

// The built-in kinds plus, if given, one plugin kind.
class FuzzKinds : public KindLookup {
 public:
  explicit FuzzKinds(std::optional<KindSpec> plugin)
      : plugin_(std::move(plugin)) {}
  std::optional<KindSpec> Find(absl::string_view name) const override {
    if (plugin_.has_value() && plugin_->name == name) return plugin_;
    return BuiltInKinds().Find(name);
  }
  std::string Names() const override {
    std::string names = BuiltInKinds().Names();
    if (plugin_.has_value()) names += ", " + plugin_->name;
    return names;
  }

 private:
  const std::optional<KindSpec> plugin_;
};

std::vector<std::string> KindNamesOf(const std::optional<KindSpec>& plugin) {
  std::vector<std::string> names;
  for (const KindSpec& kind : AllKinds()) names.push_back(kind.name);
  if (plugin.has_value()) names.push_back(plugin->name);
  names.push_back("");
  return names;
}

// The fields a planner error may start with.
bool NamesAField(absl::string_view message) {
  static constexpr absl::string_view kFields[] = {
      "kind",    "inputs",       "settings",       "command",
      "env",     "reduce",       "max_attempts",   "bytes_per_task",
      "output_dir", "task_timeout"};
  return std::any_of(std::begin(kFields), std::end(kFields),
                     [message](absl::string_view field) {
                       return absl::StartsWith(message, field);
                     });
}

// A plan's packing and tasks, against what the planner promises.
void CheckTasks(const TaskPlan& tasks, const PlannerLimits& limits,
                const FuzzTree& tree) {
  CHECK_GE(tasks.map_count, 1);
  CHECK_LE(tasks.map_count, limits.max_tasks);
  CHECK(std::is_sorted(tasks.map_inputs.begin(), tasks.map_inputs.end()));
  CHECK(std::adjacent_find(tasks.map_inputs.begin(), tasks.map_inputs.end()) ==
        tasks.map_inputs.end())
      << "duplicate input";
  for (const std::string& file : tasks.map_inputs) {
    CHECK(tree.Contains(file)) << file;
  }
  if (tasks.map_starts.empty()) {
    CHECK(tasks.map_inputs.empty() ||
          tasks.map_inputs.size() == static_cast<size_t>(tasks.map_count));
  } else {
    CHECK_EQ(tasks.map_starts.size(), static_cast<size_t>(tasks.map_count) + 1);
    CHECK_EQ(tasks.map_starts.front(), 0);
    CHECK_EQ(static_cast<size_t>(tasks.map_starts.back()),
             tasks.map_inputs.size());
    CHECK(std::adjacent_find(tasks.map_starts.begin(), tasks.map_starts.end(),
                             [](int32_t a, int32_t b) { return a >= b; }) ==
          tasks.map_starts.end())
        << "empty or backward packet";
  }
  if (!tasks.output_dir.empty()) CHECK(tree.Contains(tasks.output_dir));
  // The store keeps tasks, a restarted leader rebuilds the plan from them.
  if (tasks.task_count() > 256) return;
  const TaskPlan back =
      TaskPlan::FromTasks(tasks.MakeTasks(), tasks.output_dir);
  CHECK_EQ(back.map_count, tasks.map_count);
  CHECK(back.map_inputs == tasks.map_inputs);
  CHECK(back.map_starts == tasks.map_starts);
  CHECK_EQ(back.has_reduce, tasks.has_reduce);
  for (int32_t i = 0; i < tasks.task_count(); ++i) {
    CHECK_EQ(back.OutputPath(i), tasks.OutputPath(i));
  }
}

void PlanAndCheck(const JobSpec& spec, const PlannerLimits& limits,
                  const KindLookup& kinds, const FuzzTree& tree) {
  const absl::StatusOr<JobPlan> plan = PlanJob(spec, limits, &kinds);
  if (!plan.ok()) {
    const absl::Status& status = plan.status();
    CHECK(absl::IsInvalidArgument(status) || absl::IsNotFound(status))
        << status;
    CHECK(NamesAField(status.message())) << status;
    return;
  }
  const JobSpec& planned = plan->spec;
  CHECK(kinds.Find(planned.kind()).has_value());
  CHECK_GE(planned.max_attempts(), 1);
  CHECK_LE(planned.max_attempts(), limits.max_attempts);
  CHECK_GE(planned.bytes_per_task(), 0);
  CHECK_GE(planned.task_timeout().seconds(), 0);
  CHECK_GE(planned.task_timeout().nanos(), 0);
  for (const std::string& input : planned.inputs()) {
    CHECK(tree.Contains(input)) << input;
  }
  CheckTasks(plan->tasks, limits, tree);
  if (planned.kind() == kExecKind) {
    CheckCommandOracles(planned.command());
    if (!planned.reduce().empty()) CheckReduceOracles(planned.reduce());
  } else {
    CHECK(planned.command().empty() && planned.env().empty() &&
          planned.reduce().empty());
  }
}

// The leader's check of a plugin kind's description; a valid one must
// describe itself again the same way.
std::optional<KindSpec> CheckDescription(
    const quarry::v1::KindDescription& description) {
  absl::StatusOr<KindSpec> spec = KindSpecFromDescription(description);
  if (!spec.ok()) {
    CHECK(absl::IsInvalidArgument(spec.status())) << spec.status();
    CHECK(!spec.status().message().empty());
    return std::nullopt;
  }
  const quarry::v1::KindDescription described = DescribeKind(*spec);
  absl::StatusOr<KindSpec> again = KindSpecFromDescription(described);
  CHECK(again.ok()) << again.status();
  CHECK_EQ(DescribeKind(*again).SerializeAsString(),
           described.SerializeAsString());
  return *std::move(spec);
}

// Mode 0: a JobSpec as the wire carries it, its paths moved into the tree.
void FuzzWireSpec(const uint8_t* data, size_t size, const FuzzTree& tree) {
  JobSpec spec;
  if (!spec.ParseFromArray(data, static_cast<int>(size))) return;
  for (std::string& input : *spec.mutable_inputs()) {
    input = tree.Confine(input);
  }
  spec.set_output_dir(tree.Confine(spec.output_dir()));
  PlanAndCheck(spec, PlannerLimits{}, FuzzKinds(std::nullopt), tree);
}

}  // namespace
}  // namespace quarry::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace quarry::fuzz;
  const FuzzTree& tree = FuzzTree::Get();
  if (size == 0) return 0;
  const uint8_t mode = data[0] % 4;
  if (mode == 0) {
    FuzzWireSpec(data + 1, size - 1, tree);
    return 0;
  }
  FuzzedDataProvider provider(data + 1, size - 1);
  std::optional<quarry::KindSpec> plugin;
  if (mode == 2) {
    JobSpecBuilder describer(provider, tree, {});
    plugin = CheckDescription(describer.Description());
  }
  JobSpecBuilder builder(provider, tree, KindNamesOf(plugin));
  if (mode == 3) {
    google::protobuf::RepeatedPtrField<std::string> command;
    const int args = provider.ConsumeIntegralInRange<int>(0, 4);
    for (int i = 0; i < args; ++i) command.Add(builder.Template());
    CheckCommandOracles(command);
    CheckReduceOracles(builder.Template());
    return 0;
  }
  const quarry::PlannerLimits limits = builder.Limits();
  PlanAndCheck(builder.Spec(), limits, FuzzKinds(plugin), tree);
  return 0;
}

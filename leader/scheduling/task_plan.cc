#include "leader/scheduling/task_plan.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace quarry {
namespace {

std::string JoinPath(const std::string& dir, absl::string_view name) {
  if (absl::EndsWith(dir, "/")) return absl::StrCat(dir, name);
  return absl::StrCat(dir, "/", name);
}

}  // namespace

std::string TaskPlan::OutputPath(int32_t index) const {
  if (output_dir.empty()) return "";
  if (is_reduce(index)) return JoinPath(output_dir, result_name);
  return JoinPath(output_dir, PartFileName(index));
}

void TaskPlan::AddInputs(
    int32_t index,
    google::protobuf::RepeatedPtrField<std::string>* inputs) const {
  if (is_reduce(index)) {
    inputs->Reserve(inputs->size() + map_count);
    for (int32_t i = 0; i < map_count; ++i) inputs->Add(OutputPath(i));
  } else if (!map_starts.empty()) {
    for (int32_t i = map_starts[index]; i < map_starts[index + 1]; ++i) {
      inputs->Add()->assign(map_inputs[i]);
    }
  } else if (!map_inputs.empty()) {
    inputs->Add()->assign(map_inputs[index]);
  }
}

std::string TaskPlan::DescribeInputs(int32_t index) const {
  if (is_reduce(index) || map_inputs.empty()) return "";
  if (map_starts.empty()) return map_inputs[index];
  const int32_t first = map_starts[index];
  const int32_t count = map_starts[index + 1] - first;
  if (count == 1) return map_inputs[first];
  return absl::StrCat(count, " files from ", map_inputs[first]);
}

quarry::v1::Task TaskPlan::MakeTask(int32_t index) const {
  quarry::v1::Task task;
  task.set_index(index);
  AddInputs(index, task.mutable_inputs());
  if (!output_dir.empty()) task.set_output_path(OutputPath(index));
  if (is_reduce(index)) task.set_is_reduce(true);
  task.set_status(quarry::v1::EXECUTION_STATUS_PENDING);
  return task;
}

std::vector<quarry::v1::Task> TaskPlan::MakeTasks() const {
  std::vector<quarry::v1::Task> tasks;
  tasks.reserve(task_count());
  for (int32_t i = 0; i < task_count(); ++i) tasks.push_back(MakeTask(i));
  return tasks;
}

TaskPlan TaskPlan::FromTasks(const std::vector<quarry::v1::Task>& tasks,
                             const std::string& output_dir) {
  TaskPlan plan;
  plan.output_dir = output_dir;
  plan.has_reduce = !tasks.empty() && tasks.back().is_reduce();
  if (plan.has_reduce && !tasks.back().output_path().empty()) {
    const std::string& path = tasks.back().output_path();
    plan.result_name = path.substr(path.rfind('/') + 1);
  }
  plan.map_count =
      static_cast<int32_t>(tasks.size()) - (plan.has_reduce ? 1 : 0);
  bool any_input = false;
  bool packed = false;
  for (int32_t i = 0; i < plan.map_count; ++i) {
    any_input |= !tasks[i].inputs().empty();
    packed |= tasks[i].inputs_size() > 1;
  }
  if (packed) {
    plan.map_starts.reserve(plan.map_count + 1);
    for (int32_t i = 0; i < plan.map_count; ++i) {
      plan.map_starts.push_back(static_cast<int32_t>(plan.map_inputs.size()));
      for (const std::string& input : tasks[i].inputs()) {
        plan.map_inputs.push_back(input);
      }
    }
    plan.map_starts.push_back(static_cast<int32_t>(plan.map_inputs.size()));
  } else if (any_input) {
    plan.map_inputs.reserve(plan.map_count);
    for (int32_t i = 0; i < plan.map_count; ++i) {
      plan.map_inputs.push_back(tasks[i].inputs().empty() ? std::string()
                                                          : tasks[i].inputs(0));
    }
  }
  return plan;
}

}  // namespace quarry

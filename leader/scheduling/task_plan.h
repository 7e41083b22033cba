#ifndef QUARRY_LEADER_SCHEDULING_TASK_PLAN_H_
#define QUARRY_LEADER_SCHEDULING_TASK_PLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "common/job_kinds.h"
#include "quarry/v1/types.pb.h"

namespace quarry {

// The fixed part of a job's tasks (what each reads and writes), without a
// proto per task, so a job of a million tasks costs a few bytes per task:
// map task i reads map_inputs[i] (nothing when map_inputs is empty, e.g. a
// `noop` job of settings.tasks), or, when the files are packed
// (JobSpec.bytes_per_task), map_inputs[map_starts[i] .. map_starts[i+1]);
// it writes <output_dir>/part-NNNNN (nothing when output_dir is empty); the
// reduce task, if any, comes last, reads every map output and writes
// <output_dir>/<result_name> (result.tsv; an exec job's reduce: result). Immutable once planned; a plain value, safe to
// read from any thread.
struct TaskPlan {
  int32_t map_count = 0;
  std::vector<std::string> map_inputs;  // Empty, or every input path.
  // Empty: one input per map task. Else map_count + 1 offsets into
  // map_inputs, from 0 to map_inputs.size().
  std::vector<int32_t> map_starts;
  std::string output_dir;  // Empty: tasks write nothing.
  bool has_reduce = false;
  std::string result_name = std::string(kResultFileName);

  int32_t task_count() const { return map_count + (has_reduce ? 1 : 0); }
  bool is_reduce(int32_t index) const {
    return has_reduce && index == map_count;
  }
  // The final output path of task `index`, empty when it writes nothing.
  std::string OutputPath(int32_t index) const;
  // Appends the inputs of task `index`.
  void AddInputs(int32_t index,
                 google::protobuf::RepeatedPtrField<std::string>* inputs) const;
  // What map task `index` reads, for messages: its file, "N files from
  // FIRST", or "" when it reads nothing.
  std::string DescribeInputs(int32_t index) const;
  // Task `index` as first stored: its fixed fields, PENDING.
  quarry::v1::Task MakeTask(int32_t index) const;
  // Every task, for the store (once per job).
  std::vector<quarry::v1::Task> MakeTasks() const;

  // The plan that produced `tasks` (ordered by index, as stored), e.g. to
  // adopt a job read back from the store. INVALID_ARGUMENT-free: tasks that
  // do not follow the planner's layout are the caller's bug.
  static TaskPlan FromTasks(const std::vector<quarry::v1::Task>& tasks,
                            const std::string& output_dir);
};

}  // namespace quarry

#endif  // QUARRY_LEADER_SCHEDULING_TASK_PLAN_H_

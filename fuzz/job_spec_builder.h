#ifndef QUARRY_FUZZ_JOB_SPEC_BUILDER_H_
#define QUARRY_FUZZ_JOB_SPEC_BUILDER_H_

#include <fuzzer/FuzzedDataProvider.h>

#include <string>
#include <vector>

#include "fuzz/fuzz_tree.h"
#include "leader/scheduling/job_planner.h"
#include "quarry/v1/types.pb.h"

namespace quarry::fuzz {

// Builds JobSpecs (and planner limits, and plugin kind descriptions) from
// fuzzer bytes, field by field: each value is either picked from the names
// that matter (kinds, setting names, placeholders, paths of the FuzzTree,
// edge numbers) or free bytes, so that most inputs get past the first
// checks and reach the deep ones. Paths are confined to `tree`.
class JobSpecBuilder {
 public:
  JobSpecBuilder(FuzzedDataProvider& data, const FuzzTree& tree,
                 std::vector<std::string> kind_names)
      : data_(data), tree_(tree), kind_names_(std::move(kind_names)) {}

  quarry::v1::JobSpec Spec();
  PlannerLimits Limits();
  quarry::v1::KindDescription Description();

  // One exec command argument or reduce command: text mixed with
  // placeholders (known and unknown) and braces.
  std::string Template();

 private:
  // Free bytes, at most `max` of them.
  std::string Bytes(size_t max = 64);
  // One of `choices`, or (sometimes) free bytes.
  std::string PickOr(const std::vector<std::string>& choices);
  std::string Path();
  std::string SettingValue();
  int64_t EdgeInt();

  FuzzedDataProvider& data_;
  const FuzzTree& tree_;
  const std::vector<std::string> kind_names_;
};

}  // namespace quarry::fuzz

#endif  // QUARRY_FUZZ_JOB_SPEC_BUILDER_H_

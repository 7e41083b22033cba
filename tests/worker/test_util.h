#ifndef QUARRY_TESTS_WORKER_TEST_UTIL_H_
#define QUARRY_TESTS_WORKER_TEST_UTIL_H_

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "quarry/v1/types.pb.h"
#include "tests/testing/temp_dir.h"

namespace quarry::worker::testing {

using ::quarry::testing::ListDir;
using ::quarry::testing::TempDir;

// The contents of `path`, or "<missing>" if it cannot be read.
inline std::string ReadFileOrMissing(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "<missing>";
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

inline bool FileExists(const std::string& path) {
  std::error_code ignored;
  return std::filesystem::exists(path, ignored);
}

inline quarry::v1::Assignment MakeAssignment(
    absl::string_view attempt_id, absl::string_view kind,
    std::vector<std::string> inputs = {}, absl::string_view output_path = "",
    std::vector<std::pair<std::string, std::string>> settings = {},
    int slot = 0) {
  quarry::v1::Assignment assignment;
  assignment.set_attempt_id(std::string(attempt_id));
  assignment.set_job_id("job-000001");
  assignment.set_task_index(0);
  assignment.set_slot(slot);
  assignment.set_kind(std::string(kind));
  for (std::string& input : inputs) assignment.add_inputs(std::move(input));
  assignment.set_output_path(std::string(output_path));
  for (auto& [key, value] : settings) {
    (*assignment.mutable_settings())[key] = value;
  }
  assignment.set_attempt_number(1);
  return assignment;
}

// Collects finished attempts (the SlotExecutor's FinishedCallback) and
// lets a test wait for them. Thread-safe.
class CompletionCollector {
 public:
  void Add(const quarry::v1::AttemptStatus& status) {
    absl::MutexLock lock(&mu_);
    finished_.push_back(status);
  }
  // The final status of `attempt_id`, waiting up to `timeout` for it; an
  // UNSPECIFIED status on timeout.
  quarry::v1::AttemptStatus WaitFor(
      absl::string_view attempt_id,
      absl::Duration timeout = absl::Seconds(10)) {
    absl::MutexLock lock(&mu_);
    const quarry::v1::AttemptStatus* found = nullptr;
    auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      for (const auto& status : finished_) {
        if (status.attempt_id() == attempt_id) {
          found = &status;
          return true;
        }
      }
      return false;
    };
    if (!mu_.AwaitWithTimeout(absl::Condition(&done), timeout)) {
      ADD_FAILURE() << "attempt " << attempt_id << " did not finish in "
                    << timeout;
      return quarry::v1::AttemptStatus();
    }
    return *found;
  }
  size_t count() {
    absl::MutexLock lock(&mu_);
    return finished_.size();
  }
  // The ids of the finished attempts, in the order they were handed on.
  std::vector<std::string> Ids() {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ids;
    for (const auto& status : finished_) ids.push_back(status.attempt_id());
    return ids;
  }

 private:
  absl::Mutex mu_;
  std::vector<quarry::v1::AttemptStatus> finished_ ABSL_GUARDED_BY(mu_);
};

}  // namespace quarry::worker::testing

#endif  // QUARRY_TESTS_WORKER_TEST_UTIL_H_

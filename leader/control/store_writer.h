#ifndef QUARRY_LEADER_CONTROL_STORE_WRITER_H_
#define QUARRY_LEADER_CONTROL_STORE_WRITER_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/store.h"
#include "quarry/v1/types.pb.h"

namespace quarry {

// What one controller step wants stored.
struct StoreWrites {
  std::vector<std::pair<std::string, std::vector<quarry::v1::Task>>> tasks;
  std::vector<quarry::v1::Job> jobs;
  std::vector<quarry::v1::Worker> workers;
  std::vector<std::string> deleted_workers;

  bool empty() const {
    return tasks.empty() && jobs.empty() && workers.empty() &&
           deleted_workers.empty();
  }
};

// Writes the controller's changes to the Store without losing any to an
// outage: what cannot be written now (the store is UNAVAILABLE) is kept and
// written first by the next Write, the newest version of each record
// winning (a job's tasks are written before its record). A job deleted by
// retention meanwhile (NOT_FOUND) is dropped.
//
// Owns the backlog. Not thread-safe: only the thread that runs the
// controller's steps calls it (Controller::Apply, outside the mutex).
class StoreWriter {
 public:
  explicit StoreWriter(Store* store) : store_(store) {}

  // Writes the backlog, then `writes`. OK when everything is stored; else
  // the first error (the rest waits in the backlog for the next call).
  absl::Status Write(StoreWrites writes);

  // Records waiting for the store.
  int64_t backlog() const;
  // Store calls that failed so far.
  int64_t errors() const { return errors_; }

 private:
  struct JobBacklog {
    std::optional<quarry::v1::Job> job;
    std::map<int32_t, quarry::v1::Task> tasks;
  };

  void Merge(StoreWrites writes);
  // Writes the backlog until an error.
  absl::Status FlushBacklog();
  // Counts and returns `status`.
  absl::Status Failed(absl::Status status);

  Store* const store_;
  std::map<std::string, JobBacklog> jobs_;
  // Worker id to its record, or nullopt: delete it.
  std::map<std::string, std::optional<quarry::v1::Worker>> workers_;
  int64_t errors_ = 0;
};

}  // namespace quarry

#endif  // QUARRY_LEADER_CONTROL_STORE_WRITER_H_

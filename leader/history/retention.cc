#include "leader/history/retention.h"

#include <glog/logging.h>

#include <algorithm>

namespace quarry {

RetentionSweeper::RetentionSweeper(Store* store, History* history,
                                   const Clock* clock, absl::Duration retention)
    : store_(store), history_(history), clock_(clock), retention_(retention) {}

RetentionSweeper::~RetentionSweeper() { Stop(); }

void RetentionSweeper::Start() {
  absl::MutexLock lock(&mu_);
  if (!thread_.joinable()) thread_ = std::thread([this] { Loop(); });
}

void RetentionSweeper::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<int> RetentionSweeper::SweepOnce(absl::Time now) {
  constexpr int kBatch = 1000;
  absl::StatusOr<std::vector<std::string>> expired =
      store_->ListJobsEndedBefore(now - retention_, kBatch);
  if (!expired.ok()) return expired.status();
  int deleted = 0;
  for (const std::string& job_id : *expired) {
    // Keep it until the history has it (its writer may lag behind).
    if (history_ != nullptr && !history_->GetJob(job_id).ok()) continue;
    absl::Status status = store_->DeleteJob(job_id);
    if (status.ok()) ++deleted;
    if (!status.ok() && !absl::IsNotFound(status)) return status;
  }
  if (deleted > 0) {
    LOG(INFO) << deleted << " finished jobs older than "
              << absl::FormatDuration(retention_) << " left the store";
  }
  return deleted;
}

void RetentionSweeper::Loop() {
  const absl::Duration interval = std::clamp(
      retention_ / 10, absl::Milliseconds(100), absl::Minutes(1));
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval)) return;
    }
    absl::StatusOr<int> swept = SweepOnce(clock_->Now());
    if (!swept.ok()) {
      LOG(WARNING) << "retention sweep failed (retrying later): "
                   << swept.status();
    }
  }
}

}  // namespace quarry

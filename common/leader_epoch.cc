#include "common/leader_epoch.h"

#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace quarry {

void AddLeaderEpoch(int64_t epoch, grpc::ClientContext& context) {
  if (epoch != 0) context.AddMetadata(kLeaderEpochMetadata, absl::StrCat(epoch));
}

int64_t LeaderEpochOf(const grpc::ServerContextBase& context) {
  const auto& metadata = context.client_metadata();
  const auto found = metadata.find(kLeaderEpochMetadata);
  if (found == metadata.end()) return 0;
  int64_t epoch = 0;
  if (!absl::SimpleAtoi(
          absl::string_view(found->second.data(), found->second.size()),
          &epoch) ||
      epoch < 0) {
    return -1;
  }
  return epoch;
}

absl::Status EpochFence::Admit(int64_t epoch) {
  int64_t highest = highest_.load(std::memory_order_acquire);
  while (epoch > highest) {
    if (highest_.compare_exchange_weak(highest, epoch,
                                       std::memory_order_acq_rel)) {
      return absl::OkStatus();
    }
  }
  if (epoch == highest) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("deposed leader: epoch ", epoch, " < ", highest));
}

}  // namespace quarry

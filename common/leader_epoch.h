#ifndef QUARRY_COMMON_LEADER_EPOCH_H_
#define QUARRY_COMMON_LEADER_EPOCH_H_

#include <atomic>
#include <cstdint>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace quarry {

// Fencing between leaders and workers. Each term of the leader lease has an
// epoch, higher than every earlier one (leader/ha); a leader without a
// lease (one leader, no standby) acts in epoch 0. Every leader-to-worker
// call carries the caller's epoch as metadata `quarry-leader-epoch`, and
// the leader's answers to RegisterWorker and RequestCommit carry it as
// `leader_epoch`. A worker remembers the highest epoch it has seen and
// refuses calls and commit grants from lower ones: a deposed leader that
// still believes it leads can neither dispatch nor grant a commit.
inline constexpr char kLeaderEpochMetadata[] = "quarry-leader-epoch";

// Adds `epoch` to an outgoing call's metadata (nothing for epoch 0).
void AddLeaderEpoch(int64_t epoch, grpc::ClientContext& context);

// The epoch an incoming call carries: 0 when it carries none, -1 when the
// value is not a number (refused by any fence).
int64_t LeaderEpochOf(const grpc::ServerContextBase& context);

// The epoch this leader acts in: 0 until it holds the lease, and always
// without one. Read on every call to a worker. Thread-safe (lock-free).
class ActingEpoch {
 public:
  int64_t get() const { return epoch_.load(std::memory_order_acquire); }
  void set(int64_t epoch) { epoch_.store(epoch, std::memory_order_release); }

 private:
  std::atomic<int64_t> epoch_{0};
};

// The highest epoch seen so far. Thread-safe (lock-free).
class EpochFence {
 public:
  // OK, remembering `epoch` if higher, when `epoch` is at least the highest
  // seen; FAILED_PRECONDITION "deposed leader: epoch N < M" otherwise.
  absl::Status Admit(int64_t epoch);
  int64_t highest() const { return highest_.load(std::memory_order_acquire); }

 private:
  std::atomic<int64_t> highest_{0};
};

}  // namespace quarry

#endif  // QUARRY_COMMON_LEADER_EPOCH_H_

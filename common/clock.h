#ifndef QUARRY_COMMON_CLOCK_H_
#define QUARRY_COMMON_CLOCK_H_

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace quarry {

// Source of the current time. Injected everywhere time matters so that tests
// can drive the controller with a FakeClock (tests/testing/fake_clock.h).
// Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
};

// The wall clock.
class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
};

}  // namespace quarry

#endif  // QUARRY_COMMON_CLOCK_H_

#ifndef QUARRY_TESTS_TESTING_RPC_H_
#define QUARRY_TESTS_TESTING_RPC_H_

#include <memory>

#include <grpcpp/grpcpp.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace quarry::testing {

// A client context whose deadline is `timeout` from now.
inline std::unique_ptr<grpc::ClientContext> ContextWithDeadline(
    absl::Duration timeout = absl::Seconds(10)) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_RPC_H_

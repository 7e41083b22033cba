#ifndef QUARRY_TESTS_TESTING_GENERIC_CALLER_H_
#define QUARRY_TESTS_TESTING_GENERIC_CALLER_H_

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace quarry::testing {

// How one call ended.
struct CallOutcome {
  grpc::Status status;
  // Messages received: 1 for a unary call that succeeded; for a stream,
  // those read before it ended.
  int responses = 0;
  // A stream the caller cancelled itself after reading its first message.
  bool cancelled_after_response = false;
};

// Sends request bytes to any method of a server through grpc::GenericStub,
// without knowing the message types: unary calls, and server-streaming
// ones (one request; the first response is read, then the call is
// cancelled). At most `max_in_flight` calls run at once; each has its own
// deadline. `done` callbacks run on gRPC threads. Start and WaitForAll are
// called by one thread; the in-flight count is guarded by `mu_`.
class GenericCaller {
 public:
  GenericCaller(const std::shared_ptr<grpc::Channel>& channel,
                int max_in_flight);
  // Waits (up to a minute) for the calls still running.
  ~GenericCaller();

  using Done = std::function<void(const CallOutcome&)>;
  // Starts a call of `method` ("/quarry.v1.JobService/GetJob"); blocks
  // while max_in_flight calls run.
  void Start(const std::string& method, const std::string& request,
             bool server_streaming, absl::Duration timeout, Done done)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until no call runs; false if `timeout` passed first.
  bool WaitForAll(absl::Duration timeout) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  class StreamCall;
  struct UnaryCall;

  void Finished(const Done& done, const CallOutcome& outcome)
      ABSL_LOCKS_EXCLUDED(mu_);
  bool HasRoom() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ < max_in_flight_;
  }
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return in_flight_ == 0;
  }

  grpc::GenericStub stub_;
  const int max_in_flight_;
  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_GENERIC_CALLER_H_

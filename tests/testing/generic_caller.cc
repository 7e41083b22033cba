#include "tests/testing/generic_caller.h"

#include <utility>

namespace quarry::testing {
namespace {

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

}  // namespace

// One unary call: its context and buffers live until the callback.
struct GenericCaller::UnaryCall {
  grpc::ClientContext context;
  grpc::ByteBuffer request;
  grpc::ByteBuffer response;
};

// One server-streaming call: writes the request and half-closes, reads one
// response, then cancels. Deletes itself when done.
class GenericCaller::StreamCall
    : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  StreamCall(GenericCaller* caller, const std::string& request, Done done)
      : caller_(caller), request_(ToByteBuffer(request)), done_(std::move(done)) {}

  void Run(const std::string& method, absl::Duration timeout) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    caller_->stub_.PrepareBidiStreamingCall(&context_, method,
                                            grpc::StubOptions(), this);
    StartWriteLast(&request_, grpc::WriteOptions());
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // The stream ended: OnDone follows.
    ++outcome_.responses;
    outcome_.cancelled_after_response = true;
    context_.TryCancel();
  }

  void OnDone(const grpc::Status& status) override {
    outcome_.status = status;
    if (status.error_code() != grpc::StatusCode::CANCELLED) {
      outcome_.cancelled_after_response = false;
    }
    caller_->Finished(done_, outcome_);
    delete this;
  }

 private:
  GenericCaller* const caller_;
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  const Done done_;
  CallOutcome outcome_;
};

GenericCaller::GenericCaller(const std::shared_ptr<grpc::Channel>& channel,
                             int max_in_flight)
    : stub_(channel), max_in_flight_(max_in_flight) {}

GenericCaller::~GenericCaller() { WaitForAll(absl::Minutes(1)); }

void GenericCaller::Start(const std::string& method, const std::string& request,
                          bool server_streaming, absl::Duration timeout,
                          Done done) {
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &GenericCaller::HasRoom));
    ++in_flight_;
  }
  if (server_streaming) {
    (new StreamCall(this, request, std::move(done)))->Run(method, timeout);
    return;
  }
  auto* call = new UnaryCall;
  call->context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  call->request = ToByteBuffer(request);
  stub_.UnaryCall(&call->context, method, grpc::StubOptions(), &call->request,
                  &call->response,
                  [this, call, done = std::move(done)](grpc::Status status) {
                    CallOutcome outcome;
                    outcome.responses = status.ok() ? 1 : 0;
                    outcome.status = std::move(status);
                    delete call;
                    Finished(done, outcome);
                  });
}

void GenericCaller::Finished(const Done& done, const CallOutcome& outcome) {
  done(outcome);
  absl::MutexLock lock(&mu_);
  --in_flight_;
}

bool GenericCaller::WaitForAll(absl::Duration timeout) {
  absl::MutexLock lock(&mu_);
  return mu_.AwaitWithTimeout(absl::Condition(this, &GenericCaller::Idle),
                              timeout);
}

}  // namespace quarry::testing

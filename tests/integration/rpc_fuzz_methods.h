#ifndef QUARRY_TESTS_INTEGRATION_RPC_FUZZ_METHODS_H_
#define QUARRY_TESTS_INTEGRATION_RPC_FUZZ_METHODS_H_

#include <set>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "tests/testing/generic_caller.h"

namespace quarry::testing {

// One leader RPC as the RPC fuzz test sees it.
struct FuzzedMethod {
  std::string name;  // "SubmitJob".
  std::string path;  // "/quarry.v1.JobService/SubmitJob".
  const google::protobuf::Descriptor* request_type = nullptr;
  bool server_streaming = false;
  // Valid requests in text format, for the fuzzer to mutate.
  std::vector<std::string> seeds;
  // Every field name of the request type, nested ones too.
  std::set<std::string> field_names;
};

// Every method of quarry.v1.JobService and quarry.v1.ClusterService, from
// the descriptor pool (a new method is fuzzed without a change here), with
// the seeds below; paths in seeds lie under `root`.
std::vector<FuzzedMethod> LeaderMethods(const std::string& root);

// Whether `request` parses as the method's request type.
bool RequestParses(const FuzzedMethod& method, const std::string& request);

// Why `outcome` breaks the rules for a leader RPC, or "" if it does not:
// OK; a stream cancelled by the caller after its first message or ended by
// the caller's deadline while it stayed open; or an error of an expected
// code (INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION,
// RESOURCE_EXHAUSTED, ALREADY_EXISTS, OUT_OF_RANGE; UNAVAILABLE for
// GetAttemptLog, whose worker may be gone, and for ConnectWorker, whose
// stream a newer one takes over) with a message, an
// INVALID_ARGUMENT naming a field of the request (or "request" when it
// does not parse). Bytes that do not parse as the request type may also
// get gRPC's own answer (INTERNAL or UNIMPLEMENTED, no message): the
// leader's code never sees them. Otherwise INTERNAL, UNKNOWN, a unary
// DEADLINE_EXCEEDED (a hang) and the rest break the rules.
std::string Judge(const FuzzedMethod& method, bool request_parses,
                  const CallOutcome& outcome);

// "INVALID_ARGUMENT" for 3.
std::string CodeName(int code);

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_INTEGRATION_RPC_FUZZ_METHODS_H_

#ifndef QUARRY_TESTS_TESTING_REQUEST_FUZZER_H_
#define QUARRY_TESTS_TESTING_REQUEST_FUZZER_H_

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace quarry::testing {

// Hostile request bytes for RPC fuzz tests, from a seeded generator
// (the same seed gives the same requests). Each request is one of:
//   - random bytes (mostly not a valid message);
//   - a valid seed request (text format) with bits flipped, bytes
//     inserted, removed or overwritten, or cut short;
//   - a message of the request type filled field by field through
//     reflection with hostile values: edge and negative integers, unknown
//     enum numbers, empty, huge, NUL-holding, non-UTF-8, path-like and
//     id-like strings, nested messages, many repeated and map entries;
//   - rarely, a request larger than the leader's --max_request_bytes.
// Not thread-safe.
class RequestFuzzer {
 public:
  // `paths_root`: an absolute directory that path-like strings point into.
  RequestFuzzer(uint64_t seed, std::string paths_root);

  // The bytes of the next request of `type`; `seeds` are text-format
  // requests of that type to mutate (may be empty).
  std::string Next(const google::protobuf::Descriptor& type,
                   const std::vector<std::string>& seeds);

  // One hostile string (also for callers that build requests themselves).
  std::string HostileString();

 private:
  std::string RandomBytes(size_t max);
  std::string Mutate(std::string bytes);
  void Fill(google::protobuf::Message& message, int depth);
  void FillField(google::protobuf::Message& message,
                 const google::protobuf::FieldDescriptor& field, int depth);
  int64_t EdgeInt();
  bool OneIn(int n) { return Below(n) == 0; }
  uint64_t Below(uint64_t n) { return random_() % n; }

  std::mt19937_64 random_;
  int huge_string_budget_ = 0;  // 70,000-byte strings left for this request.
  const std::string paths_root_;
};

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_TESTING_REQUEST_FUZZER_H_

#include "tests/testing/request_fuzzer.h"

#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "google/protobuf/reflection.h"
#include "google/protobuf/text_format.h"

namespace quarry::testing {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr size_t kOversizedRequestBytes = (4 << 20) + 1024;
// Strings of 70,000 bytes in one filled request: at most ~1 MiB of them.
constexpr int kHugeStringsPerRequest = 14;

std::unique_ptr<Message> NewMessage(const Descriptor& type) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()
          ->GetPrototype(&type)
          ->New());
}

}  // namespace

RequestFuzzer::RequestFuzzer(uint64_t seed, std::string paths_root)
    : random_(seed), paths_root_(std::move(paths_root)) {}

std::string RequestFuzzer::RandomBytes(size_t max) {
  std::string bytes(Below(max + 1), '\0');
  for (char& c : bytes) c = static_cast<char>(Below(256));
  return bytes;
}

int64_t RequestFuzzer::EdgeInt() {
  static constexpr int64_t kEdges[] = {
      0, 1, -1, 2, 7, 100, 1024, 4096, 1'000'000, 10'000'000, 100'000'000,
      std::numeric_limits<int32_t>::max(), std::numeric_limits<int32_t>::min(),
      std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  if (OneIn(4)) return static_cast<int64_t>(random_());
  return kEdges[Below(std::size(kEdges))];
}

std::string RequestFuzzer::HostileString() {
  switch (Below(16)) {
    case 0: return "";
    case 1: return absl::StrCat("job-", 1 + Below(40));  // Often real.
    case 2: return absl::StrCat("job-", 1 + Below(40), ".", Below(3), ".1");
    case 3: return absl::StrCat("fuzz-w", Below(4));
    case 4: return "../../../../etc/passwd";
    case 5:  // Past every documented string limit, while the budget lasts.
      if (huge_string_budget_ > 0) {
        --huge_string_budget_;
        return std::string(70'000, 'a');
      }
      return std::string(129, 'b');
    case 6: return std::string("a\0b", 3);
    case 7: return "\xff\xfe\xc3";  // Not UTF-8: the request fails to parse.
    case 8: return "%s%n%x{input}$(id)';\n";
    case 9: return absl::StrCat("127.0.0.1:", Below(3));
    case 10: return absl::StrCat("job-", std::string(40, '9'));
    case 11: return absl::StrCat(paths_root_, "/in");
    case 12: return absl::StrCat(paths_root_, "/out-", Below(8));
    case 13: {
      std::string text;
      for (int i = 0; i < 300; ++i) text += "\xf0\x9f\x99\x82";  // U+1F642.
      return text;
    }
    default: {
      std::string text(Below(33), ' ');
      for (char& c : text) c = static_cast<char>(' ' + Below(95));
      return text;
    }
  }
}

std::string RequestFuzzer::Mutate(std::string bytes) {
  const int edits = 1 + static_cast<int>(Below(4));
  for (int i = 0; i < edits; ++i) {
    const size_t at = bytes.empty() ? 0 : Below(bytes.size());
    switch (Below(5)) {
      case 0:
        if (!bytes.empty()) bytes[at] ^= static_cast<char>(1 << Below(8));
        break;
      case 1:
        bytes.insert(at, RandomBytes(8));
        break;
      case 2:
        if (!bytes.empty()) bytes.erase(at, 1 + Below(8));
        break;
      case 3:
        if (!bytes.empty()) bytes[at] = static_cast<char>(Below(256));
        break;
      default:
        bytes.resize(at);
        break;
    }
  }
  return bytes;
}

void RequestFuzzer::FillField(Message& message, const FieldDescriptor& field,
                              int depth) {
  const Reflection& reflection = *message.GetReflection();
  const bool repeated = field.is_repeated();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (depth >= 3) return;
      Message* child = repeated ? reflection.AddMessage(&message, &field)
                                : reflection.MutableMessage(&message, &field);
      Fill(*child, depth + 1);
      return;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      const std::string value = HostileString();
      repeated ? reflection.AddString(&message, &field, value)
               : reflection.SetString(&message, &field, value);
      return;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int value = static_cast<int>(EdgeInt() % 12);
      repeated ? reflection.AddEnumValue(&message, &field, value)
               : reflection.SetEnumValue(&message, &field, value);
      return;
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      repeated ? reflection.AddBool(&message, &field, OneIn(2))
               : reflection.SetBool(&message, &field, OneIn(2));
      return;
    case FieldDescriptor::CPPTYPE_INT32:
      repeated ? reflection.AddInt32(&message, &field, static_cast<int32_t>(EdgeInt()))
               : reflection.SetInt32(&message, &field, static_cast<int32_t>(EdgeInt()));
      return;
    case FieldDescriptor::CPPTYPE_INT64:
      repeated ? reflection.AddInt64(&message, &field, EdgeInt())
               : reflection.SetInt64(&message, &field, EdgeInt());
      return;
    case FieldDescriptor::CPPTYPE_UINT32:
      repeated ? reflection.AddUInt32(&message, &field, static_cast<uint32_t>(EdgeInt()))
               : reflection.SetUInt32(&message, &field, static_cast<uint32_t>(EdgeInt()));
      return;
    case FieldDescriptor::CPPTYPE_UINT64:
      repeated ? reflection.AddUInt64(&message, &field, static_cast<uint64_t>(EdgeInt()))
               : reflection.SetUInt64(&message, &field, static_cast<uint64_t>(EdgeInt()));
      return;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      repeated ? reflection.AddDouble(&message, &field, static_cast<double>(EdgeInt()))
               : reflection.SetDouble(&message, &field, static_cast<double>(EdgeInt()));
      return;
    case FieldDescriptor::CPPTYPE_FLOAT:
      repeated ? reflection.AddFloat(&message, &field, static_cast<float>(EdgeInt()))
               : reflection.SetFloat(&message, &field, static_cast<float>(EdgeInt()));
      return;
  }
}

void RequestFuzzer::Fill(Message& message, int depth) {
  const Descriptor& type = *message.GetDescriptor();
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    if (OneIn(2)) continue;
    int count = 1;
    if (field.is_repeated()) {
      count = depth == 0 && OneIn(10) ? 200 : static_cast<int>(Below(5));
    }
    for (int n = 0; n < count; ++n) FillField(message, field, depth);
  }
}

std::string RequestFuzzer::Next(const Descriptor& type,
                                const std::vector<std::string>& seeds) {
  const uint64_t choice = Below(1000);
  if (choice == 0) return RandomBytes(kOversizedRequestBytes) +
                          std::string(kOversizedRequestBytes, 'x');
  if (choice < 200) return RandomBytes(256);
  std::unique_ptr<Message> message = NewMessage(type);
  if (choice < 600 && !seeds.empty()) {
    google::protobuf::TextFormat::ParseFromString(seeds[Below(seeds.size())],
                                                  message.get());
    if (OneIn(2)) return Mutate(message->SerializeAsString());
  }
  // Over a seed: a valid request with hostile fields, under the leader's
  // --max_request_bytes (the rare oversized case is above).
  huge_string_budget_ = kHugeStringsPerRequest;
  Fill(*message, 0);
  return message->SerializeAsString();
}

}  // namespace quarry::testing

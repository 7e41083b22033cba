#include "leader/http/query_params.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace quarry {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

const FieldDescriptor* FieldNamed(const Descriptor& type,
                                  const std::string& name) {
  if (const FieldDescriptor* field = type.FindFieldByName(name)) return field;
  return type.FindFieldByCamelcaseName(name);
}

std::string FieldNames(const Descriptor& type) {
  std::vector<std::string> names;
  for (int i = 0; i < type.field_count(); ++i) {
    names.push_back(type.field(i)->name());
  }
  return absl::StrJoin(names, ", ");
}

absl::Status BadValue(const std::string& name, const std::string& value,
                      absl::string_view want) {
  return absl::InvalidArgumentError(absl::StrCat(
      "query parameter ", name, "=\"", value.substr(0, 64), "\": want ",
      want));
}

// Sets `field` of `message` from `value`; `name` is the parameter.
absl::Status SetField(const std::string& name, const std::string& value,
                      const FieldDescriptor& field, Message* message) {
  const Reflection& reflection = *message->GetReflection();
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      reflection.SetString(message, &field, value);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t number;
      if (!absl::SimpleAtoi(value, &number)) {
        return BadValue(name, value, "a 32-bit integer");
      }
      reflection.SetInt32(message, &field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t number;
      if (!absl::SimpleAtoi(value, &number)) {
        return BadValue(name, value, "a 64-bit integer");
      }
      reflection.SetInt64(message, &field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t number;
      if (!absl::SimpleAtoi(value, &number)) {
        return BadValue(name, value, "an unsigned 32-bit integer");
      }
      reflection.SetUInt32(message, &field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t number;
      if (!absl::SimpleAtoi(value, &number)) {
        return BadValue(name, value, "an unsigned 64-bit integer");
      }
      reflection.SetUInt64(message, &field, number);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool flag;
      if (!absl::SimpleAtob(value, &flag)) {
        return BadValue(name, value, "true or false");
      }
      reflection.SetBool(message, &field, flag);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* type = field.enum_type();
      const auto* named = type->FindValueByName(value);
      int number;
      if (named == nullptr && absl::SimpleAtoi(value, &number)) {
        named = type->FindValueByNumber(number);
      }
      if (named == nullptr) {
        std::vector<std::string> names;
        for (int i = 0; i < type->value_count(); ++i) {
          names.push_back(type->value(i)->name());
        }
        return BadValue(name, value,
                        absl::StrCat("one of ", absl::StrJoin(names, ", ")));
      }
      reflection.SetEnum(message, &field, named);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      if (field.message_type()->full_name() == "google.protobuf.Timestamp") {
        google::protobuf::Timestamp time;
        if (!google::protobuf::util::TimeUtil::FromString(value, &time)) {
          return BadValue(name, value,
                          "an RFC 3339 time, e.g. 2026-01-02T15:04:05Z");
        }
        reflection.MutableMessage(message, &field)->CopyFrom(time);
        return absl::OkStatus();
      }
      break;
    default:
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("query parameter ", name, " cannot be set in the URL"));
}

}  // namespace

absl::Status FillFromQuery(const std::multimap<std::string, std::string>& query,
                           google::protobuf::Message* message) {
  const Descriptor& type = *message->GetDescriptor();
  for (auto it = query.begin(); it != query.end(); ++it) {
    const std::string& name = it->first;
    if (query.count(name) > 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("query parameter ", name, " is given more than once"));
    }
    const FieldDescriptor* field = FieldNamed(type, name);
    if (field == nullptr || field->is_repeated()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown query parameter \"", name.substr(0, 64), "\" (",
          type.name(), " takes: ", FieldNames(type), ")"));
    }
    if (absl::Status set = SetField(name, it->second, *field, message);
        !set.ok()) {
      return set;
    }
  }
  return absl::OkStatus();
}

}  // namespace quarry

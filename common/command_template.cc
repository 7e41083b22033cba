#include "common/command_template.h"

#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace quarry {
namespace {

constexpr absl::string_view kKnown =
    "{input}, {output}, {name}, {index}, {job}, {attempt}";
constexpr absl::string_view kKnownInReduce = "{parts}, {output}, {job}";

// The value of placeholder `name`, or null if there is no such placeholder.
const std::string* ValueOf(absl::string_view name,
                           const CommandValues& values) {
  if (name == "input") return &values.input;
  if (name == "output") return &values.output;
  if (name == "name") return &values.name;
  if (name == "index") return &values.index;
  if (name == "job") return &values.job;
  if (name == "attempt") return &values.attempt;
  return nullptr;
}

// Expands `argument` into `out` (may be null: only checks), each
// placeholder's value given by `value_of` (null: no such placeholder).
// Errors name `field`.
absl::Status Expand(
    absl::string_view argument,
    absl::FunctionRef<const std::string*(absl::string_view)> value_of,
    absl::string_view field, std::string* out,
    absl::string_view known = kKnown) {
  for (size_t i = 0; i < argument.size(); ++i) {
    const char c = argument[i];
    if ((c == '{' || c == '}') && i + 1 < argument.size() &&
        argument[i + 1] == c) {
      if (out != nullptr) out->push_back(c);
      ++i;
      continue;
    }
    if (c == '}') {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": unmatched '}' at offset ", i, " (write }} for a brace)"));
    }
    if (c != '{') {
      if (out != nullptr) out->push_back(c);
      continue;
    }
    const size_t close = argument.find('}', i + 1);
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": unmatched '{' at offset ", i, " (write {{ for a brace)"));
    }
    const absl::string_view name = argument.substr(i + 1, close - i - 1);
    const std::string* value = value_of(name);
    if (value == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": unknown placeholder {", name,
                       "} (known: ", known, "; {{ and }} for braces)"));
    }
    if (out != nullptr) out->append(*value);
    i = close;
  }
  return absl::OkStatus();
}

// The values of a reduce command's placeholders, already quoted.
struct ReduceValues {
  std::string parts;
  std::string output;
  std::string job;

  const std::string* Find(absl::string_view name) const {
    if (name == "parts") return &parts;
    if (name == "output") return &output;
    if (name == "job") return &job;
    return nullptr;
  }
};

}  // namespace

absl::Status ValidateCommand(
    const google::protobuf::RepeatedPtrField<std::string>& command) {
  if (command.empty()) {
    return absl::InvalidArgumentError(
        "command is required for kind exec (the program and its arguments)");
  }
  if (command.size() > kMaxCommandArgs) {
    return absl::InvalidArgumentError(
        absl::StrCat("command has ", command.size(),
                     " arguments, more than the limit of ", kMaxCommandArgs));
  }
  if (command[0].empty()) {
    return absl::InvalidArgumentError("command[0] (the program) is empty");
  }
  const CommandValues none;
  auto value_of = [&none](absl::string_view name) {
    return ValueOf(name, none);
  };
  for (int i = 0; i < command.size(); ++i) {
    const std::string field = absl::StrCat("command[", i, "]");
    if (command[i].size() > kMaxCommandArgBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " is ", command[i].size(),
                       " bytes, more than the limit of ", kMaxCommandArgBytes));
    }
    if (command[i].find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, " holds a NUL byte"));
    }
    if (absl::Status valid = Expand(command[i], value_of, field, nullptr);
        !valid.ok()) {
      return valid;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ExpandArgument(absl::string_view argument,
                                           const CommandValues& values) {
  std::string out;
  out.reserve(argument.size());
  auto value_of = [&values](absl::string_view name) {
    return ValueOf(name, values);
  };
  if (absl::Status expanded = Expand(argument, value_of, "argument", &out);
      !expanded.ok()) {
    return expanded;
  }
  return out;
}

bool CommandUses(const google::protobuf::RepeatedPtrField<std::string>& command,
                 absl::string_view placeholder) {
  const CommandValues none;
  bool used = false;
  auto value_of = [&](absl::string_view name) {
    used |= name == placeholder;
    return ValueOf(name, none);
  };
  for (const std::string& argument : command) {
    Expand(argument, value_of, "argument", nullptr).IgnoreError();
  }
  return used;
}

std::string ShellQuote(absl::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted.append("'\\''");
    } else {
      quoted.push_back(c);
    }
  }
  quoted.push_back('\'');
  return quoted;
}

absl::Status ValidateReduceCommand(absl::string_view reduce) {
  if (absl::StripAsciiWhitespace(reduce).empty()) {
    return absl::InvalidArgumentError("reduce is blank (a shell command)");
  }
  if (reduce.size() > kMaxCommandArgBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("reduce is ", reduce.size(),
                     " bytes, more than the limit of ", kMaxCommandArgBytes));
  }
  if (reduce.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("reduce holds a NUL byte");
  }
  const ReduceValues none;
  auto value_of = [&none](absl::string_view name) { return none.Find(name); };
  return Expand(reduce, value_of, "reduce", nullptr, kKnownInReduce);
}

absl::StatusOr<std::string> ExpandReduceCommand(
    absl::string_view reduce,
    const google::protobuf::RepeatedPtrField<std::string>& parts,
    absl::string_view output, absl::string_view job) {
  ReduceValues values;
  for (const std::string& part : parts) {
    if (!values.parts.empty()) values.parts.push_back(' ');
    values.parts.append(ShellQuote(part));
  }
  values.output = ShellQuote(output);
  values.job = ShellQuote(job);
  std::string out;
  auto value_of = [&values](absl::string_view name) {
    return values.Find(name);
  };
  if (absl::Status expanded =
          Expand(reduce, value_of, "reduce", &out, kKnownInReduce);
      !expanded.ok()) {
    return expanded;
  }
  return out;
}

bool ReduceUses(absl::string_view reduce, absl::string_view placeholder) {
  const ReduceValues none;
  bool used = false;
  auto value_of = [&](absl::string_view name) {
    used |= name == placeholder;
    return none.Find(name);
  };
  Expand(reduce, value_of, "reduce", nullptr, kKnownInReduce).IgnoreError();
  return used;
}

}  // namespace quarry

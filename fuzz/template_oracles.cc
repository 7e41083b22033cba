#include "fuzz/template_oracles.h"

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/command_template.h"
#include "glog/logging.h"

namespace quarry::fuzz {
namespace {

using google::protobuf::RepeatedPtrField;

// The word a POSIX shell reads from `quoted` if it is made only of
// '...' runs and \' escapes (ShellQuote's form); nullopt for anything the
// shell would interpret.
std::optional<std::string> ShellUnquote(absl::string_view quoted) {
  std::string word;
  bool in_quotes = false;
  for (size_t i = 0; i < quoted.size(); ++i) {
    const char c = quoted[i];
    if (in_quotes) {
      if (c == '\'') {
        in_quotes = false;
      } else {
        word.push_back(c);
      }
    } else if (c == '\'') {
      in_quotes = true;
    } else if (c == '\\' && i + 1 < quoted.size()) {
      word.push_back(quoted[++i]);
    } else {
      return std::nullopt;
    }
  }
  if (in_quotes) return std::nullopt;
  return word;
}

void CheckShellQuote(absl::string_view text) {
  const std::optional<std::string> back = ShellUnquote(ShellQuote(text));
  CHECK(back.has_value() && *back == text) << ShellQuote(text);
}

std::string* Field(CommandValues& values, absl::string_view name) {
  if (name == "input") return &values.input;
  if (name == "output") return &values.output;
  if (name == "name") return &values.name;
  if (name == "index") return &values.index;
  if (name == "job") return &values.job;
  return &values.attempt;
}

std::vector<std::string> ExpandAll(const RepeatedPtrField<std::string>& command,
                                   const CommandValues& values) {
  std::vector<std::string> expanded;
  for (const std::string& argument : command) {
    absl::StatusOr<std::string> one = ExpandArgument(argument, values);
    CHECK(one.ok()) << "a validated command failed to expand: "
                    << one.status();
    expanded.push_back(*std::move(one));
  }
  return expanded;
}

}  // namespace

void CheckCommandOracles(const RepeatedPtrField<std::string>& command) {
  const absl::Status valid = ValidateCommand(command);
  if (!valid.ok()) {
    CHECK(absl::IsInvalidArgument(valid)) << valid;
    CHECK(absl::StartsWith(valid.message(), "command")) << valid;
    return;
  }
  CommandValues values{"/in/a", "/out/.staging/a", "a", "7", "job-000001",
                       "job-000001.7.1"};
  const std::vector<std::string> base = ExpandAll(command, values);
  for (const char* name :
       {"input", "output", "name", "index", "job", "attempt"}) {
    CommandValues changed = values;
    Field(changed, name)->append("{x}");
    const bool differs = ExpandAll(command, changed) != base;
    CHECK_EQ(differs, CommandUses(command, name)) << name;
  }
}

void CheckReduceOracles(const std::string& reduce) {
  CheckShellQuote(reduce);
  const absl::Status valid = ValidateReduceCommand(reduce);
  if (!valid.ok()) {
    CHECK(absl::IsInvalidArgument(valid)) << valid;
    CHECK(absl::StartsWith(valid.message(), "reduce")) << valid;
    return;
  }
  RepeatedPtrField<std::string> parts;
  parts.Add("/out/part-00000");
  parts.Add("/out/it's $(here)");
  const std::string output = "/out/.staging/result";
  const std::string job = "job-000001";
  const absl::StatusOr<std::string> base =
      ExpandReduceCommand(reduce, parts, output, job);
  CHECK(base.ok()) << "a validated reduce failed to expand: " << base.status();
  RepeatedPtrField<std::string> more_parts = parts;
  more_parts.Add("/out/part-00002");
  const bool parts_matter =
      *ExpandReduceCommand(reduce, more_parts, output, job) != *base;
  const bool output_matters =
      *ExpandReduceCommand(reduce, parts, output + "2", job) != *base;
  const bool job_matters =
      *ExpandReduceCommand(reduce, parts, output, job + "2") != *base;
  CHECK_EQ(parts_matter, ReduceUses(reduce, "parts"));
  CHECK_EQ(output_matters, ReduceUses(reduce, "output"));
  CHECK_EQ(job_matters, ReduceUses(reduce, "job"));
}

}  // namespace quarry::fuzz

#ifndef QUARRY_FUZZ_TEMPLATE_ORACLES_H_
#define QUARRY_FUZZ_TEMPLATE_ORACLES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace quarry::fuzz {

// CHECKs on the exec command templates (common/command_template.h), for
// fuzz targets. A refused command gets INVALID_ARGUMENT naming "command";
// a validated one expands without error, and uses a placeholder
// (CommandUses) exactly when changing that placeholder's value changes the
// expansion.
void CheckCommandOracles(
    const google::protobuf::RepeatedPtrField<std::string>& command);

// The same for a reduce command ("reduce", ValidateReduceCommand,
// ExpandReduceCommand, ReduceUses), plus: every value ShellQuote makes
// reads back, through POSIX shell quoting rules, as the original text.
void CheckReduceOracles(const std::string& reduce);

}  // namespace quarry::fuzz

#endif  // QUARRY_FUZZ_TEMPLATE_ORACLES_H_

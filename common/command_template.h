#ifndef QUARRY_COMMON_COMMAND_TEMPLATE_H_
#define QUARRY_COMMON_COMMAND_TEMPLATE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace quarry {

// The command of an `exec` job (JobSpec.command): a program and its
// arguments (argv, no shell), where each argument may hold placeholders
// that the worker replaces per attempt:
//   {input}   absolute path of the input file (for a packet of files, the
//             command runs once per file, in order)
//   {output}  the path the command must write (the attempt's staging file,
//             committed by rename); without it, stdout is the output
//   {name}    the input's base name
//   {index}   the task index
//   {job}     the job id
//   {attempt} the attempt id
// "{{" and "}}" stand for literal braces. Shared by the leader (validation
// at submission) and the worker (expansion). Pure functions, thread-safe.

// Limits of a command, checked at submission.
inline constexpr int kMaxCommandArgs = 4096;
inline constexpr size_t kMaxCommandArgBytes = 64 * 1024;

// The values of the placeholders for one run of the command.
struct CommandValues {
  std::string input;
  std::string output;
  std::string name;
  std::string index;
  std::string job;
  std::string attempt;
};

// Checks every argument: the command is not empty, within the limits,
// and each "{...}" is a known placeholder, each brace matched or doubled.
// INVALID_ARGUMENT naming the field, e.g. "command[2]: unknown placeholder
// {inptu} (known: {input}, {output}, ...)".
absl::Status ValidateCommand(
    const google::protobuf::RepeatedPtrField<std::string>& command);

// `argument` with its placeholders replaced (a validated one never fails;
// others get the same errors as ValidateCommand, naming "argument").
absl::StatusOr<std::string> ExpandArgument(absl::string_view argument,
                                           const CommandValues& values);

// Whether some argument of the command holds `placeholder` ("output").
bool CommandUses(const google::protobuf::RepeatedPtrField<std::string>& command,
                 absl::string_view placeholder);

// The reduce command of an `exec` job (JobSpec.reduce): one shell command
// (run with /bin/sh -c) whose placeholders are
//   {parts}   every committed part file, in index order, each shell-quoted,
//             separated by single spaces
//   {output}  the shell-quoted path of the job's result (its staging file);
//             without it, the command's stdout is the result
//   {job}     the job id, shell-quoted
// with "{{" and "}}" for literal braces (awk '{{print $1}}').

// Checks the reduce command: not empty, at most kMaxCommandArgBytes, no NUL,
// only the placeholders above. INVALID_ARGUMENT naming "reduce".
absl::Status ValidateReduceCommand(absl::string_view reduce);

// The shell command with its placeholders replaced, every value quoted.
absl::StatusOr<std::string> ExpandReduceCommand(
    absl::string_view reduce,
    const google::protobuf::RepeatedPtrField<std::string>& parts,
    absl::string_view output, absl::string_view job);

// Whether the reduce command holds `placeholder` ("output").
bool ReduceUses(absl::string_view reduce, absl::string_view placeholder);

// `text` as one POSIX shell word: single-quoted, each ' written '\''.
std::string ShellQuote(absl::string_view text);

}  // namespace quarry

#endif  // QUARRY_COMMON_COMMAND_TEMPLATE_H_

#include "worker/exec/process_internal.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "worker/exec/process_shim.h"

namespace quarry::worker::exec_internal {

std::string Quoted(absl::string_view text) {
  return absl::StrCat("\"", absl::CHexEscape(text), "\"");
}

absl::Status ValidateSpec(const ProcessSpec& spec) {
  if (spec.argv.empty()) return absl::InvalidArgumentError("argv is empty");
  if (spec.argv[0].empty()) {
    return absl::InvalidArgumentError("argv[0] is empty");
  }
  for (size_t i = 0; i < spec.argv.size(); ++i) {
    if (absl::StrContains(spec.argv[i], '\0')) {
      return absl::InvalidArgumentError(
          absl::StrCat("argv[", i, "] contains a NUL byte"));
    }
  }
  for (const std::string& entry : spec.env) {
    const size_t equals = entry.find('=');
    if (equals == 0 || equals == std::string::npos ||
        absl::StrContains(entry, '\0')) {
      return absl::InvalidArgumentError(
          absl::StrCat("env entry ", Quoted(entry), " is not KEY=VALUE"));
    }
  }
  if (spec.working_dir.empty() || absl::StrContains(spec.working_dir, '\0')) {
    return absl::InvalidArgumentError(absl::StrCat(
        "working_dir ", Quoted(spec.working_dir), " is not a path"));
  }
  if (spec.uid.has_value() != spec.gid.has_value()) {
    return absl::InvalidArgumentError("uid and gid must be set together");
  }
  if ((spec.uid && *spec.uid == static_cast<uid_t>(-1)) ||
      (spec.gid && *spec.gid == static_cast<gid_t>(-1))) {
    return absl::InvalidArgumentError("uid or gid is -1");
  }
  if (spec.stdout_fd < -1) {
    return absl::InvalidArgumentError(
        absl::StrCat("stdout_fd ", spec.stdout_fd, " is not a descriptor"));
  }
  if (spec.kill_grace < absl::ZeroDuration() ||
      spec.kill_grace > kMaxKillGrace) {
    return absl::InvalidArgumentError(
        absl::StrCat("kill_grace ", absl::FormatDuration(spec.kill_grace),
                     " is not in [0, 1h]"));
  }
  return absl::OkStatus();
}

std::vector<std::string> ExecPaths(const ProcessSpec& spec,
                                   std::string* path_searched) {
  const std::string& program = spec.argv[0];
  if (absl::StrContains(program, '/')) return {program};
  *path_searched = "/bin:/usr/bin";  // glibc's default.
  for (const std::string& entry : spec.env) {
    if (absl::StartsWith(entry, "PATH=")) {
      *path_searched = entry.substr(5);
      break;
    }
  }
  std::vector<std::string> paths;
  for (absl::string_view dir : absl::StrSplit(*path_searched, ':')) {
    paths.push_back(absl::StrCat(dir.empty() ? "." : dir, "/", program));
  }
  return paths;
}

std::vector<char*> CStrings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) {
    pointers.push_back(const_cast<char*>(s.c_str()));
  }
  pointers.push_back(nullptr);
  return pointers;
}

std::string StageText(int32_t stage, const ProcessSpec& spec,
                      const std::string& path_searched) {
  switch (stage) {
    case kStageFork:
      return "fork";
    case kStageSetpgid:
      return "setpgid";
    case kStageDup:
      return "setting up stdin, stdout and stderr";
    case kStageSetgroups:
      return absl::StrCat("setgroups({", spec.gid.value_or(0), "})");
    case kStageSetgid:
      return absl::StrCat("setgid(", spec.gid.value_or(0), ")");
    case kStageSetuid:
      return absl::StrCat("setuid(", spec.uid.value_or(0), ")");
    case kStageChdir:
      return absl::StrCat("working_dir ", Quoted(spec.working_dir));
    case kStageExec:
      return path_searched.empty()
                 ? "execve"
                 : absl::StrCat("searched PATH ", Quoted(path_searched));
    default:
      return absl::StrCat("step ", stage);
  }
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) {
    return absl::StrCat("exit status ", WEXITSTATUS(status));
  }
  if (WIFSIGNALED(status)) {
    const char* name = sigabbrev_np(WTERMSIG(status));
    return name != nullptr
               ? absl::StrCat("killed by SIG", name)
               : absl::StrCat("killed by signal ", WTERMSIG(status));
  }
  return absl::StrCat("wait status ", status);
}

absl::string_view LastLines(absl::string_view text, size_t max_lines,
                            size_t max_bytes) {
  while (!text.empty() && absl::ascii_isspace(text.back())) {
    text.remove_suffix(1);
  }
  size_t begin = 0;  // Of the max_lines-th line from the end.
  for (size_t end = text.size(), i = 0; i < max_lines && end > 0; ++i) {
    const size_t newline = text.rfind('\n', end - 1);
    if (newline == absl::string_view::npos) {
      begin = 0;
      break;
    }
    begin = newline + 1;
    end = newline;
  }
  text.remove_prefix(begin);
  if (text.size() > max_bytes) text.remove_prefix(text.size() - max_bytes);
  return text;
}

void StderrSink::Append(absl::string_view data) {
  tail_.append(data.data(), data.size());
  if (tail_.size() > 2 * kStderrTailBytes) {
    tail_.erase(0, tail_.size() - kStderrTailBytes);
  }
  partial_.append(data.data(), data.size());
  size_t start = 0;
  for (size_t newline;
       (newline = partial_.find('\n', start)) != std::string::npos;
       start = newline + 1) {
    on_line_(absl::string_view(partial_).substr(start, newline - start));
  }
  for (; partial_.size() - start >= kMaxStderrLineBytes;
       start += kMaxStderrLineBytes) {
    on_line_(absl::string_view(partial_).substr(start, kMaxStderrLineBytes));
  }
  partial_.erase(0, start);
}

void StderrSink::Finish() {
  if (!partial_.empty()) on_line_(partial_);
  partial_.clear();
}

std::string StderrSink::Tail() const {
  absl::string_view tail = tail_;
  if (tail.size() <= kStderrTailBytes) return tail_;
  tail.remove_prefix(tail.size() - kStderrTailBytes);
  const size_t newline = tail.find('\n');
  if (newline != absl::string_view::npos && newline + 1 < tail.size()) {
    tail.remove_prefix(newline + 1);
  }
  return std::string(tail);
}

}  // namespace quarry::worker::exec_internal

#include "worker/exec/process_internal.h"

#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <algorithm>
#include <tuple>
#include <utility>

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
  for (const auto& [name, limit] :
       {std::pair{"memory_bytes", spec.memory_bytes},
        std::pair{"cpu_seconds", spec.cpu_seconds},
        std::pair{"file_bytes", spec.file_bytes}}) {
    if (limit.has_value() && (*limit == 0 || *limit >= RLIM_INFINITY - 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " ", *limit, " is not in [1, RLIM_INFINITY)"));
    }
  }
  if (spec.max_stdout_bytes.has_value() && spec.stdout_fd >= 0) {
    return absl::InvalidArgumentError(
        "max_stdout_bytes is for captured stdout only (stdout_fd -1)");
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

std::vector<ChildLimit> ChildLimits(const ProcessSpec& spec) {
  std::vector<ChildLimit> limits;
  for (const auto& [resource, value, extra] :
       {std::tuple{RLIMIT_AS, spec.memory_bytes, rlim_t{0}},
        std::tuple{RLIMIT_CPU, spec.cpu_seconds, rlim_t{1}},
        std::tuple{RLIMIT_FSIZE, spec.file_bytes, rlim_t{0}}}) {
    if (!value.has_value()) continue;
    rlimit current;
    if (getrlimit(resource, &current) != 0) current.rlim_max = RLIM_INFINITY;
    ChildLimit limit;
    limit.resource = resource;
    limit.value.rlim_cur = std::min(*value, current.rlim_max);
    limit.value.rlim_max = std::min(*value + extra, current.rlim_max);
    limits.push_back(limit);
  }
  return limits;
}

std::string StageText(int32_t stage, int32_t detail, const ProcessSpec& spec,
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
    case kStageSetrlimit: {
      const std::vector<ChildLimit> limits = ChildLimits(spec);
      if (detail < 0 || static_cast<size_t>(detail) >= limits.size()) {
        return "setrlimit";
      }
      const ChildLimit& limit = limits[detail];
      const char* name = limit.resource == RLIMIT_AS    ? "RLIMIT_AS"
                         : limit.resource == RLIMIT_CPU ? "RLIMIT_CPU"
                                                        : "RLIMIT_FSIZE";
      return absl::StrCat("setrlimit(", name, ", ", limit.value.rlim_cur, ")");
    }
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

}  // namespace quarry::worker::exec_internal

namespace quarry::worker {

bool ProcessResult::exited_ok() const {
  return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0 &&
         !stdout_limit_exceeded;
}

std::string ProcessResult::StderrSuffix() const {
  const absl::string_view last =
      exec_internal::LastLines(stderr_tail, exec_internal::kDescribeLines,
                               exec_internal::kDescribeBytes);
  return last.empty() ? "" : absl::StrCat(": ", last);
}

std::string ProcessResult::Describe() const {
  if (exited_ok()) return "";
  std::string what = exec_internal::DescribeWaitStatus(wait_status);
  if (stdout_limit_exceeded) {
    what = absl::StrCat("stdout beyond the limit (", what, ")");
  }
  return absl::StrCat(what, StderrSuffix());
}

}  // namespace quarry::worker

namespace quarry::worker::exec_internal {

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

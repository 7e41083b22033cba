#include "leader/scheduling/job_planner.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/beneath_opener.h"
#include "common/command_template.h"
#include "common/dir_fd.h"
#include "common/job_kinds.h"
#include "leader/scheduling/input_walk.h"

namespace quarry {
namespace {

constexpr int kMaxEnvEntries = 256;

namespace fs = std::filesystem;
using quarry::v1::JobSpec;
using quarry::v1::Task;

// An absolute, lexically normal path, or an error naming `field`.
absl::StatusOr<fs::path> CleanPath(const std::string& raw,
                                   const std::string& field) {
  if (raw.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, " is empty"));
  }
  if (raw.find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " contains a NUL byte"));
  }
  fs::path path(raw);
  if (!path.is_absolute()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " \"", raw,
                     "\" must be an absolute path (the leader does not "
                     "share your working directory)"));
  }
  path = path.lexically_normal();
  if (path.string().size() > 1 && absl::EndsWith(path.string(), "/")) {
    path = path.parent_path();
  }
  return path;
}

// OK if the output directory may be used: beneath a writable data root,
// reached through no symlink below it, and absent (made at submit) or an
// empty directory (or `overwrite`).
absl::Status CheckOutputDir(const BeneathOpener& files, const fs::path& dir,
                            bool overwrite) {
  if (absl::Status writable =
          files.roots().CheckOutput("output_dir", dir.string());
      !writable.ok()) {
    return writable;
  }
  absl::StatusOr<ScopedFd> opened =
      files.OpenOutputDir(dir.string(), /*create=*/false, "output_dir");
  if (absl::IsNotFound(opened.status())) return absl::OkStatus();
  if (!opened.ok()) {
    if (absl::IsFailedPrecondition(opened.status())) {  // ENOTDIR, ELOOP.
      // A file above it: left to PrepareOutputDir ("cannot be created").
      struct stat info;
      if (stat(dir.c_str(), &info) != 0) return absl::OkStatus();
      return absl::InvalidArgumentError(absl::StrCat(
          "output_dir \"", dir.string(), "\" exists and is not a directory"));
    }
    return absl::InvalidArgumentError(opened.status().message());
  }
  if (overwrite) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> names = ListDirectory(opened->get());
  if (!names.ok() || !names->empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("output_dir \"", dir.string(),
                     "\" is not empty (set overwrite to replace its "
                     "part-NNNNN and result.tsv files)"));
  }
  return absl::OkStatus();
}

// Packs `files` (sorted) into consecutive packets of at most
// `bytes_per_task` bytes and kMaxFilesPerTask files; a file of that size or
// more is a packet alone. Returns the packets' start offsets, then
// files.size(). A file that vanished since the walk is NOT_FOUND.
absl::StatusOr<std::vector<int32_t>> PackFiles(
    const BeneathOpener& opener, const std::vector<std::string>& files,
    int64_t bytes_per_task) {
  std::vector<int32_t> starts;
  int64_t packet_bytes = 0;
  int32_t packet_files = 0;
  for (size_t i = 0; i < files.size(); ++i) {
    absl::StatusOr<int64_t> size = InputFileSize(opener, files[i]);
    if (!size.ok()) {
      return absl::NotFoundError(
          absl::StrCat("inputs: cannot read the size of \"", files[i],
                       "\": ", size.status().message()));
    }
    const int64_t bytes = std::min<int64_t>(*size, int64_t{1} << 62);
    const bool fits = packet_files > 0 && packet_files < kMaxFilesPerTask &&
                      bytes <= bytes_per_task - packet_bytes;
    if (!fits) {
      starts.push_back(static_cast<int32_t>(i));
      packet_bytes = 0;
      packet_files = 0;
    }
    packet_bytes += bytes;
    ++packet_files;
  }
  starts.push_back(static_cast<int32_t>(files.size()));
  return starts;
}

// The sizes that bound what one submission may make the leader hold.
absl::Status CheckRequestSizes(const JobSpec& spec) {
  if (spec.inputs_size() > kMaxInputEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("inputs has ", spec.inputs_size(), " entries, more than ",
                     kMaxInputEntries, " (name directories instead)"));
  }
  if (spec.settings_size() > kMaxSettingsEntries) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings has ", spec.settings_size(),
                     " entries, more than ", kMaxSettingsEntries));
  }
  size_t bytes = 0;
  for (const auto& [key, value] : spec.settings()) {
    bytes += key.size() + value.size();
  }
  if (bytes > kMaxSettingsBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("settings hold ", bytes, " bytes, more than ",
                     kMaxSettingsBytes));
  }
  return absl::OkStatus();
}

// JobSpec.command and .env: required and checked for exec, refused for the
// other kinds (they run their own code).
absl::Status CheckCommand(const JobSpec& spec) {
  if (spec.kind() != kExecKind) {
    if (!spec.command().empty() || !spec.env().empty() ||
        !spec.reduce().empty()) {
      const char* field = !spec.command().empty() ? "command"
                          : !spec.env().empty()   ? "env"
                                                  : "reduce";
      return absl::InvalidArgumentError(
          absl::StrCat(field, " is for kind ", kExecKind, " only; kind ",
                       spec.kind(), " runs its own code"));
    }
    return absl::OkStatus();
  }
  if (absl::Status valid = ValidateCommand(spec.command()); !valid.ok()) {
    return valid;
  }
  if (!spec.reduce().empty()) {
    if (absl::Status valid = ValidateReduceCommand(spec.reduce());
        !valid.ok()) {
      return valid;
    }
    if (spec.output_dir().empty()) {
      return absl::InvalidArgumentError(
          "output_dir is required with reduce (it reads the part files and "
          "writes <output_dir>/result)");
    }
  }
  if (spec.env().size() > kMaxEnvEntries) {
    return absl::InvalidArgumentError(absl::StrCat(
        "env has ", spec.env().size(), " entries, more than ", kMaxEnvEntries));
  }
  for (const auto& [key, value] : spec.env()) {
    const bool valid_key = !key.empty() && !absl::ascii_isdigit(key[0]) &&
                           std::all_of(key.begin(), key.end(), [](char c) {
                             return absl::ascii_isalnum(c) || c == '_';
                           });
    if (!valid_key || key.size() > 256) {
      return absl::InvalidArgumentError(absl::StrCat(
          "env: \"", absl::CHexEscape(key.substr(0, 64)),
          "\" is not a variable name ([A-Za-z_][A-Za-z0-9_]*, at most 256)"));
    }
    if (absl::StartsWith(key, "QUARRY_")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "env.", key, ": QUARRY_* variables are set by the worker"));
    }
    if (value.size() > kMaxCommandArgBytes ||
        value.find('\0') != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("env.", key, ": the value is over ", kMaxCommandArgBytes,
                       " bytes or holds a NUL byte"));
    }
  }
  return absl::OkStatus();
}

// JobSpec.task_timeout: unset, or a valid non-negative google.protobuf.
// Duration (a negative one used to mean "no limit" silently).
absl::Status CheckTaskTimeout(const JobSpec& spec) {
  constexpr int64_t kMaxDurationSeconds = 315'576'000'000;  // Duration's own.
  const int64_t seconds = spec.task_timeout().seconds();
  const int32_t nanos = spec.task_timeout().nanos();
  if (seconds < 0 || seconds > kMaxDurationSeconds || nanos < 0 ||
      nanos > 999'999'999) {
    return absl::InvalidArgumentError(absl::StrCat(
        "task_timeout must be a duration >= 0 (seconds in [0, ",
        kMaxDurationSeconds, "], nanos in [0, 999999999]), got seconds ",
        seconds, " nanos ", nanos));
  }
  return absl::OkStatus();
}

class BuiltInKindLookup : public KindLookup {
 public:
  std::optional<KindSpec> Find(absl::string_view name) const override {
    const KindSpec* kind = FindKind(name);
    if (kind == nullptr) return std::nullopt;
    return *kind;
  }
  std::string Names() const override { return KindNames(); }
};

}  // namespace

const KindLookup& BuiltInKinds() {
  static const BuiltInKindLookup* const kKinds = new BuiltInKindLookup();
  return *kKinds;
}

absl::StatusOr<JobPlan> PlanJob(const JobSpec& raw_spec,
                                const PlannerLimits& limits,
                                const KindLookup* kinds) {
  if (kinds == nullptr) kinds = &BuiltInKinds();
  JobPlan plan;
  JobSpec& spec = plan.spec;
  spec = raw_spec;
  if (spec.kind().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind is required (one of: ", kinds->Names(), ")"));
  }
  const std::optional<KindSpec> found = kinds->Find(spec.kind());
  if (!found.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind \"", absl::CHexEscape(spec.kind().substr(0, 128)),
                     "\" is unknown: neither built in nor offered by a "
                     "registered worker (one of: ",
                     kinds->Names(), ")"));
  }
  const KindSpec* kind = &*found;
  if (absl::Status sized = CheckRequestSizes(spec); !sized.ok()) return sized;
  if (absl::Status valid = ValidateSettings(*kind, spec.settings());
      !valid.ok()) {
    return valid;
  }
  if (absl::Status valid = CheckCommand(spec); !valid.ok()) return valid;
  if (absl::Status valid = CheckTaskTimeout(spec); !valid.ok()) return valid;
  if (spec.max_attempts() < 0 || spec.max_attempts() > limits.max_attempts) {
    return absl::InvalidArgumentError(absl::StrCat(
        "max_attempts must be in [1, ", limits.max_attempts, "] (0 means ",
        limits.default_max_attempts, "), got ", spec.max_attempts()));
  }
  if (spec.max_attempts() == 0) {
    spec.set_max_attempts(limits.default_max_attempts);
  }
  if (spec.bytes_per_task() < 0 || spec.bytes_per_task() > kMaxBytesPerTask) {
    return absl::InvalidArgumentError(
        absl::StrCat("bytes_per_task must be in [0, ", kMaxBytesPerTask,
                     "] (0: one task per file), got ", spec.bytes_per_task()));
  }

  // Inputs: every regular file, sorted, without duplicates; with data
  // roots, only beneath them (by the cleaned path, then as resolved).
  const BeneathOpener opener(limits.data_roots);
  std::vector<std::string> files;
  const absl::Time walk_deadline = absl::Now() + limits.max_walk_time;
  for (int i = 0; i < spec.inputs_size(); ++i) {
    const std::string field = absl::StrCat("inputs[", i, "]");
    absl::StatusOr<fs::path> input = CleanPath(spec.inputs(i), field);
    if (!input.ok()) return input.status();
    spec.set_inputs(i, input->string());
    if (absl::Status inside =
            limits.data_roots.CheckInput(field, input->string());
        !inside.ok()) {
      return inside;
    }
    if (absl::Status expanded = ExpandInput(opener, input->string(), field,
                                            limits.max_tasks, walk_deadline,
                                            &files);
        !expanded.ok()) {
      return expanded;
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());

  const bool has_tasks_setting = spec.settings().contains("tasks");
  int64_t task_count = static_cast<int64_t>(files.size());
  if (kind->needs_inputs || !has_tasks_setting) {
    if (spec.inputs().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("inputs is required for kind ", kind->name,
                       kind->needs_inputs ? "" : " (or set settings.tasks)"));
    }
    if (files.empty()) {
      return absl::InvalidArgumentError(
          "inputs: no regular file found in the given paths");
    }
  } else {
    if (!spec.inputs().empty()) {
      return absl::InvalidArgumentError(
          "inputs and settings.tasks are exclusive: give one of them");
    }
    task_count = IntSetting(spec.settings(), "tasks", 1);
    if (spec.bytes_per_task() != 0) {
      return absl::InvalidArgumentError(
          "bytes_per_task packs input files: it needs inputs, not "
          "settings.tasks");
    }
  }
  std::vector<int32_t> starts;
  if (spec.bytes_per_task() > 0 && !files.empty()) {
    absl::StatusOr<std::vector<int32_t>> packed =
        PackFiles(opener, files, spec.bytes_per_task());
    if (!packed.ok()) return packed.status();
    starts = *std::move(packed);
    task_count = static_cast<int64_t>(starts.size()) - 1;
    // One task per file after all: the plain layout.
    if (task_count == static_cast<int64_t>(files.size())) starts.clear();
  }
  if (task_count > limits.max_tasks) {
    return absl::InvalidArgumentError(
        absl::StrCat("inputs: ", task_count, " tasks exceed the limit of ",
                     limits.max_tasks));
  }

  // Output directory.
  fs::path output_dir;
  if (!spec.output_dir().empty() || kind->needs_output) {
    if (spec.output_dir().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("output_dir is required for kind ", kind->name));
    }
    absl::StatusOr<fs::path> cleaned =
        CleanPath(spec.output_dir(), "output_dir");
    if (!cleaned.ok()) return cleaned.status();
    output_dir = *cleaned;
    spec.set_output_dir(output_dir.string());
    if (absl::Status ok = CheckOutputDir(opener, output_dir, spec.overwrite());
        !ok.ok()) {
      return ok;
    }
  }

  TaskPlan& tasks = plan.tasks;
  tasks.map_count = static_cast<int32_t>(task_count);
  tasks.map_inputs = std::move(files);
  tasks.map_starts = std::move(starts);
  tasks.output_dir = output_dir.string();
  tasks.has_reduce = kind->has_reduce || !spec.reduce().empty();
  if (!spec.reduce().empty()) tasks.result_name = std::string(kExecResultFileName);
  return plan;
}

absl::Status PrepareOutputDir(const JobSpec& spec, const DataRoots& roots) {
  if (spec.output_dir().empty()) return absl::OkStatus();
  const std::string& dir = spec.output_dir();
  absl::StatusOr<ScopedFd> opened =
      BeneathOpener(roots).OpenOutputDir(dir, /*create=*/true, "output_dir");
  if (!opened.ok()) {
    return absl::InvalidArgumentError(opened.status().message());
  }
  if (!spec.overwrite()) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> names = ListDirectory(opened->get());
  if (!names.ok()) {
    return absl::InternalError(absl::StrCat("cannot list output_dir \"", dir,
                                            "\": ", names.status().message()));
  }
  // By descriptor and without following symlinks: a link named part-00000
  // is removed, never what it points to.
  for (const std::string& name : *names) {
    if (absl::StartsWith(name, "part-") || name == kResultFileName ||
        name == kExecResultFileName || name == kStagingDirName) {
      if (absl::Status removed = RemoveTreeAt(opened->get(), name);
          !removed.ok()) {
        return absl::InternalError(
            absl::StrCat("cannot remove ", dir, "/", removed.message()));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace quarry

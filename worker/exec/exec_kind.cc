#include "worker/exec/exec_kind.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/command_template.h"
#include "common/job_kinds.h"
#include "worker/exec/exec_limits.h"
#include "worker/exec/process_runner.h"

namespace quarry::worker {
namespace {

namespace fs = std::filesystem;

constexpr absl::string_view kPath = "/usr/local/bin:/usr/bin:/bin";
constexpr absl::Duration kDefaultKillGrace = absl::Seconds(5);
// A reduce script longer than this runs from a file, not `sh -c`.
constexpr size_t kMaxInlineScript = 100 * 1024;

// A directory of its own for one attempt, removed with this object.
class ScratchDir {
 public:
  static absl::StatusOr<ScratchDir> Make(const ExecOptions& options) {
    std::string path =
        absl::StrCat(options.scratch_root, "/quarry-exec-XXXXXX");
    if (mkdtemp(path.data()) == nullptr) {
      return absl::InternalError(
          absl::StrCat("cannot make a scratch directory in ",
                       options.scratch_root, ": ", strerror(errno)));
    }
    ScratchDir dir(path);
    if (options.uid.has_value() &&
        chown(path.c_str(), *options.uid, options.gid.value_or(-1)) != 0) {
      return absl::InternalError(absl::StrCat(
          "cannot hand ", path, " to ", options.user, ": ", strerror(errno)));
    }
    return dir;
  }
  ScratchDir(ScratchDir&& other) noexcept : path_(std::move(other.path_)) {
    other.path_.clear();
  }
  ScratchDir(const ScratchDir&) = delete;
  ~ScratchDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// `program` as execve will find it through kPath: itself when it holds a
// '/', else the first executable match, else itself.
std::string Resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  for (absl::string_view dir : absl::StrSplit(kPath, ':')) {
    const std::string candidate = absl::StrCat(dir, "/", program);
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return program;
}

// Passes whole lines of a stream to `log` with a prefix.
class LineLogger {
 public:
  LineLogger(AttemptLog* log, absl::string_view prefix)
      : log_(log), prefix_(prefix) {}
  ~LineLogger() {
    if (!partial_.empty()) log_->Append(absl::StrCat(prefix_, partial_));
  }
  void Add(absl::string_view data) {
    for (char c : data) {
      if (c != '\n') {
        if (partial_.size() < 4096) partial_.push_back(c);
        continue;
      }
      log_->Append(absl::StrCat(prefix_, partial_));
      partial_.clear();
    }
  }

 private:
  AttemptLog* const log_;
  const std::string prefix_;
  std::string partial_;
};

class ExecKind : public JobKind {
 public:
  explicit ExecKind(ExecOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::string> Run(const KindContext& context) const override {
    const quarry::v1::Assignment& assignment = context.assignment;
    if (assignment.is_reduce()) return RunReduce(context);
    if (absl::Status valid = ValidateCommand(assignment.command());
        !valid.ok()) {
      return valid;
    }
    const bool writes_output = CommandUses(assignment.command(), "output");
    const std::string output_file =
        context.output_file.empty() ? "/dev/null" : context.output_file;
    if (absl::Status handed = HandOutput(context, writes_output);
        !handed.ok()) {
      return handed;
    }
    // One run per input file; a job array's task has none.
    std::vector<std::string> inputs(assignment.inputs().begin(),
                                    assignment.inputs().end());
    if (inputs.empty()) inputs.emplace_back();
    for (const std::string& input : inputs) {
      if (context.cancel.cancelled()) return absl::CancelledError("cancelled");
      if (absl::Status beneath = CheckBeneathRoots(context, input);
          !beneath.ok()) {
        return beneath;
      }
      CommandValues values;
      values.input = input;
      values.output = output_file;
      values.name = input.empty() ? "" : fs::path(input).filename().string();
      values.index = absl::StrCat(assignment.task_index());
      values.job = assignment.job_id();
      values.attempt = assignment.attempt_id();
      absl::Status ran = RunOnce(
          context, values, writes_output,
          [&](const std::string&) -> absl::StatusOr<std::vector<std::string>> {
            std::vector<std::string> argv;
            for (const std::string& argument : assignment.command()) {
              absl::StatusOr<std::string> expanded =
                  ExpandArgument(argument, values);
              if (!expanded.ok()) return expanded.status();
              argv.push_back(*std::move(expanded));
            }
            return argv;
          });
      if (!ran.ok()) {
        if (inputs.size() == 1 || absl::IsCancelled(ran)) return ran;
        return absl::Status(ran.code(),
                            absl::StrCat("input ", input, ": ", ran.message()));
      }
    }
    return absl::StrCat("ran ", inputs.size(),
                        inputs.size() == 1 ? " command" : " commands");
  }

 private:
  // The job's reduce command, once, through /bin/sh: the parts are the
  // assignment's inputs, the result its output.
  absl::StatusOr<std::string> RunReduce(const KindContext& context) const {
    const quarry::v1::Assignment& assignment = context.assignment;
    const std::string& reduce = assignment.reduce_command();
    if (absl::Status valid = ValidateReduceCommand(reduce); !valid.ok()) {
      return valid;
    }
    const bool writes_output = ReduceUses(reduce, "output");
    if (absl::Status handed = HandOutput(context, writes_output);
        !handed.ok()) {
      return handed;
    }
    for (const std::string& part : assignment.inputs()) {
      if (absl::Status beneath = CheckBeneathRoots(context, part);
          !beneath.ok()) {
        return beneath;
      }
    }
    CommandValues values;
    values.output =
        context.output_file.empty() ? "/dev/null" : context.output_file;
    values.index = absl::StrCat(assignment.task_index());
    values.job = assignment.job_id();
    values.attempt = assignment.attempt_id();
    absl::Status ran = RunOnce(
        context, values, writes_output,
        [&](const std::string& scratch)
            -> absl::StatusOr<std::vector<std::string>> {
          absl::StatusOr<std::string> script = ExpandReduceCommand(
              reduce, assignment.inputs(), values.output, values.job);
          if (!script.ok()) return script.status();
          if (script->size() < kMaxInlineScript) {
            return std::vector<std::string>{"/bin/sh", "-c", *script, "sh"};
          }
          // Too long for one argument (Linux takes 128 KiB): a file.
          const std::string path = absl::StrCat(scratch, "/.quarry-reduce.sh");
          std::ofstream file(path, std::ios::binary | std::ios::trunc);
          file << *script;
          file.close();
          if (!file) {
            return absl::InternalError(
                absl::StrCat("cannot write the reduce script ", path));
          }
          return std::vector<std::string>{"/bin/sh", path};
        });
    if (!ran.ok()) return ran;
    return absl::StrCat("reduced ", assignment.inputs_size(), " parts");
  }

  // With data roots: OK if `input` resolves beneath its root with no
  // symlink leading out, checked just before the command that reads it
  // starts. The command then opens the path itself, as its user, and can
  // open whatever that user may: data roots do not confine the program
  // (docs/security.md; --exec_user does).
  static absl::Status CheckBeneathRoots(const KindContext& context,
                                        const std::string& input) {
    if (input.empty() || context.files.roots().empty()) {
      return absl::OkStatus();
    }
    return context.files.OpenInput(input, O_PATH).status();
  }

  // Gives the staging file to the user commands run as, when the command
  // writes it itself ({output}). By descriptor: a symlink swapped in at its
  // path cannot make the worker hand over another file.
  absl::Status HandOutput(const KindContext& context,
                          bool writes_output) const {
    if (!writes_output || context.output_file.empty() ||
        !options_.uid.has_value()) {
      return absl::OkStatus();
    }
    if (context.output_fd < 0) {
      return absl::InternalError(absl::StrCat("no descriptor of ",
                                              context.output_file,
                                              " to hand to ", options_.user));
    }
    if (fchown(context.output_fd, *options_.uid, options_.gid.value_or(-1)) !=
        0) {
      return absl::InternalError(absl::StrCat("cannot hand ",
                                              context.output_file, " to ",
                                              options_.user, ": ",
                                              strerror(errno)));
    }
    return absl::OkStatus();
  }

  // Runs one process: `make_argv` gives its argv, knowing the scratch
  // directory it will run in.
  absl::Status RunOnce(
      const KindContext& context, const CommandValues& values,
      bool writes_output,
      absl::FunctionRef<absl::StatusOr<std::vector<std::string>>(
          const std::string& scratch)>
          make_argv) const {
    const quarry::v1::Assignment& assignment = context.assignment;
    absl::StatusOr<ScratchDir> scratch = ScratchDir::Make(options_);
    if (!scratch.ok()) return scratch.status();
    ProcessSpec spec;
    absl::StatusOr<std::vector<std::string>> argv = make_argv(scratch->path());
    if (!argv.ok()) return argv.status();
    spec.argv = *std::move(argv);
    const std::string program = Resolve(spec.argv[0]);
    if (!Allowed(program)) {
      return absl::PermissionDeniedError(
          absl::StrCat("program ", program,
                       " is not allowed on this worker (--exec_allow)"));
    }
    spec.working_dir = scratch->path();
    spec.env = {absl::StrCat("PATH=", kPath),
                "LANG=C.UTF-8",
                absl::StrCat("HOME=", scratch->path()),
                absl::StrCat("QUARRY_JOB_ID=", values.job),
                absl::StrCat("QUARRY_TASK_INDEX=", values.index),
                absl::StrCat("QUARRY_ATTEMPT_ID=", values.attempt),
                absl::StrCat("QUARRY_INPUT=", values.input),
                absl::StrCat("QUARRY_OUTPUT=", values.output)};
    for (const auto& [key, value] : assignment.env()) {
      spec.env.push_back(absl::StrCat(key, "=", value));
    }
    spec.uid = options_.uid;
    spec.gid = options_.gid;
    spec.kill_grace =
        DurationSetting(assignment.settings(), "kill_grace", kDefaultKillGrace);
    const ExecLimits limits = ExecLimitsFromSettings(assignment.settings());
    ApplyExecLimits(limits, /*stdout_is_output=*/!writes_output, &spec);
    context.log->Append(absl::StrCat(
        "running ", program, " with ", spec.argv.size() - 1, " argument(s)",
        options_.uid.has_value() ? absl::StrCat(" as ", options_.user) : "",
        limits.any() ? absl::StrCat(" (limits: ", limits.ToString(), ")")
                     : ""));
    LineLogger stdout_log(context.log, "stdout: ");
    LineLogger stderr_log(context.log, "stderr: ");
    absl::StatusOr<ProcessResult> result = RunProcess(
        spec, context.cancel,
        [&](absl::string_view chunk) -> absl::Status {
          if (writes_output) {
            stdout_log.Add(chunk);
            return absl::OkStatus();
          }
          return context.output.Write(chunk);
        },
        [&](absl::string_view line) {
          context.log->Append(absl::StrCat("stderr: ", line));
        });
    if (!result.ok()) return DescribeExecStartError(result.status(), limits);
    if (!result->exited_ok()) {
      return absl::AbortedError(DescribeExecFailure(*result, limits));
    }
    return absl::OkStatus();
  }

  bool Allowed(const std::string& program) const {
    if (options_.allow.empty()) return true;
    for (const std::string& pattern : options_.allow) {
      if (fnmatch(pattern.c_str(), program.c_str(), FNM_PATHNAME) == 0) {
        return true;
      }
    }
    return false;
  }

  const ExecOptions options_;
};

}  // namespace

absl::StatusOr<ExecOptions> MakeExecOptions(absl::string_view user,
                                            absl::string_view allow,
                                            absl::string_view scratch_root) {
  ExecOptions options;
  for (absl::string_view pattern :
       absl::StrSplit(allow, ',', absl::SkipWhitespace())) {
    if (pattern.empty() || pattern[0] != '/') {
      return absl::InvalidArgumentError(absl::StrCat(
          "--exec_allow: \"", pattern,
          "\" is not an absolute path or pattern (e.g. /usr/bin/python3)"));
    }
    options.allow.emplace_back(pattern);
  }
  options.scratch_root = std::string(scratch_root);
  struct stat root;
  if (stat(options.scratch_root.c_str(), &root) != 0 ||
      !S_ISDIR(root.st_mode)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--exec_scratch_dir: ", options.scratch_root, " is not a directory"));
  }
  std::string name(user);
  if (name.empty() && geteuid() == 0) name = "nobody";
  if (name.empty()) return options;  // Commands run as the worker's user.
  const struct passwd* entry = getpwnam(name.c_str());
  if (entry == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("--exec_user: no user named \"", name, "\""));
  }
  if (entry->pw_uid != geteuid()) {
    if (geteuid() != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--exec_user=", name, " needs the worker to run as root"));
    }
    options.uid = entry->pw_uid;
    options.gid = entry->pw_gid;
  }
  options.user = name;
  return options;
}

std::unique_ptr<JobKind> NewExecKind(ExecOptions options) {
  return std::make_unique<ExecKind>(std::move(options));
}

}  // namespace quarry::worker

#include "cli/format.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/time_util.h"

namespace quarry::cli {
namespace {

using quarry::v1::Job;

constexpr int kDefaultWidth = 80;
constexpr int kMinBarWidth = 10;
constexpr int kMaxBarWidth = 40;
constexpr size_t kMaxInputsShown = 5;

// Text that fits on one table line.
std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\r\n", " "}, {"\n", " "}, {"\t", " "}});
}

bool IsSet(const google::protobuf::Timestamp& ts) {
  return ts.seconds() != 0 || ts.nanos() != 0;
}

// "  label:  value\n" with the values aligned.
void AddField(std::string& out, absl::string_view label,
              absl::string_view value) {
  absl::StrAppendFormat(&out, "%-10s%s\n", absl::StrCat(label, ":"), value);
}

// "  5 queued" when tasks wait on a worker for a slot (ASSIGNED: the
// worker took them but runs them only as its slots free up), else "".
// They are not counted as running: running never exceeds the slots.
std::string QueuedCount(const quarry::v1::TaskCounts& c) {
  return c.assigned() > 0 ? absl::StrFormat("  %d queued", c.assigned()) : "";
}

// "12/24 tasks  3 running  5 queued  0 failed  1.2s"
std::string ProgressCounts(const Job& job, absl::Duration elapsed) {
  const quarry::v1::TaskCounts& c = job.task_counts();
  return absl::StrFormat("%d/%d tasks  %d running%s  %d failed  %s", c.done(),
                         job.task_count(), c.running(), QueuedCount(c),
                         c.failed(), HumanDuration(elapsed));
}

std::string TaskInput(const quarry::v1::Task& task) {
  if (task.is_reduce()) {
    return absl::StrCat("reduce of ", task.inputs_size(), " parts");
  }
  if (task.inputs_size() == 0) return "-";
  if (task.inputs_size() == 1) return task.inputs(0);
  return absl::StrCat(task.inputs(0), " +", task.inputs_size() - 1, " more");
}

std::string JobInputs(const quarry::v1::JobSpec& spec) {
  if (spec.inputs().empty()) return "-";
  const size_t shown = std::min<size_t>(spec.inputs_size(), kMaxInputsShown);
  std::string text =
      absl::StrJoin(spec.inputs().begin(), spec.inputs().begin() + shown, ", ");
  if (shown < static_cast<size_t>(spec.inputs_size())) {
    absl::StrAppend(&text, ", ... (", spec.inputs_size(), " in all)");
  }
  return text;
}

std::string TaskTable(const quarry::v1::GetJobResponse& response) {
  std::vector<std::vector<std::string>> rows = {
      {"INDEX", "STATUS", "ATTEMPTS", "WORKER", "INPUT", "ERROR"}};
  for (const quarry::v1::Task& task : response.tasks()) {
    rows.push_back({absl::StrCat(task.index()),
                    ExecutionStatusName(task.status()),
                    absl::StrCat(task.attempts()),
                    task.worker_id().empty() ? "-" : task.worker_id(),
                    TaskInput(task), OneLine(task.error())});
  }
  return RenderTable(rows);
}

std::string AttemptTable(const quarry::v1::GetJobResponse& response,
                         absl::TimeZone tz) {
  std::vector<std::vector<std::string>> rows = {
      {"ATTEMPT", "TASK", "WORKER", "OUTCOME", "STARTED", "ENDED", "ERROR"}};
  for (const quarry::v1::AttemptRecord& attempt : response.attempts()) {
    rows.push_back({attempt.attempt_id(), absl::StrCat(attempt.task_index()),
                    attempt.worker_id(), ExecutionStatusName(attempt.status()),
                    FormatTimestamp(attempt.start_time(), tz),
                    FormatTimestamp(attempt.end_time(), tz),
                    OneLine(attempt.error())});
  }
  return RenderTable(rows);
}

}  // namespace

std::string JobStateName(quarry::v1::JobState state) {
  return std::string(
      absl::StripPrefix(quarry::v1::JobState_Name(state), "JOB_STATE_"));
}

std::string ExecutionStatusName(quarry::v1::ExecutionStatus status) {
  return std::string(absl::StripPrefix(quarry::v1::ExecutionStatus_Name(status),
                                       "EXECUTION_STATUS_"));
}

std::string WorkerStatusName(quarry::v1::WorkerStatus status) {
  return std::string(absl::StripPrefix(quarry::v1::WorkerStatus_Name(status),
                                       "WORKER_STATUS_"));
}

std::string ClusterStatusName(quarry::v1::ClusterStatus status) {
  return std::string(absl::StripPrefix(quarry::v1::ClusterStatus_Name(status),
                                       "CLUSTER_STATUS_"));
}

bool IsTerminal(quarry::v1::JobState state) {
  return state == quarry::v1::JOB_STATE_DONE ||
         state == quarry::v1::JOB_STATE_FAILED ||
         state == quarry::v1::JOB_STATE_CANCELLED;
}

std::string HumanDuration(absl::Duration d) {
  if (d < absl::Seconds(1)) {
    return absl::StrCat(std::max<int64_t>(0, absl::ToInt64Milliseconds(d)),
                        "ms");
  }
  if (d < absl::Minutes(1)) {
    return absl::StrFormat("%.1fs", absl::ToDoubleSeconds(d));
  }
  const int64_t seconds = absl::ToInt64Seconds(d);
  if (d < absl::Hours(1)) {
    return absl::StrFormat("%dm%02ds", seconds / 60, seconds % 60);
  }
  return absl::StrFormat("%dh%02dm", seconds / 3600, seconds / 60 % 60);
}

std::string FormatBytes(int64_t bytes) {
  if (bytes < 1024) return absl::StrCat(bytes, " B");
  double value = static_cast<double>(bytes);
  const char* unit = "B";
  for (const char* next : {"KiB", "MiB", "GiB", "TiB"}) {
    if (value < 1024) break;
    value /= 1024;
    unit = next;
  }
  return absl::StrFormat("%.1f %s", value, unit);
}

std::string FormatTimestamp(const google::protobuf::Timestamp& ts,
                            absl::TimeZone tz) {
  if (!IsSet(ts)) return "-";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S", FromProtoTime(ts), tz);
}

std::string RenderTable(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 < row.size()) {
        absl::StrAppend(&line, row[i],
                        std::string(widths[i] - row[i].size() + 2, ' '));
      } else {
        absl::StrAppend(&line, row[i]);
      }
    }
    absl::StrAppend(&out, absl::StripTrailingAsciiWhitespace(line), "\n");
  }
  return out;
}

std::string RenderProgressLine(const Job& job, int width,
                               absl::Duration elapsed) {
  if (width <= 1) width = kDefaultWidth;
  const size_t max_length = static_cast<size_t>(width - 1);
  const std::string prefix =
      absl::StrCat(job.id(), " ", JobStateName(job.state()), " ");
  const std::string counts = ProgressCounts(job, elapsed);
  // "[" + bar + "] " around the bar.
  const int room = static_cast<int>(max_length) -
                   static_cast<int>(prefix.size() + counts.size()) - 3;
  std::string bar;
  if (room >= kMinBarWidth) {
    const int bar_width = std::min(room, kMaxBarWidth);
    const int64_t total = std::max(0, job.task_count());
    const int64_t done =
        std::clamp<int64_t>(job.task_counts().done(), 0, total);
    const int filled =
        total == 0 ? 0 : static_cast<int>(done * bar_width / total);
    bar = absl::StrCat("[", std::string(filled, '#'),
                       std::string(bar_width - filled, '.'), "] ");
  }
  std::string line = absl::StrCat(prefix, bar, counts);
  if (line.size() > max_length) line.resize(max_length);
  return line;
}

std::string RenderStatusLine(const Job& job, absl::Duration elapsed) {
  return absl::StrCat(job.id(), " ", JobStateName(job.state()), " ",
                      ProgressCounts(job, elapsed));
}

std::string FormatJobView(const quarry::v1::GetJobResponse& response,
                          absl::Time now, absl::TimeZone tz) {
  const Job& job = response.job();
  const quarry::v1::TaskCounts& c = job.task_counts();
  std::string tasks = absl::StrFormat(
      "%d/%d done  %d running%s  %d pending  %d failed", c.done(),
      job.task_count(), c.running(), QueuedCount(c), c.pending(), c.failed());
  if (c.cancelled() > 0) {
    absl::StrAppend(&tasks, "  ", c.cancelled(), " cancelled");
  }

  std::string duration = "-";
  if (IsSet(job.start_time())) {
    const absl::Time end =
        IsSet(job.end_time()) ? FromProtoTime(job.end_time()) : now;
    duration = HumanDuration(end - FromProtoTime(job.start_time()));
    if (!IsSet(job.end_time())) absl::StrAppend(&duration, " so far");
  }
  std::map<std::string, std::string> settings(job.spec().settings().begin(),
                                              job.spec().settings().end());

  std::string out;
  AddField(out, "Job", job.id());
  AddField(out, "Kind", job.spec().kind());
  AddField(out, "State", JobStateName(job.state()));
  AddField(out, "Tasks", tasks);
  AddField(out, "Attempts", absl::StrCat(job.attempts_started(), " started"));
  AddField(out, "Inputs", JobInputs(job.spec()));
  AddField(out, "Output",
           job.spec().output_dir().empty() ? "-" : job.spec().output_dir());
  if (!settings.empty()) {
    AddField(out, "Settings",
             absl::StrJoin(settings, " ", absl::PairFormatter("=")));
  }
  AddField(out, "Created", FormatTimestamp(job.create_time(), tz));
  AddField(out, "Started", FormatTimestamp(job.start_time(), tz));
  AddField(out, "Ended", FormatTimestamp(job.end_time(), tz));
  AddField(out, "Duration", duration);
  if (!job.error().empty()) AddField(out, "Error", OneLine(job.error()));
  if (!job.waiting_reason().empty()) {
    AddField(out, "Waiting", OneLine(job.waiting_reason()));
  }
  if (!response.tasks().empty()) {
    absl::StrAppend(&out, "\n", TaskTable(response));
  }
  if (!response.attempts().empty()) {
    absl::StrAppend(&out, "\n", AttemptTable(response, tz));
  }
  return out;
}

std::string FormatJobList(const quarry::v1::ListJobsResponse& response,
                          absl::TimeZone tz) {
  std::string out;
  if (response.jobs().empty()) {
    out = "No jobs.\n";
  } else {
    std::vector<std::vector<std::string>> rows = {
        {"ID", "STATE", "KIND", "TASKS", "CREATED"}};
    for (const Job& job : response.jobs()) {
      rows.push_back(
          {job.id(), JobStateName(job.state()), job.spec().kind(),
           absl::StrCat(job.task_counts().done(), "/", job.task_count()),
           FormatTimestamp(job.create_time(), tz)});
    }
    out = RenderTable(rows);
  }
  if (!response.next_page_token().empty()) {
    absl::StrAppend(&out, "Next page: --page-token ",
                    response.next_page_token(), "\n");
  }
  return out;
}

std::string FormatJobResult(const quarry::v1::GetJobResultResponse& response) {
  int64_t total_bytes = 0;
  std::vector<std::vector<std::string>> rows = {
      {"TASK", "SIZE", "PATH", "SUMMARY"}};
  for (const quarry::v1::OutputFile& file : response.files()) {
    total_bytes += file.size_bytes();
    rows.push_back({absl::StrCat(file.task_index()),
                    FormatBytes(file.size_bytes()), file.path(),
                    OneLine(file.summary())});
  }
  std::string out;
  AddField(out, "Job",
           absl::StrCat(response.job_id(), " (", JobStateName(response.state()),
                        ")"));
  AddField(out, "Output",
           response.output_dir().empty() ? "-" : response.output_dir());
  AddField(
      out, "Files",
      absl::StrCat(response.files_size(), " (", FormatBytes(total_bytes), ")"));
  if (!response.files().empty()) {
    absl::StrAppend(&out, "\n", RenderTable(rows), "\n");
  }
  AddField(out, "Result",
           response.result_path().empty() ? "-" : response.result_path());
  const std::string& summary = response.result_summary();
  if (summary.find('\n') == std::string::npos) {
    AddField(out, "Summary", summary.empty() ? "-" : summary);
  } else {
    // Multi-line summaries (e.g. the top words) keep their lines, indented.
    absl::StrAppend(&out, "Summary:\n");
    for (absl::string_view line :
         absl::StrSplit(absl::StripTrailingAsciiWhitespace(summary), '\n')) {
      absl::StrAppend(&out, "  ", line, "\n");
    }
  }
  return out;
}

std::string FormatCluster(const quarry::v1::GetClusterResponse& response) {
  int alive = 0;
  std::vector<std::vector<std::string>> workers = {
      {"WORKER", "ADDRESS", "STATUS", "SLOTS", "HEARTBEAT"}};
  std::vector<std::vector<std::string>> busy = {
      {"WORKER", "SLOT", "STATUS", "ATTEMPT"}};
  for (const quarry::v1::Worker& worker : response.workers()) {
    if (worker.status() == quarry::v1::WORKER_STATUS_ALIVE) ++alive;
    int used = 0;
    for (const quarry::v1::SlotState& slot : worker.slot_states()) {
      if (slot.attempt_id().empty()) continue;
      ++used;
      busy.push_back({worker.id(), absl::StrCat(slot.index()),
                      ExecutionStatusName(slot.status()), slot.attempt_id()});
    }
    // Attempts beyond its slots wait in its queue.
    const int queued = std::max(0, used - worker.slots());
    workers.push_back(
        {worker.id(), worker.address(), WorkerStatusName(worker.status()),
         absl::StrCat(used - queued, "/", worker.slots(),
                      queued > 0 ? absl::StrCat(" +", queued, " queued") : ""),
         absl::StrCat(
             HumanDuration(absl::Milliseconds(worker.heartbeat_age_ms())),
             " ago")});
  }
  std::string out;
  AddField(out, "Cluster", ClusterStatusName(response.status()));
  AddField(out, "Workers",
           absl::StrCat(response.workers_size(), " (", alive, " alive)"));
  AddField(out, "Slots",
           absl::StrCat(
               response.slots_open(), " open, ", response.slots_used(),
               " used, ", response.slots_total(), " total",
               response.queued() > 0
                   ? absl::StrCat(", ", response.queued(), " attempts queued")
                   : ""));
  // The kinds the workers run, one line per distinct set.
  std::vector<std::pair<std::string, std::vector<std::string>>> kinds;
  for (const quarry::v1::Worker& worker : response.workers()) {
    const std::string names = absl::StrJoin(worker.kinds(), ", ");
    auto same =
        std::find_if(kinds.begin(), kinds.end(),
                     [&names](const auto& k) { return k.first == names; });
    if (same == kinds.end()) same = kinds.insert(kinds.end(), {names, {}});
    same->second.push_back(worker.id());
  }
  for (const auto& [names, ids] : kinds) {
    AddField(out, "Kinds",
             absl::StrCat(names.empty() ? "(not reported)" : names, " (",
                          absl::StrJoin(ids, ", "), ")"));
  }
  if (response.workers().empty()) return out;
  absl::StrAppend(&out, "\n", RenderTable(workers));
  if (busy.size() > 1) {
    absl::StrAppend(&out, "\nBusy slots:\n", RenderTable(busy));
  }
  return out;
}

}  // namespace quarry::cli

// The adapter between the JobKind interface and a plugin's C functions.

#include "worker/kinds/plugin_kind.h"

#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace quarry::worker {
namespace {

// What the plugin's callbacks reach through quarry_call_v1.host: the
// attempt's output and cancel flag, and the first write error.
struct Host {
  OutputSink* output;
  const CancelFlag* cancel;
  absl::Status write_status;
};

int WriteToOutput(void* opaque, const void* data, size_t size) {
  Host* host = static_cast<Host*>(opaque);
  if (!host->write_status.ok()) return 1;
  if (size == 0) return 0;
  if (data == nullptr) {
    host->write_status =
        absl::InternalError("the plugin passed a null pointer to write()");
    return 1;
  }
  host->write_status = host->output->Write(
      absl::string_view(static_cast<const char*>(data), size));
  return host->write_status.ok() ? 0 : 1;
}

int IsCancelled(void* opaque) {
  return static_cast<Host*>(opaque)->cancel->cancelled() ? 1 : 0;
}

class PluginKind : public JobKind {
 public:
  PluginKind(KindSpec spec, quarry_run_v1 run, bool is_reduce)
      : spec_(std::move(spec)), run_(run), is_reduce_(is_reduce) {}

  absl::StatusOr<std::string> Run(const KindContext& context) const override {
    const quarry::v1::Assignment& assignment = context.assignment;
    if (absl::Status valid = ValidateSettings(spec_, assignment.settings());
        !valid.ok()) {
      return valid;
    }
    if (assignment.inputs().empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "plugin ", spec_.name, ": ",
          is_reduce_ ? "reduce needs the part files" : "map needs an input",
          " as inputs"));
    }
    // The declared settings the job gives, in the order of the spec's
    // names (sorted below); the strings stay owned by the assignment.
    std::vector<quarry_kv_v1> settings;
    for (const SettingSpec& setting : spec_.settings) {
      if (setting.name == "delay_ms") continue;
      auto it = assignment.settings().find(setting.name);
      if (it == assignment.settings().end()) continue;
      settings.push_back({it->first.c_str(), it->second.c_str()});
    }
    std::sort(settings.begin(), settings.end(),
              [](const quarry_kv_v1& a, const quarry_kv_v1& b) {
                return std::strcmp(a.key, b.key) < 0;
              });
    std::vector<const char*> inputs;
    for (const std::string& input : assignment.inputs()) {
      inputs.push_back(input.c_str());
    }

    Host host{&context.output, &context.cancel, absl::OkStatus()};
    std::vector<char> error(kPluginErrorBytes);
    std::vector<char> summary(kPluginSummaryBytes, '\0');
    quarry_call_v1 call = {};
    call.settings = settings.data();
    call.setting_count = settings.size();
    call.job_id = assignment.job_id().c_str();
    call.attempt_id = assignment.attempt_id().c_str();
    call.task_index = assignment.task_index();
    call.write = &WriteToOutput;
    call.cancelled = &IsCancelled;
    call.host = &host;
    call.error_size = error.size();
    call.summary = summary.data();
    call.summary_size = summary.size();
    // Map: once per input file; reduce: once with them all.
    const size_t calls = is_reduce_ ? 1 : inputs.size();
    for (size_t i = 0; i < calls; ++i) {
      if (context.cancel.cancelled()) {
        return absl::CancelledError("attempt cancelled");
      }
      call.inputs = inputs.data() + i;
      call.input_count = is_reduce_ ? inputs.size() : 1;
      std::fill(error.begin(), error.end(), '\0');
      call.error = error.data();
      const int code = run_(&call);
      if (context.cancel.cancelled()) {
        return absl::CancelledError("attempt cancelled");
      }
      if (!host.write_status.ok()) return host.write_status;
      if (code != 0) {
        return absl::UnknownError(
            PluginError(spec_.name, error.data(), error.size(), code));
      }
    }
    summary.back() = '\0';
    return std::string(summary.data());
  }

 private:
  const KindSpec spec_;
  const quarry_run_v1 run_;
  const bool is_reduce_;
};

}  // namespace

std::string PluginError(absl::string_view kind, const char* buffer, size_t size,
                        int code) {
  const size_t length = buffer == nullptr ? 0 : strnlen(buffer, size);
  std::string message;
  size_t i = 0;
  for (; i < length && message.size() < kPluginErrorBytes; ++i) {
    const unsigned char c = static_cast<unsigned char>(buffer[i]);
    if (c >= 0x20 && c < 0x7f) {
      message.push_back(static_cast<char>(c));
    } else {
      absl::StrAppendFormat(&message, "\\x%02x", c);
    }
  }
  if (i < length) absl::StrAppend(&message, "...");
  if (message.empty()) {
    message = absl::StrCat("failed with code ", code, " and no message");
  }
  return absl::StrCat("plugin ", kind, ": ", message);
}

std::unique_ptr<JobKind> NewPluginKind(KindSpec spec, quarry_run_v1 run,
                                       bool is_reduce) {
  return std::make_unique<PluginKind>(std::move(spec), run, is_reduce);
}

}  // namespace quarry::worker

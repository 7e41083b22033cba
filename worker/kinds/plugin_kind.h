#ifndef QUARRY_WORKER_KINDS_PLUGIN_KIND_H_
#define QUARRY_WORKER_KINDS_PLUGIN_KIND_H_

#include <cstddef>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"
#include "common/job_kinds.h"
#include "worker/kinds/job_kind.h"
#include "worker/kinds/plugin_api.h"

namespace quarry::worker {

// Bytes of the error and summary buffers a plugin call gets; longer text
// is cut there by the plugin's own snprintf.
inline constexpr size_t kPluginErrorBytes = 1024;
inline constexpr size_t kPluginSummaryBytes = 1024;

// The JobKind of one step (map or reduce) of a plugin kind: calls the
// plugin's C function (plugin_api.h) with the attempt's inputs, settings
// and output. `spec` is the kind as the plugin described it (with
// "delay_ms"); the settings are checked against it again before the
// plugin runs, and only the ones it declared are passed. Map: one call per
// input file, in order, all writing the one output; reduce: one call with
// every part file. A non-zero return fails the attempt with
// "plugin <kind>: <message>" (the message bounded and escaped); a
// cancelled attempt returns CANCELLED whatever the plugin returned; a
// failed write returns the writer's error. Stateless and thread-safe like
// every JobKind (the plugin must be too); `run` must stay valid for the
// process's life (plugins are never unloaded).
std::unique_ptr<JobKind> NewPluginKind(KindSpec spec, quarry_run_v1 run,
                                       bool is_reduce);

// "plugin <kind>: <message>" from a plugin's error buffer of `size` bytes:
// the text up to the first NUL (or the whole buffer), bytes outside
// printable ASCII as \xNN, at most ~kPluginErrorBytes. `code` is quoted
// when the message is empty.
std::string PluginError(absl::string_view kind, const char* buffer, size_t size,
                        int code);

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_KINDS_PLUGIN_KIND_H_

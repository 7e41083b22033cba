#ifndef QUARRY_WORKER_KINDS_PLUGIN_LOADER_H_
#define QUARRY_WORKER_KINDS_PLUGIN_LOADER_H_

#include <string>
#include <vector>

#include "quarry/v1/types.pb.h"
#include "worker/kinds/kind_registry.h"

namespace quarry::worker {

// What LoadPlugins did.
struct PluginLoadResult {
  // The kinds it added to the registry, described for the leader
  // (RegisterWorkerRequest.plugin_kinds), in load order.
  std::vector<quarry::v1::KindDescription> kinds;
  // One line per refused file (or an unusable directory), "<path>: <why>";
  // each was also logged.
  std::vector<std::string> refused;
};

// Loads the plugins of `dir` (plugin_api.h) into `registry`, which must
// already hold the built-in kinds. Every regular file named *.so directly
// in `dir` (not in subdirectories) is loaded, in name order; a symbolic
// link is followed but must end at a regular file. A plugin is refused as
// a whole, with a log line naming the file and the reason, when: the
// directory or the file is writable by group or others, or owned by
// neither root nor the worker's user; dlopen (RTLD_NOW | RTLD_LOCAL)
// fails; it has no quarry_plugin_v1 symbol; its table is null, of another
// abi_version, or empty; an entry has no map function or breaks a rule of
// KindDescription (name, settings); or a kind name is a built-in kind's,
// another plugin's, or twice in the table. Refusals never stop the worker:
// it starts with the kinds it could load. A loaded plugin is never
// unloaded. Call once, on the main thread, before the registry is shared.
PluginLoadResult LoadPlugins(const std::string& dir, KindRegistry& registry);

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_KINDS_PLUGIN_LOADER_H_

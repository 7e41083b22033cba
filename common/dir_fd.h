#ifndef QUARRY_COMMON_DIR_FD_H_
#define QUARRY_COMMON_DIR_FD_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

// Directory operations on descriptors (from BeneathOpener), so that a
// symlink swapped in for a path component cannot redirect them. Stateless,
// thread-safe.
namespace quarry {

// The names in the directory `dir_fd` (any descriptor of it, O_PATH too),
// without "." and "..", in no particular order.
absl::StatusOr<std::vector<std::string>> ListDirectory(int dir_fd);

// Removes `name` from the directory `dir_fd`: a file, a symlink (never its
// target) or a directory with everything in it, never following a symlink
// on the way. OK when `name` does not exist. `name` is one component.
// An error names what could not be removed, relative to `dir_fd`
// ("tree/sub/file: Permission denied").
absl::Status RemoveTreeAt(int dir_fd, const std::string& name);

}  // namespace quarry

#endif  // QUARRY_COMMON_DIR_FD_H_

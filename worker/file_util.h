#ifndef QUARRY_WORKER_FILE_UTIL_H_
#define QUARRY_WORKER_FILE_UTIL_H_

#include <cstddef>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "common/beneath_opener.h"
#include "common/errno_status.h"
#include "worker/cancel_flag.h"

namespace quarry::worker {

// Plain-function file helpers shared by the job kinds and the output
// committer. Stateless and thread-safe; called on slot threads.

// Kinds read their inputs in chunks of this size and check for cancellation
// between chunks.
inline constexpr size_t kDefaultChunkSize = size_t{1} << 20;
// Longest line ForEachLine accepts; longer lines fail the attempt rather
// than exhaust memory.
inline constexpr size_t kMaxLineBytes = size_t{64} << 20;

// OK if `name` can name a file inside a directory: 1..255 characters of
// [A-Za-z0-9._-], not "." or "..". INVALID_ARGUMENT naming `field`
// otherwise ("attempt_id \"a/b\" may only contain ...").
absl::Status ValidatePlainFileName(absl::string_view name,
                                   absl::string_view field);

// Reads the regular file at `path` from start to end in chunks of at most
// `chunk_size` bytes and calls `on_chunk` for each (never with an empty
// chunk). The file is opened through `files`, beneath the worker's data
// roots (common/beneath_opener.h). Checks `cancel` before every read.
// Errors name the path: NOT_FOUND (missing), PERMISSION_DENIED,
// INVALID_ARGUMENT (outside the data roots, or led out of its root by a
// symlink), FAILED_PRECONDITION (a directory or other non-regular file),
// CANCELLED, or whatever `on_chunk` returned.
absl::Status ReadFileChunks(
    const BeneathOpener& files, absl::string_view path, size_t chunk_size,
    const CancelFlag& cancel,
    absl::FunctionRef<absl::Status(absl::string_view chunk)> on_chunk);

// Calls `on_line` for every line of the file at `path`, without its '\n'
// (a final line without '\n' is included; an empty file has no lines).
// Line numbers start at 1. Lines may span chunks. Errors as ReadFileChunks,
// plus RESOURCE_EXHAUSTED for a line longer than kMaxLineBytes.
absl::Status ForEachLine(
    const BeneathOpener& files, absl::string_view path, size_t chunk_size,
    const CancelFlag& cancel,
    absl::FunctionRef<absl::Status(absl::string_view line, int64_t number)>
        on_line);

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_FILE_UTIL_H_

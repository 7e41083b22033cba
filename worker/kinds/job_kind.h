#ifndef QUARRY_WORKER_KINDS_JOB_KIND_H_
#define QUARRY_WORKER_KINDS_JOB_KIND_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/beneath_opener.h"
#include "quarry/v1/types.pb.h"
#include "worker/attempt_log.h"
#include "worker/cancel_flag.h"

namespace quarry::worker {

// Where a kind writes its part file (or result.tsv). Implemented by
// StagedOutput (temp file, then atomic rename), DiscardOutput (the
// assignment has no output_path) and StringOutput (tests). Not thread-safe:
// one attempt's slot thread owns it.
class OutputSink {
 public:
  virtual ~OutputSink() = default;
  // Appends `data`. Cheap for small pieces: implementations buffer.
  virtual absl::Status Write(absl::string_view data) = 0;
};

// Drops everything: used when an assignment's output_path is empty.
class DiscardOutput : public OutputSink {
 public:
  absl::Status Write(absl::string_view data) override {
    return absl::OkStatus();
  }
};

// Keeps everything in memory (tests).
class StringOutput : public OutputSink {
 public:
  absl::Status Write(absl::string_view data) override {
    contents_.append(data.data(), data.size());
    return absl::OkStatus();
  }
  const std::string& contents() const { return contents_; }

 private:
  std::string contents_;
};

// Everything a kind needs for one attempt. The referenced objects outlive
// the Run() call.
struct KindContext {
  const quarry::v1::Assignment& assignment;
  // Set when the attempt must stop; kinds poll it at least every chunk
  // (1 MiB) and return absl::CancelledError() promptly.
  const CancelFlag& cancel;
  OutputSink& output;
  // The file behind `output` (the attempt's staging file), for kinds whose
  // own process writes it (exec's {output}); empty when the assignment has
  // no output_path.
  const std::string& output_file;
  // The attempt's log (`quarry logs`); never null (a discarding one when
  // the caller keeps none).
  AttemptLog* log;
  // Opens inputs beneath the worker's data roots (--data_root), never
  // through a symlink that leads out of them: kinds read their inputs
  // through it (ReadFileChunks), or check them with it before handing
  // their paths to other code (exec, plugins).
  const BeneathOpener& files;
  // The descriptor of output_file while the kind runs (-1 without one):
  // for changing its owner without going by its path.
  int output_fd = -1;
};

// One job kind (wordcount map, wordcount reduce, grep, ...). Implementations
// are stateless after construction and thread-safe: several slot threads
// call Run() concurrently. A kind never crashes on bad input: it returns an
// error naming the input and the problem.
class JobKind {
 public:
  virtual ~JobKind() = default;
  // Runs one attempt: reads context.assignment's inputs, writes the output
  // to context.output and returns the short summary (at most ~1 KiB).
  virtual absl::StatusOr<std::string> Run(const KindContext& context) const = 0;
};

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_KINDS_JOB_KIND_H_

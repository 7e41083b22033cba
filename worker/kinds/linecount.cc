// The linecount kind: "PATH\tLINES\n" per input.

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "worker/file_util.h"
#include "worker/kinds/builtin_kinds.h"

namespace quarry::worker {
namespace {

class LineCountKind : public JobKind {
 public:
  explicit LineCountKind(size_t chunk_size) : chunk_size_(chunk_size) {}

  absl::StatusOr<std::string> Run(const KindContext& context) const override {
    const auto& inputs = context.assignment.inputs();
    if (inputs.empty()) {
      return absl::InvalidArgumentError("linecount needs at least one input");
    }
    int64_t total = 0;
    std::string line;
    for (const std::string& input : inputs) {
      int64_t newlines = 0;
      char last = '\n';  // An empty file counts as ending in '\n'.
      absl::Status status = ReadFileChunks(
          context.files, input, chunk_size_, context.cancel,
          [&](absl::string_view chunk) {
            newlines += std::count(chunk.begin(), chunk.end(), '\n');
            last = chunk.back();
            return absl::OkStatus();
          });
      if (!status.ok()) return status;
      const int64_t lines = newlines + (last != '\n' ? 1 : 0);
      total += lines;
      line.clear();
      absl::StrAppend(&line, input, "\t", lines, "\n");
      if (status = context.output.Write(line); !status.ok()) return status;
    }
    return absl::StrCat(total, " lines");
  }

 private:
  const size_t chunk_size_;
};

}  // namespace

std::unique_ptr<JobKind> NewLineCountKind(size_t chunk_size) {
  return std::make_unique<LineCountKind>(chunk_size);
}

}  // namespace quarry::worker

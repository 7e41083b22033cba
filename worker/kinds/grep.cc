// The grep kind: matching lines as "PATH:LINENO:LINE\n".

#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "re2/re2.h"
#include "worker/file_util.h"
#include "worker/kinds/builtin_kinds.h"

namespace quarry::worker {
namespace {

constexpr absl::string_view kPatternSetting = "pattern";

class GrepKind : public JobKind {
 public:
  explicit GrepKind(size_t chunk_size) : chunk_size_(chunk_size) {}

  absl::StatusOr<std::string> Run(const KindContext& context) const override {
    const auto& settings = context.assignment.settings();
    auto it = settings.find(std::string(kPatternSetting));
    if (it == settings.end() || it->second.empty()) {
      return absl::InvalidArgumentError(
          "settings.pattern is required for kind grep (RE2 regular "
          "expression)");
    }
    const RE2 re(it->second, RE2::Quiet);
    if (!re.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "settings.pattern is not a valid RE2 expression: ", re.error()));
    }
    const auto& inputs = context.assignment.inputs();
    if (inputs.empty()) {
      return absl::InvalidArgumentError("grep needs at least one input");
    }
    int64_t matches = 0;
    std::string out;
    for (const std::string& input : inputs) {
      absl::Status status = ForEachLine(
          context.files, input, chunk_size_, context.cancel,
          [&](absl::string_view line, int64_t number) -> absl::Status {
            if (!RE2::PartialMatch(re2::StringPiece(line.data(), line.size()),
                                   re)) {
              return absl::OkStatus();
            }
            ++matches;
            out.clear();
            absl::StrAppend(&out, input, ":", number, ":", line, "\n");
            return context.output.Write(out);
          });
      if (!status.ok()) return status;
    }
    return absl::StrCat(matches, " matching lines");
  }

 private:
  const size_t chunk_size_;
};

}  // namespace

std::unique_ptr<JobKind> NewGrepKind(size_t chunk_size) {
  return std::make_unique<GrepKind>(chunk_size);
}

}  // namespace quarry::worker

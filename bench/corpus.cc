#include "bench/corpus.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "tests/testing/subprocess.h"

namespace quarry::bench {
namespace {

namespace fs = std::filesystem;

constexpr char kBibleRange[] = "Gen1:1-Rev22:21";
constexpr char kCompleteMarker[] = ".complete";

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

absl::StatusOr<std::string> BibleText(const std::string& cache_dir) {
  const std::string path = cache_dir + "/kjv.txt";
  if (absl::StatusOr<std::string> text = ReadWholeFile(path);
      text.ok() && text->size() > 1'000'000) {
    return text;
  }
  std::string bible = "/usr/bin/bible";
  if (!fs::exists(bible)) bible = "/usr/games/bible";
  if (!fs::exists(bible)) {
    return absl::FailedPreconditionError(
        "the `bible` command is missing: apt-get install bible-kjv");
  }
  const std::string partial = path + ".partial";
  absl::StatusOr<testing::Subprocess> run = testing::Subprocess::Start(
      {bible, "-f", kBibleRange}, partial, /*stderr_path=*/"/dev/null");
  if (!run.ok()) return run.status();
  absl::StatusOr<int> code = run->Wait(absl::Seconds(120));
  if (!code.ok()) return code.status();  // The destructor kills it.
  if (*code != 0) {
    return absl::InternalError(absl::StrCat("bible exited with code ", *code));
  }
  fs::rename(partial, path);
  absl::StatusOr<std::string> text = ReadWholeFile(path);
  if (text.ok() && text->size() < 1'000'000) {
    return absl::InternalError(
        absl::StrCat("bible printed only ", text->size(), " bytes"));
  }
  return text;
}

std::vector<std::string> CorpusPaths(const std::string& dir, int files) {
  std::vector<std::string> paths;
  for (int i = 0; i < files; ++i) {
    paths.push_back(absl::StrFormat("%s/kjv-%05d.txt", dir, i));
  }
  return paths;  // Sorted: fixed-width numbers.
}

}  // namespace

absl::StatusOr<std::vector<std::string>> EnsureCorpus(
    const std::string& cache_dir, int files, int64_t bytes_per_file) {
  const std::string dir =
      absl::StrCat(cache_dir, "/kjv-", files, "x", bytes_per_file);
  std::vector<std::string> paths = CorpusPaths(dir, files);
  if (fs::exists(dir + "/" + kCompleteMarker)) return paths;

  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", error.message()));
  }
  absl::StatusOr<std::string> text = BibleText(cache_dir);
  if (!text.ok()) return text.status();
  // Each file continues the text where the previous one stopped, cycling,
  // and ends at the first line end past bytes_per_file.
  size_t position = 0;
  for (const std::string& path : paths) {
    std::string content;
    content.reserve(bytes_per_file + 256);
    while (static_cast<int64_t>(content.size()) < bytes_per_file) {
      size_t end = text->find('\n', position);
      end = end == std::string::npos ? text->size() : end + 1;
      content.append(*text, position, end - position);
      position = end >= text->size() ? 0 : end;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", path));
  }
  std::ofstream(dir + "/" + kCompleteMarker) << "ok\n";
  return paths;
}

int64_t TotalBytes(const std::vector<std::string>& paths) {
  int64_t total = 0;
  std::error_code error;
  for (const std::string& path : paths) {
    const auto size = fs::file_size(path, error);
    if (!error) total += static_cast<int64_t>(size);
  }
  return total;
}

absl::Status WarmPageCache(const std::vector<std::string>& paths) {
  std::vector<char> buffer(1 << 20);
  for (const std::string& path : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    while (in.read(buffer.data(), buffer.size()) || in.gcount() > 0) {
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<WordCounts> CountWords(const std::vector<std::string>& paths) {
  WordCounts counts;
  std::string word;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> content = ReadWholeFile(path);
    if (!content.ok()) return content.status();
    for (char c : *content) {
      if (c >= 'a' && c <= 'z') {
        word.push_back(c);
      } else if (c >= 'A' && c <= 'Z') {
        word.push_back(static_cast<char>(c - 'A' + 'a'));
      } else if (!word.empty()) {
        ++counts[word];
        word.clear();
      }
    }
    if (!word.empty()) {  // A word ends at the end of its file.
      ++counts[word];
      word.clear();
    }
  }
  return counts;
}

absl::StatusOr<WordCounts> ReadResultTsv(const std::string& path) {
  absl::StatusOr<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return content.status();
  WordCounts counts;
  for (absl::string_view line : absl::StrSplit(*content, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> fields =
        absl::StrSplit(line, absl::MaxSplits('\t', 1));
    int64_t count = 0;
    if (!absl::SimpleAtoi(fields.second, &count)) {
      return absl::DataLossError(absl::StrCat("bad line in ", path, ": ", line));
    }
    counts[fields.first] += count;
  }
  return counts;
}

absl::Status CompareCounts(const WordCounts& want, const WordCounts& got) {
  for (const auto& [word, count] : want) {
    auto it = got.find(word);
    const int64_t found = it == got.end() ? 0 : it->second;
    if (found != count) {
      return absl::DataLossError(absl::StrCat("word \"", word, "\": expected ",
                                              count, ", cluster counted ", found));
    }
  }
  if (got.size() != want.size()) {
    return absl::DataLossError(absl::StrCat("cluster found ", got.size(),
                                            " distinct words, expected ",
                                            want.size()));
  }
  return absl::OkStatus();
}

}  // namespace quarry::bench

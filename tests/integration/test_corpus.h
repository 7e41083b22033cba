#ifndef QUARRY_TESTS_INTEGRATION_TEST_CORPUS_H_
#define QUARRY_TESTS_INTEGRATION_TEST_CORPUS_H_

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/testing/temp_dir.h"

namespace quarry::testing {

// Writes `files` small text files under `dir` (with odd bytes, mixed case,
// no trailing newline on some) and returns their paths, sorted.
inline std::vector<std::string> WriteCorpus(const std::string& dir, int files) {
  using namespace std::string_literals;  // "..."s keeps the NUL byte.
  const std::string kLines[] = {
      "In the beginning God created the heaven and the earth.\n"s,
      "And the earth was without form, and void; AND darkness!\n"s,
      "caf\xc3\xa9 na\xc3\xafve x\x00y tab\there--dash_under 42nd\n"s,
      "The end"s,
  };
  std::vector<std::string> paths;
  for (int i = 0; i < files; ++i) {
    std::string content;
    for (int line = 0; line <= i % 7; ++line) {
      content += kLines[(i + line) % 4];
    }
    const std::string path =
        absl::StrCat(dir, "/", i % 3 == 0 ? "sub/" : "", "file-", 100 + i, ".txt");
    WriteFile(path, content);
    paths.push_back(path);
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// Adds the words of `path` (ASCII letters, lower-cased) to `counts`: plain,
// obviously-correct code, independent of the worker's implementation.
inline void CountWordsOf(const std::string& path,
                         std::map<std::string, long>& counts) {
  std::string word;
  for (char c : ReadFile(path) + " ") {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      word.push_back(static_cast<char>(std::tolower(c)));
    } else if (!word.empty()) {
      ++counts[word];
      word.clear();
    }
  }
}

// The reference word count: result.tsv's expected content.
inline std::string ReferenceWordCount(const std::vector<std::string>& paths) {
  std::map<std::string, long> counts;
  for (const std::string& path : paths) CountWordsOf(path, counts);
  std::vector<std::pair<std::string, long>> sorted(counts.begin(), counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string out;
  for (const auto& [word, count] : sorted) absl::StrAppend(&out, word, "\t", count, "\n");
  return out;
}

// A part file of wordcount for one input: "word\tcount\n" by word.
inline std::string ReferencePart(const std::string& path) {
  std::map<std::string, long> counts;
  CountWordsOf(path, counts);
  std::string out;
  for (const auto& [w, n] : counts) absl::StrAppend(&out, w, "\t", n, "\n");
  return out;
}

// part-00000 .. part-(n-1), plus extra names, sorted.
inline std::vector<std::string> ExpectedParts(int n,
                                              std::vector<std::string> extra = {}) {
  std::vector<std::string> names = std::move(extra);
  for (int i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "part-%05d", i);
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace quarry::testing

#endif  // QUARRY_TESTS_INTEGRATION_TEST_CORPUS_H_

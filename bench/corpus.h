#ifndef QUARRY_BENCH_CORPUS_H_
#define QUARRY_BENCH_CORPUS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace quarry::bench {

// Word -> count. A word is a maximal run of ASCII letters, lowercased: the
// definition of the `wordcount` job kind.
using WordCounts = absl::flat_hash_map<std::string, int64_t>;

// The wordcount input: `files` text files of about `bytes_per_file` bytes
// each (cut at line ends), made by repeating the King James Bible as
// printed by `bible -f "Gen1:1-Rev22:21"` (Debian package bible-kjv).
// Cached under `cache_dir`: a directory named after the sizes, reused when
// a previous run completed it. Returns the file paths, sorted.
absl::StatusOr<std::vector<std::string>> EnsureCorpus(
    const std::string& cache_dir, int files, int64_t bytes_per_file);

// Total size of `paths` in bytes.
int64_t TotalBytes(const std::vector<std::string>& paths);

// Reads every file once (untimed) so that both the cluster and the
// baseline find them in the page cache.
absl::Status WarmPageCache(const std::vector<std::string>& paths);

// The single-threaded in-process baseline: reads and counts every file.
absl::StatusOr<WordCounts> CountWords(const std::vector<std::string>& paths);

// Parses a wordcount result.tsv ("word<TAB>count" lines).
absl::StatusOr<WordCounts> ReadResultTsv(const std::string& path);

// OK when `got` equals `want`; else names the first difference.
absl::Status CompareCounts(const WordCounts& want, const WordCounts& got);

}  // namespace quarry::bench

#endif  // QUARRY_BENCH_CORPUS_H_

#ifndef QUARRY_WORKER_KINDS_BUILTIN_KINDS_H_
#define QUARRY_WORKER_KINDS_BUILTIN_KINDS_H_

#include <cstddef>
#include <memory>

#include "worker/file_util.h"
#include "worker/kinds/job_kind.h"

namespace quarry::worker {

// Factories for the built-in kinds of common/job_kinds.h. `chunk_size` is
// how much of an input is read at a time (tests use tiny chunks to exercise
// words and lines that span chunk boundaries). Every kind reads the inputs
// in the order given and checks cancellation before every chunk.

// wordcount map: counts words (maximal runs of ASCII letters, lowercased;
// every other byte, including NUL and 0x80-0xFF, separates words) over all
// inputs. Part file: "word\tcount\n" sorted by word. Summary:
// "N words, M distinct".
std::unique_ptr<JobKind> NewWordCountMapKind(
    size_t chunk_size = kDefaultChunkSize);

// wordcount reduce: sums the "word\tcount\n" part files given as inputs.
// Output (result.tsv): "word\tcount\n" sorted by count descending, then word
// ascending. Summary: the top 10 as "the=123 and=99 ...", at most 1 KiB.
std::unique_ptr<JobKind> NewWordCountReduceKind(
    size_t chunk_size = kDefaultChunkSize);

// linecount: one "PATH\tLINES\n" per input. LINES is the number of '\n'
// bytes, plus one when the file is non-empty and does not end in '\n'; so it
// equals `wc -l` except that a final unterminated line counts as a line.
// Summary: "N lines" (the total over all inputs).
std::unique_ptr<JobKind> NewLineCountKind(
    size_t chunk_size = kDefaultChunkSize);

// grep (setting "pattern", an RE2 expression): every line containing a match
// (RE2::PartialMatch) as "PATH:LINENO:LINE\n", line numbers from 1, like
// `grep -Hn` (but binary files are searched like text). Summary:
// "N matching lines".
std::unique_ptr<JobKind> NewGrepKind(size_t chunk_size = kDefaultChunkSize);

// sha256: one "HEX  PATH\n" per input exactly as `sha256sum PATH` prints it
// (GNU coreutils 9 escaping: a name containing '\\', '\n' or '\r' is written
// with those escaped and the line starts with '\\'). Summary: the hex digest
// (for several inputs, "N files").
std::unique_ptr<JobKind> NewSha256Kind(size_t chunk_size = kDefaultChunkSize);

// sleep (setting "ms"): waits that long, or until cancelled. Writes nothing
// (an output_path gets an empty file). Summary: "slept N ms".
std::unique_ptr<JobKind> NewSleepKind();

// noop: does nothing; writes nothing. Summary: empty.
std::unique_ptr<JobKind> NewNoopKind();

// flaky (setting "fail_attempts" = K): attempts 1..K of every task fail
// ("flaky: attempt 2 of the first 3 fails on purpose"); later attempts
// succeed exactly like noop, whatever their number.
std::unique_ptr<JobKind> NewFlakyKind();

}  // namespace quarry::worker

#endif  // QUARRY_WORKER_KINDS_BUILTIN_KINDS_H_

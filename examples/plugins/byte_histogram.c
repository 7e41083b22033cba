/* byte-histogram: an example Quarry plugin kind (docs/plugins.md).
 *
 * map:    counts each byte value 0..255 of its input file and writes 256
 *         lines "BYTE\tCOUNT" (BYTE in decimal, every value, zeros too).
 *         A task with several input files (JobSpec.bytes_per_task) gets
 *         one such block of 256 lines per file.
 * reduce: sums the lines of every part file and writes result.tsv, the
 *         same 256 lines for the whole job (leaving out values counted
 *         fewer than settings.min_count times, if given).
 *
 * Build by hand:
 *   cc -std=c99 -O2 -Wall -shared -fPIC -I worker/kinds \
 *       examples/plugins/byte_histogram.c -o byte_histogram.so
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_api.h"

#define CHUNK_BYTES 65536

/* Formats the message into call->error and returns 1 (failure). */
static int fail(const quarry_call_v1* call, const char* what,
                const char* path) {
  snprintf(call->error, call->error_size, "%s %s: %s", what, path,
           errno != 0 ? strerror(errno) : "unexpected content");
  return 1;
}

/* Writes lines "BYTE\tCOUNT" for every value counted at least min_count
 * times; 0 on success. */
static int write_counts(const quarry_call_v1* call, const uint64_t* counts,
                        uint64_t min_count) {
  char text[256 * 32];
  size_t used = 0;
  for (int value = 0; value < 256; ++value) {
    if (counts[value] < min_count) continue;
    used += (size_t)snprintf(text + used, sizeof(text) - used, "%d\t%llu\n",
                             value, (unsigned long long)counts[value]);
  }
  if (call->write(call->host, text, used) != 0) {
    snprintf(call->error, call->error_size, "cannot write the output");
    return 1;
  }
  return 0;
}

static int histogram_map(const quarry_call_v1* call) {
  const char* path = call->inputs[0];
  FILE* in = fopen(path, "rb");
  if (in == NULL) return fail(call, "cannot open", path);
  uint64_t counts[256] = {0};
  uint64_t total = 0;
  unsigned char chunk[CHUNK_BYTES];
  size_t got;
  errno = 0;
  while ((got = fread(chunk, 1, sizeof(chunk), in)) > 0) {
    if (call->cancelled(call->host)) {
      fclose(in);
      return 1; /* The worker reports the attempt CANCELLED. */
    }
    for (size_t i = 0; i < got; ++i) ++counts[chunk[i]];
    total += got;
  }
  const int read_error = ferror(in);
  fclose(in);
  if (read_error) return fail(call, "cannot read", path);
  /* The summary holds the bytes counted by the earlier calls of this
   * attempt (one per input file): add to it. */
  const unsigned long long before = strtoull(call->summary, NULL, 10);
  snprintf(call->summary, call->summary_size, "%llu bytes",
           before + (unsigned long long)total);
  return write_counts(call, counts, 0);
}

/* Parses "BYTE\tCOUNT" (no sign, no spaces); 0 on success. */
static int parse_line(const char* line, int* value, uint64_t* count) {
  char* end;
  if (line[0] < '0' || line[0] > '9') return 1;
  errno = 0;
  const unsigned long byte = strtoul(line, &end, 10);
  if (errno != 0 || *end != '\t' || byte > 255) return 1;
  const char* digits = end + 1;
  if (digits[0] < '0' || digits[0] > '9') return 1;
  const unsigned long long n = strtoull(digits, &end, 10);
  if (errno != 0 || (*end != '\n' && *end != '\0')) return 1;
  *value = (int)byte;
  *count = (uint64_t)n;
  return 0;
}

static int histogram_reduce(const quarry_call_v1* call) {
  uint64_t min_count = 0;
  for (size_t i = 0; i < call->setting_count; ++i) {
    if (strcmp(call->settings[i].key, "min_count") == 0) {
      /* Validated by Quarry: an integer in the declared range. */
      min_count = strtoull(call->settings[i].value, NULL, 10);
    }
  }
  uint64_t counts[256] = {0};
  for (size_t i = 0; i < call->input_count; ++i) {
    if (call->cancelled(call->host)) return 1;
    const char* path = call->inputs[i];
    FILE* in = fopen(path, "r");
    if (in == NULL) return fail(call, "cannot open", path);
    char line[64];
    long number = 0;
    while (fgets(line, sizeof(line), in) != NULL) {
      ++number;
      int value;
      uint64_t count;
      if (parse_line(line, &value, &count) != 0 ||
          counts[value] > UINT64_MAX - count) {
        fclose(in);
        snprintf(call->error, call->error_size,
                 "%s line %ld is not \"BYTE<TAB>COUNT\"", path, number);
        return 1;
      }
      counts[value] += count;
    }
    const int read_error = ferror(in);
    fclose(in);
    if (read_error) return fail(call, "cannot read", path);
  }
  uint64_t total = 0;
  for (int value = 0; value < 256; ++value) total += counts[value];
  snprintf(call->summary, call->summary_size, "%llu bytes in %zu parts",
           (unsigned long long)total, call->input_count);
  return write_counts(call, counts, min_count);
}

static const quarry_setting_v1 kSettings[] = {
    {"min_count", QUARRY_SETTING_INTEGER, 0, 0, INT64_MAX,
     "result.tsv leaves out byte values counted fewer times (default 0)"},
};

static const quarry_kind_v1 kKinds[] = {
    {"byte-histogram",
     "counts each byte value 0..255 per file; reduce sums them into "
     "result.tsv",
     kSettings, 1, histogram_map, histogram_reduce},
};

static const quarry_plugin_table_v1 kTable = {QUARRY_PLUGIN_ABI_VERSION, kKinds,
                                              1};

const quarry_plugin_table_v1* quarry_plugin_v1(void) { return &kTable; }

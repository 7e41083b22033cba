/* Quarry plugin ABI, version 1: job kinds in a shared library.
 *
 * A plugin is a shared object (.so) that `quarry-worker --plugin_dir DIR`
 * loads at start. It exports one C function, quarry_plugin_v1(), returning
 * a table of the job kinds it provides; each kind has a map function
 * (called for every input file of a task) and, optionally, a reduce
 * function (called once with every part file of the job). This header is
 * the whole contract: plain C99, no Quarry library to link. Build a plugin
 * with
 *
 *   cc -std=c99 -O2 -shared -fPIC -I<quarry>/worker/kinds \
 *       my_kind.c -o my_kind.so
 *
 * See docs/plugins.md for a walk-through, and examples/plugins/ for a
 * complete plugin.
 *
 * Rules every plugin follows:
 * - Threads: map and reduce are called concurrently from several slot
 *   threads of the worker (one call per attempt at a time on a thread, many
 *   attempts at once). Keep no mutable global state, or guard it.
 * - Cancellation: poll call->cancelled(call->host) at least every few
 *   milliseconds of work (e.g. once per 1 MiB read) and return promptly
 *   (any non-zero value) once it returns non-zero.
 * - Errors: return 0 on success. On failure return non-zero and write a
 *   NUL-terminated message into call->error (at most call->error_size
 *   bytes including the NUL; e.g. snprintf). The worker fails the attempt
 *   with "plugin <kind>: <message>".
 * - Output: write it only through call->write(call->host, data, size),
 *   which returns 0, or non-zero when the output cannot be written (then
 *   stop and return non-zero; the worker reports its own error).
 * - Memory: every pointer in quarry_call_v1 is valid only during the call.
 *   The table returned by quarry_plugin_v1 and everything it points to must
 *   stay valid and unchanged while the process runs (static data): the
 *   worker never unloads a plugin.
 * - A plugin runs inside the worker process with the worker's rights: a
 *   crash in it (a bad pointer, abort()) takes the worker down with its
 *   running attempts (the leader re-runs them elsewhere).
 */
#ifndef QUARRY_WORKER_KINDS_PLUGIN_API_H_
#define QUARRY_WORKER_KINDS_PLUGIN_API_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The version this header describes; the table's abi_version must equal
 * it. A later, incompatible version gets a new entry point
 * (quarry_plugin_v2) and a new number; abi_version stays the first field of
 * every version's table. */
#define QUARRY_PLUGIN_ABI_VERSION 1

/* The name of the exported entry point, for dlsym. */
#define QUARRY_PLUGIN_ENTRY_POINT "quarry_plugin_v1"

/* How the value of a setting is checked before the plugin sees it. */
enum quarry_setting_type {
  /* A decimal integer in [min_value, max_value]. */
  QUARRY_SETTING_INTEGER = 1,
  /* A duration such as "5s" or "250ms", in [min_value, max_value] ms. */
  QUARRY_SETTING_DURATION = 2,
  /* A size such as "512M" (K, M, G, T: binary multiples), in
   * [min_value, max_value] bytes. */
  QUARRY_SETTING_BYTES = 3,
  /* Text without a NUL byte of min_value to max_value bytes (max_value 0:
   * up to 4096). */
  QUARRY_SETTING_STRING = 4,
  /* An RE2 regular expression (min_value, max_value unused). */
  QUARRY_SETTING_REGEX = 5
};

/* One setting a kind accepts (`quarry submit --set NAME=VALUE`). */
typedef struct quarry_setting_v1 {
  const char* name; /* [a-z][a-z0-9_]{0,63}; not delay_ms nor tasks. */
  int type;         /* enum quarry_setting_type */
  int required;     /* non-zero: every job of the kind must give it */
  int64_t min_value;
  int64_t max_value;
  const char* help; /* one line for users, at most 1024 bytes; may be NULL */
} quarry_setting_v1;

/* A setting of the job, as given by the user (already validated). */
typedef struct quarry_kv_v1 {
  const char* key;
  const char* value;
} quarry_kv_v1;

/* Everything one call of map or reduce gets. */
typedef struct quarry_call_v1 {
  /* The files to read: map gets exactly one (it is called once per input
   * file of the task, in order, all calls writing the same output); reduce
   * gets every part file of the job, in task order. Absolute paths. */
  const char* const* inputs;
  size_t input_count;
  /* The job's settings that the kind declared, sorted by key (absent
   * optional settings are left out). */
  const quarry_kv_v1* settings;
  size_t setting_count;
  /* Which attempt this is, for messages: "job-000042", "job-000042.3.1". */
  const char* job_id;
  const char* attempt_id;
  int32_t task_index;
  /* Appends size bytes to the task's output (the part file, or result.tsv
   * for reduce). Returns 0, or non-zero if it failed. */
  int (*write)(void* host, const void* data, size_t size);
  /* Non-zero once the attempt must stop. Cheap: poll it often. */
  int (*cancelled)(void* host);
  void* host; /* pass to write and cancelled */
  /* Where to put the error message when returning non-zero (NUL-terminated,
   * at most error_size bytes with the NUL). Zero-filled on entry. */
  char* error;
  size_t error_size;
  /* Optional: a short result shown by `quarry status` (NUL-terminated, at
   * most summary_size bytes), e.g. "1234 bytes". Zero-filled on the first
   * call of an attempt; what it holds after the last call is kept. */
  char* summary;
  size_t summary_size;
} quarry_call_v1;

/* A map or reduce function: 0 on success, non-zero on failure. */
typedef int (*quarry_run_v1)(const quarry_call_v1* call);

/* One job kind. */
typedef struct quarry_kind_v1 {
  const char* name;        /* [a-z][a-z0-9_-]{0,63}, not a built-in kind */
  const char* description; /* one line, at most 1024 bytes; may be NULL */
  const quarry_setting_v1* settings; /* may be NULL when setting_count is 0 */
  size_t setting_count;              /* at most 64 */
  quarry_run_v1 map;                 /* required */
  quarry_run_v1 reduce;              /* NULL: no reduce step (no result.tsv) */
} quarry_kind_v1;

/* What quarry_plugin_v1 returns. */
typedef struct quarry_plugin_table_v1 {
  uint32_t abi_version; /* QUARRY_PLUGIN_ABI_VERSION; always the first field */
  const quarry_kind_v1* kinds;
  size_t kind_count; /* 1..64 */
} quarry_plugin_table_v1;

/* Exported even when the plugin is built with -fvisibility=hidden. */
#if defined(__GNUC__)
#define QUARRY_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define QUARRY_PLUGIN_EXPORT
#endif

/* The entry point every plugin exports. Called once, at load, on the
 * worker's main thread. */
QUARRY_PLUGIN_EXPORT const quarry_plugin_table_v1* quarry_plugin_v1(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* QUARRY_WORKER_KINDS_PLUGIN_API_H_ */

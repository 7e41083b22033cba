/* Deliberately broken plugins for the loader tests, one per BAD_* macro
 * (tests/worker/CMakeLists.txt builds each as its own .so):
 *   BAD_ABI        a table of ABI version 99
 *   BAD_NO_SYMBOL  no quarry_plugin_v1 at all
 *   BAD_BUILTIN    a kind named like a built-in kind (wordcount)
 *   BAD_NAME       a kind name outside [a-z][a-z0-9_-]{0,63}
 *   BAD_NO_MAP     a kind without a map function
 *   BAD_NULL_TABLE quarry_plugin_v1 returns NULL
 *   BAD_SETTING    a setting whose min_value is above its max_value
 */
#include <stddef.h>

#include "plugin_api.h"

#if defined(BAD_NO_SYMBOL)
int quarry_plugin_v0(void) { return 0; } /* The wrong name. */
#else

#if defined(BAD_BUILTIN)
#define KIND_NAME "wordcount"
#elif defined(BAD_NAME)
#define KIND_NAME "Bad Name"
#else
#define KIND_NAME "broken"
#endif

#if defined(BAD_NO_MAP)
#define MAP NULL
#else
static int do_nothing(const quarry_call_v1* call) {
  (void)call;
  return 0;
}
#define MAP do_nothing
#endif

#if defined(BAD_ABI)
#define ABI 99
#else
#define ABI QUARRY_PLUGIN_ABI_VERSION
#endif

#if defined(BAD_SETTING)
static const quarry_setting_v1 kSettings[] = {
    {"limit", QUARRY_SETTING_INTEGER, 0, 10, 1, "min above max"},
};
#define SETTINGS kSettings, 1
#else
#define SETTINGS NULL, 0
#endif

static const quarry_kind_v1 kKinds[] = {
    {KIND_NAME, "a broken kind", SETTINGS, MAP, NULL},
};

static const quarry_plugin_table_v1 kTable = {ABI, kKinds, 1};

const quarry_plugin_table_v1* quarry_plugin_v1(void) {
#if defined(BAD_NULL_TABLE)
  (void)kTable;
  return NULL;
#else
  return &kTable;
#endif
}
#endif

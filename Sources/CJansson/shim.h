#ifndef PODLINK_CJANSSON_SHIM_H
#define PODLINK_CJANSSON_SHIM_H
#include <jansson.h>

// jansson's type checks and reference counting are macros and static inline
// functions; Swift cannot see macros, so expose them as functions.
static inline int cjansson_typeof(const json_t *json) { return json ? (int)json_typeof(json) : -1; }
static inline void cjansson_decref(json_t *json) { json_decref(json); }
static inline json_t *cjansson_incref(json_t *json) { return json_incref(json); }
#endif

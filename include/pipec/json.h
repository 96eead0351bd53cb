/*
 * json.h — a small streaming JSON writer (pipec only writes JSON: graph,
 * show --json, runs --json, run events). It tracks commas and nesting, and
 * escapes strings per RFC 8259 (bytes that are not valid UTF-8 are written
 * as U+FFFD so the output is always valid JSON).
 *
 *   pipec_json j; pipec_json_init(&j, stdout, true);
 *   pipec_json_obj(&j);  pipec_json_key(&j, "name"); pipec_json_str(&j, "x");
 *   pipec_json_end(&j);  pipec_json_done(&j);
 */
#ifndef PIPEC_JSON_H
#define PIPEC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "export.h"

/* Levels of nesting written; deeper ones are not opened. */
#define PIPEC_JSON_MAX_DEPTH 64

/* The writer's state is private: a fixed-size block, so a writer can live
 * on the stack, used only through the functions below (pipec_json_init
 * fills it). Nothing is allocated; there is nothing to free. */
typedef struct pipec_json {
  uint64_t private_[32];
} pipec_json;

PIPEC_API void pipec_json_init(pipec_json *j, FILE *out, bool pretty);
PIPEC_API void pipec_json_obj(pipec_json *j);        /* { */
PIPEC_API void pipec_json_arr(pipec_json *j);        /* [ */
PIPEC_API void pipec_json_end(pipec_json *j);        /* } or ] */
PIPEC_API void pipec_json_key(pipec_json *j, const char *key);
PIPEC_API void pipec_json_str(pipec_json *j, const char *s); /* NULL: null */
PIPEC_API void pipec_json_strn(pipec_json *j, const char *s, size_t n);
PIPEC_API void pipec_json_int(pipec_json *j, int64_t v);
PIPEC_API void pipec_json_num(pipec_json *j, double v);
PIPEC_API void pipec_json_bool(pipec_json *j, bool v);
PIPEC_API void pipec_json_null(pipec_json *j);
/* Ends the document with a newline. */
PIPEC_API void pipec_json_done(pipec_json *j);

#endif

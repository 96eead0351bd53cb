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
#include <stdint.h>
#include <stdio.h>

#define PIPEC_JSON_MAX_DEPTH 64

typedef struct pipec_json {
  FILE *out;
  bool pretty;
  int depth;
  bool first[PIPEC_JSON_MAX_DEPTH]; /* no item yet at this depth */
  char close[PIPEC_JSON_MAX_DEPTH]; /* '}' or ']' for each open level */
  bool after_key;
} pipec_json;

void pipec_json_init(pipec_json *j, FILE *out, bool pretty);
void pipec_json_obj(pipec_json *j);        /* { */
void pipec_json_arr(pipec_json *j);        /* [ */
void pipec_json_end(pipec_json *j);        /* } or ] */
void pipec_json_key(pipec_json *j, const char *key);
void pipec_json_str(pipec_json *j, const char *s);   /* NULL writes null */
void pipec_json_strn(pipec_json *j, const char *s, size_t n);
void pipec_json_int(pipec_json *j, int64_t v);
void pipec_json_num(pipec_json *j, double v);
void pipec_json_bool(pipec_json *j, bool v);
void pipec_json_null(pipec_json *j);
/* Ends the document with a newline. */
void pipec_json_done(pipec_json *j);

#endif

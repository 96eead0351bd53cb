/*
 * json.c — the streaming JSON writer of json.h. A graph of 10^6 nodes is
 * hundreds of megabytes of it: runs of plain bytes go out in one write,
 * and the stream (one writer's) is written without stdio's locking.
 */
#define _GNU_SOURCE /* fwrite_unlocked, fputs_unlocked */
#include "pipec/json.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* What a pipec_json holds (json.h keeps it opaque). */
typedef struct json_state {
  FILE *out;
  bool pretty;
  int depth;
  bool first[PIPEC_JSON_MAX_DEPTH]; /* no item yet at this depth */
  char close[PIPEC_JSON_MAX_DEPTH]; /* '}' or ']' for each open level */
  bool after_key;
} json_state;

_Static_assert(sizeof(json_state) <= sizeof(pipec_json),
               "pipec_json is too small for the writer's state");
_Static_assert(_Alignof(json_state) <= _Alignof(pipec_json),
               "pipec_json is not aligned for the writer's state");

static json_state *state(pipec_json *j) { return (json_state *)(void *)j; }

void pipec_json_init(pipec_json *pj, FILE *out, bool pretty) {
  memset(pj, 0, sizeof *pj);
  json_state *j = state(pj);
  j->out = out;
  j->pretty = pretty;
  j->first[0] = true;
}

static void newline(json_state *j) {
  if (!j->pretty)
    return;
  putc_unlocked('\n', j->out);
  for (int i = 0; i < j->depth; i++)
    fputs_unlocked("  ", j->out);
}

/* Before any value: a comma and a newline, unless it follows a key. */
static void item(json_state *j) {
  if (j->after_key) {
    j->after_key = false;
    return;
  }
  if (j->depth > 0) {
    if (!j->first[j->depth])
      putc_unlocked(',', j->out);
    newline(j);
  }
  j->first[j->depth] = false;
}

static void open_level(json_state *j, char open, char close) {
  item(j);
  putc_unlocked(open, j->out);
  if (j->depth + 1 >= PIPEC_JSON_MAX_DEPTH)
    return; /* deeper nesting is a programming error; stay well-formed-ish */
  j->depth++;
  j->first[j->depth] = true;
  j->close[j->depth] = close;
}

void pipec_json_obj(pipec_json *j) { open_level(state(j), '{', '}'); }
void pipec_json_arr(pipec_json *j) { open_level(state(j), '[', ']'); }

void pipec_json_end(pipec_json *pj) {
  json_state *j = state(pj);
  if (j->depth == 0)
    return;
  bool empty = j->first[j->depth];
  char close = j->close[j->depth];
  j->depth--;
  if (!empty)
    newline(j);
  putc_unlocked(close, j->out);
}

/* Length of the valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *p, size_t n) {
  unsigned char c = p[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80)
    return 1;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else
    return 0;
  if (len > n)
    return 0;
  for (size_t i = 1; i < len; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  /* overlong forms, surrogates, beyond U+10FFFF */
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
      (len == 4 && cp < 0x10000) || (cp >= 0xD800 && cp <= 0xDFFF) ||
      cp > 0x10FFFF)
    return 0;
  return len;
}

/* Does c go into a string as it is (printable ASCII, not '"' or '\\')? */
static bool plain(unsigned char c) {
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

static void write_string(FILE *out, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  putc_unlocked('"', out);
  size_t i = 0;
  while (i < n) {
    /* a run of plain bytes at once: names and keys are all plain */
    size_t run = i;
    while (run < n && plain(p[run]))
      run++;
    if (run > i) {
      fwrite_unlocked(p + i, 1, run - i, out);
      i = run;
      continue;
    }
    unsigned char c = p[i];
    switch (c) {
    case '"': fputs_unlocked("\\\"", out); i++; continue;
    case '\\': fputs_unlocked("\\\\", out); i++; continue;
    case '\n': fputs_unlocked("\\n", out); i++; continue;
    case '\r': fputs_unlocked("\\r", out); i++; continue;
    case '\t': fputs_unlocked("\\t", out); i++; continue;
    default: break;
    }
    if (c < 0x20 || c == 0x7f) {
      fprintf(out, "\\u%04x", c);
      i++;
      continue;
    }
    size_t len = utf8_len(p + i, n - i);
    if (len == 0) {
      fputs_unlocked("\\ufffd", out);
      i++;
      continue;
    }
    fwrite_unlocked(p + i, 1, len, out);
    i += len;
  }
  putc_unlocked('"', out);
}

void pipec_json_key(pipec_json *pj, const char *key) {
  json_state *j = state(pj);
  item(j);
  write_string(j->out, key, strlen(key));
  fputs_unlocked(j->pretty ? ": " : ":", j->out);
  j->after_key = true;
}

void pipec_json_strn(pipec_json *pj, const char *s, size_t n) {
  json_state *j = state(pj);
  item(j);
  write_string(j->out, s, n);
}

void pipec_json_str(pipec_json *j, const char *s) {
  if (!s) {
    pipec_json_null(j);
    return;
  }
  pipec_json_strn(j, s, strlen(s));
}

static void write_int(json_state *j, int64_t v) {
  char buf[24], *e = buf + sizeof buf, *q = e;
  uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
  do
    *--q = (char)('0' + u % 10);
  while (u /= 10);
  if (v < 0)
    *--q = '-';
  fwrite_unlocked(q, 1, (size_t)(e - q), j->out);
}

void pipec_json_int(pipec_json *pj, int64_t v) {
  json_state *j = state(pj);
  item(j);
  write_int(j, v);
}

void pipec_json_num(pipec_json *pj, double v) {
  json_state *j = state(pj);
  item(j);
  if (!isfinite(v)) {
    fputs("null", j->out); /* JSON has no NaN or infinity */
    return;
  }
  /* a whole number below 10^15 prints as %.15g would print it, without
   * printf (a graph has millions of them: cpus = 0, memory = 0) */
  if (fabs(v) < 1e15 && v == (double)(int64_t)v && !(v == 0 && signbit(v))) {
    write_int(j, (int64_t)v);
    return;
  }
  char buf[32];
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      break;
  }
  fputs(buf, j->out);
}

void pipec_json_bool(pipec_json *pj, bool v) {
  json_state *j = state(pj);
  item(j);
  fputs_unlocked(v ? "true" : "false", j->out);
}

void pipec_json_null(pipec_json *pj) {
  json_state *j = state(pj);
  item(j);
  fputs_unlocked("null", j->out);
}

void pipec_json_done(pipec_json *pj) {
  json_state *j = state(pj);
  fputc('\n', j->out);
  fflush(j->out);
}

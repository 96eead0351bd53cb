/*
 * alloc.c — the x* allocators and the out-of-memory policy (alloc.h).
 */
#define _GNU_SOURCE /* vasprintf */
#include "alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set once by main() before any thread starts; read-only afterwards. */
static base_oom_fn oom_handler;

void base_set_oom_handler(base_oom_fn fn) { oom_handler = fn; }

void base_oom(size_t n) {
  if (oom_handler)
    oom_handler(n);
  if (n)
    fprintf(stderr, "pipec: out of memory (%zu more bytes needed)\n", n);
  else
    fprintf(stderr, "pipec: out of memory\n");
  abort();
}

void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p)
    base_oom(n);
  return p;
}

void *xcalloc(size_t n, size_t size) {
  if (!n || !size)
    n = size = 1;
  void *p = calloc(n, size);
  if (!p)
    base_oom(n * size);
  return p;
}

void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q)
    base_oom(n);
  return q;
}

char *xstrdup(const char *s) {
  if (!s)
    s = "";
  size_t n = strlen(s);
  char *d = xmalloc(n + 1);
  memcpy(d, s, n + 1);
  return d;
}

char *xstrndup(const char *s, size_t n) {
  size_t len = strnlen(s, n);
  char *d = xmalloc(len + 1);
  memcpy(d, s, len);
  d[len] = '\0';
  return d;
}

char *xvprintf(const char *fmt, va_list ap) {
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    base_oom(strlen(fmt));
  return s;
}

char *xprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = xvprintf(fmt, ap);
  va_end(ap);
  return s;
}

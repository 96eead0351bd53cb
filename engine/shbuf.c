/*
 * shbuf.c — growing strings for shell text (shbuf.h).
 */
#include "shbuf.h"

#include <stdlib.h>
#include <string.h>

#include "pipec/template.h"

void shbuf_add(shbuf *b, const char *s) {
  size_t n = strlen(s);
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *ns = realloc(b->s, cap);
    if (!ns)
      abort();
    b->s = ns;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n + 1);
  b->len += n;
}

void shbuf_quote(shbuf *b, const char *s) {
  if (!b->s)
    shbuf_add(b, "");
  b->len = pipec_shell_quote(&b->s, &b->cap, b->len, s);
  if (b->len == (size_t)-1)
    abort();
}

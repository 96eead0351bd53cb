/*
 * shbuf.h — a growing string for building shell command lines and scripts
 * (the remote targets' job scripts). Aborts on out of memory, like the
 * rest of the engine's small allocations.
 */
#ifndef PIPEC_SHBUF_H
#define PIPEC_SHBUF_H

#include <stddef.h>

typedef struct shbuf {
  char *s;      /* NUL-terminated once anything was added; owned */
  size_t len, cap;
} shbuf;

/* Append s as it is. */
void shbuf_add(shbuf *b, const char *s);
/* Append s quoted as one shell word (pipec_shell_quote). */
void shbuf_quote(shbuf *b, const char *s);

#endif

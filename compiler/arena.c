/*
 * arena.c — bump allocation in chunks, plus an open-addressing intern table.
 */
#include "arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64 * 1024)
#define ARENA_ALIGN 16

typedef struct chunk {
  struct chunk *next;
  size_t size, used;
  _Alignas(16) unsigned char data[];
} chunk;

struct arena {
  chunk *head;
  const char **tab;   /* intern table, power-of-two size */
  uint32_t *tab_len;  /* length of each interned string */
  size_t tab_cap, tab_n;
};

static void *xmalloc(size_t n) {
  void *p = malloc(n);
  if (!p) {
    fprintf(stderr, "pipec: out of memory (%zu bytes)\n", n);
    abort();
  }
  return p;
}

arena *arena_new(void) {
  arena *a = xmalloc(sizeof *a);
  memset(a, 0, sizeof *a);
  return a;
}

void arena_free(arena *a) {
  if (!a)
    return;
  chunk *c = a->head;
  while (c) {
    chunk *next = c->next;
    free(c);
    c = next;
  }
  free(a->tab);
  free(a->tab_len);
  free(a);
}

void *arena_alloc(arena *a, size_t size) {
  size = (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  chunk *c = a->head;
  if (!c || c->size - c->used < size) {
    size_t want = size > ARENA_CHUNK / 4 ? size : ARENA_CHUNK;
    chunk *n = xmalloc(sizeof *n + want);
    n->size = want;
    n->used = 0;
    if (want == size && c) {
      /* A big block gets its own chunk behind the current one, so the
       * current chunk's free space is not wasted. */
      n->next = c->next;
      c->next = n;
    } else {
      n->next = c;
      a->head = n;
    }
    c = n;
  }
  void *p = c->data + c->used;
  c->used += size;
  memset(p, 0, size);
  return p;
}

char *arena_strndup(arena *a, const char *s, size_t len) {
  char *p = arena_alloc(a, len + 1);
  memcpy(p, s, len);
  p[len] = 0;
  return p;
}

char *arena_strdup(arena *a, const char *s) {
  return arena_strndup(a, s, strlen(s));
}

char *arena_printf(arena *a, const char *fmt, ...) {
  va_list ap, ap2;
  va_start(ap, fmt);
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  char *p = arena_alloc(a, (size_t)n + 1);
  vsnprintf(p, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return p;
}

static uint64_t hash_bytes(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a: names are short */
  for (size_t i = 0; i < len; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

static void intern_grow(arena *a) {
  size_t ncap = a->tab_cap ? a->tab_cap * 2 : 256;
  const char **tab = xmalloc(ncap * sizeof *tab);
  uint32_t *lens = xmalloc(ncap * sizeof *lens);
  memset(tab, 0, ncap * sizeof *tab);
  for (size_t i = 0; i < a->tab_cap; i++) {
    const char *s = a->tab[i];
    if (!s)
      continue;
    size_t j = hash_bytes(s, a->tab_len[i]) & (ncap - 1);
    while (tab[j])
      j = (j + 1) & (ncap - 1);
    tab[j] = s;
    lens[j] = a->tab_len[i];
  }
  free(a->tab);
  free(a->tab_len);
  a->tab = tab;
  a->tab_len = lens;
  a->tab_cap = ncap;
}

const char *arena_intern(arena *a, const char *s, size_t len) {
  if ((a->tab_n + 1) * 2 > a->tab_cap)
    intern_grow(a);
  size_t j = hash_bytes(s, len) & (a->tab_cap - 1);
  while (a->tab[j]) {
    if (a->tab_len[j] == len && memcmp(a->tab[j], s, len) == 0)
      return a->tab[j];
    j = (j + 1) & (a->tab_cap - 1);
  }
  const char *copy = arena_strndup(a, s, len);
  a->tab[j] = copy;
  a->tab_len[j] = (uint32_t)len;
  a->tab_n++;
  return copy;
}

const char *arena_intern_cstr(arena *a, const char *s) {
  return arena_intern(a, s, strlen(s));
}

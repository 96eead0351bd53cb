/*
 * arena.c — bump allocation in chunks, plus an open-addressing intern table.
 */
#include "arena.h"

#include "alloc.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_CHUNK (64 * 1024)
#define ARENA_ALIGN 16

/* Chunks are calloc'd, so their memory is zero until handed out, and
 * nothing handed out is handed out again: allocations need no memset. */
typedef struct chunk {
  struct chunk *next, *prev;
  size_t size, used;
  _Alignas(16) unsigned char data[];
} chunk;

struct arena {
  chunk *head;
  const char **tab;   /* intern table, power-of-two size */
  uint32_t *tab_len;  /* length of each interned string */
  size_t tab_cap, tab_n;
};

void arena_oom(size_t n) { base_oom(n); }

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

static chunk *new_chunk(size_t size) {
  if (size > SIZE_MAX - sizeof(chunk))
    arena_oom(size);
  chunk *c = calloc(1, sizeof *c + size);
  if (!c)
    arena_oom(sizeof *c + size);
  c->size = size;
  return c;
}

static void link_after(arena *a, chunk *at, chunk *c) {
  c->prev = at;
  c->next = at ? at->next : a->head;
  if (c->next)
    c->next->prev = c;
  if (at)
    at->next = c;
  else
    a->head = c;
}

static size_t round_up(size_t size) {
  if (size > SIZE_MAX - ARENA_ALIGN)
    arena_oom(size);
  return (size + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
}

/* Blocks bigger than this get a chunk of their own (so arena_grow can
 * resize them in place, and a chunk's free space is never wasted on them). */
#define ARENA_BIG (ARENA_CHUNK / 4)

void *arena_alloc(arena *a, size_t size) {
  size = round_up(size);
  chunk *c = a->head;
  if (size > ARENA_BIG) {
    /* behind the current chunk, which keeps serving small blocks */
    chunk *n = new_chunk(size);
    n->used = size;
    link_after(a, c, n);
    return n->data;
  }
  if (!c || c->size - c->used < size) {
    c = new_chunk(ARENA_CHUNK);
    link_after(a, NULL, c);
  }
  void *p = c->data + c->used;
  c->used += size;
  return p;
}

void *arena_grow(arena *a, void *p, size_t old_size, size_t new_size) {
  if (!p || old_size == 0)
    return arena_alloc(a, new_size);
  old_size = round_up(old_size);
  new_size = round_up(new_size);
  if (new_size <= old_size)
    return p;
  if (old_size <= ARENA_BIG) { /* a small block: copy, leave it to the arena */
    void *q = arena_alloc(a, new_size);
    memcpy(q, p, old_size);
    return q;
  }
  /* a big block is its own chunk: resize that chunk */
  chunk *c = (chunk *)((unsigned char *)p - offsetof(chunk, data));
  chunk *prev = c->prev, *next = c->next;
  if (new_size > SIZE_MAX - sizeof(chunk))
    arena_oom(new_size);
  chunk *n = realloc(c, sizeof *c + new_size);
  if (!n)
    arena_oom(sizeof *c + new_size);
  memset(n->data + old_size, 0, new_size - old_size);
  n->size = n->used = new_size;
  if (prev)
    prev->next = n;
  else
    a->head = n;
  if (next)
    next->prev = n;
  return n->data;
}

void arena_release(arena *a, void *p, size_t size) {
  if (!p || round_up(size) <= ARENA_BIG)
    return;
  chunk *c = (chunk *)((unsigned char *)p - offsetof(chunk, data));
  if (c->prev)
    c->prev->next = c->next;
  else
    a->head = c->next;
  if (c->next)
    c->next->prev = c->prev;
  free(c);
}

void arena_too_big(void) { base_oom((size_t)UINT32_MAX / 2); }

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

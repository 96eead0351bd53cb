/*
 * arena.h — one bump allocator per compilation, and interned strings.
 *
 * Everything the compiler builds (AST, IR, strings) is allocated from one
 * arena and freed at once with arena_free(). Interned strings are unique per
 * arena, so two interned names are equal iff their pointers are.
 * Allocation never fails: on out-of-memory the process aborts with a message
 * (there is nothing sensible a compiler can do half way).
 */
#ifndef PIPEC_ARENA_H
#define PIPEC_ARENA_H

#include <stddef.h>
#include <stdint.h>

typedef struct arena arena;

arena *arena_new(void);
void arena_free(arena *a);

/* Zeroed memory, aligned for any type. */
void *arena_alloc(arena *a, size_t size);
/* A copy of s[0..len) with a NUL appended (not interned). */
char *arena_strndup(arena *a, const char *s, size_t len);
char *arena_strdup(arena *a, const char *s);
/* printf into the arena. */
char *arena_printf(arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The unique interned copy of s[0..len). */
const char *arena_intern(arena *a, const char *s, size_t len);
const char *arena_intern_cstr(arena *a, const char *s);

/* Growable arrays in the arena: VEC(T) v = {0}; VEC_PUSH(a, v, x);
 * Growth copies into a new block; the old one is left to the arena. */
#define VEC(T) struct { T *items; uint32_t n, cap; }
#define VEC_PUSH(ar, v, x)                                                   \
  do {                                                                       \
    if ((v).n == (v).cap) {                                                  \
      uint32_t ncap_ = (v).cap ? (v).cap * 2 : 4;                            \
      void *nitems_ = arena_alloc((ar), (size_t)ncap_ * sizeof(*(v).items)); \
      if ((v).n)                                                             \
        memcpy(nitems_, (v).items, (size_t)(v).n * sizeof(*(v).items));      \
      (v).items = nitems_;                                                   \
      (v).cap = ncap_;                                                       \
    }                                                                        \
    (v).items[(v).n++] = (x);                                                \
  } while (0)

#endif

/*
 * arena.h — one bump allocator per compilation, and interned strings.
 *
 * Everything the compiler builds (AST, IR, strings) is allocated from one
 * arena and freed at once with arena_free(). Interned strings are unique per
 * arena, so two interned names are equal iff their pointers are.
 * Allocation never fails: on out-of-memory it calls base_oom() (alloc.h:
 * the program's handler; the pipec command exits with status 2 and a
 * message, as there is nothing sensible a compiler can do half way).
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
/* Grow block p of old_size bytes (from arena_alloc or arena_grow, or NULL)
 * to new_size: the old bytes are kept, the new ones are zero. p must not be
 * used afterwards: a big block is resized in place (realloc), a small one
 * copied and left to the arena. */
void *arena_grow(arena *a, void *p, size_t old_size, size_t new_size);
/* Give back block p of size bytes that nothing uses any more: a big block's
 * memory is freed at once, a small one stays until arena_free. */
void arena_release(arena *a, void *p, size_t size);
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
 * Growth doubles the capacity with arena_grow, so a pointer into the items
 * is stale after a push. */
#define VEC(T) struct { T *items; uint32_t n, cap; }
#define VEC_PUSH(ar, v, x)                                                   \
  do {                                                                       \
    if ((v).n == (v).cap) {                                                  \
      if ((v).cap > UINT32_MAX / 2)                                          \
        arena_too_big();                                                     \
      uint32_t ncap_ = (v).cap ? (v).cap * 2 : 4;                            \
      (v).items = arena_grow((ar), (v).items,                                \
                             (size_t)(v).cap * sizeof(*(v).items),           \
                             (size_t)ncap_ * sizeof(*(v).items));            \
      (v).cap = ncap_;                                                       \
    }                                                                        \
    (v).items[(v).n++] = (x);                                                \
  } while (0)

/* Out of memory: base_oom(n). */
_Noreturn void arena_oom(size_t n);
/* A VEC would pass UINT32_MAX / 2 items: the same. */
_Noreturn void arena_too_big(void);

#endif

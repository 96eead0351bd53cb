/*
 * alloc.h — allocation with one out-of-memory policy for all of pipec.
 *
 * The x* functions never return NULL: when memory runs out they call
 * base_oom(), which calls the handler the program installed with
 * base_set_oom_handler() (the pipec command prints "out of memory" and
 * exits with status 2) or, if none was installed, prints the same and
 * aborts. The libraries never exit the process themselves; a program
 * embedding them decides what running out of memory means.
 */
#ifndef PIPEC_BASE_ALLOC_H
#define PIPEC_BASE_ALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Called with the size that could not be had; must not return. */
typedef void (*base_oom_fn)(size_t n);
void base_set_oom_handler(base_oom_fn fn);
_Noreturn void base_oom(size_t n);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);       /* n or size 0: one byte */
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);               /* NULL gives "" */
char *xstrndup(const char *s, size_t n);
char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvprintf(const char *fmt, va_list ap);

#endif

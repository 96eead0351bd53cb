/*
 * diag.h — compiler diagnostics: a list of {severity, code, location,
 * message, hint} and one renderer.
 *
 * A location is a file, a byte offset and a length; line and column are
 * computed from the file's text only when a diagnostic is rendered or asked
 * for. The list keeps pointers to the source texts it was given with
 * pipec_diags_add_source(); they must outlive the list.
 */
#ifndef PIPEC_DIAG_H
#define PIPEC_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "export.h"

typedef enum pipec_severity {
  PIPEC_SEV_ERROR,
  PIPEC_SEV_WARNING,
  PIPEC_SEV_NOTE,
} pipec_severity;

typedef struct pipec_diag {
  pipec_severity severity;
  const char *code;      /* stable short id, e.g. "unknown-node" */
  int32_t file;          /* source id, or -1 for no location */
  uint32_t off, len;     /* byte span in that source */
  char *message;         /* owned by the list */
  char *hint;            /* owned by the list; may be NULL */
} pipec_diag;

typedef struct pipec_diags {
  pipec_diag *items;
  uint32_t n, cap;
  uint32_t n_errors, n_warnings;
  /* sources, by id */
  struct pipec_diag_src {
    char *path;          /* owned */
    const char *text;
    char *owned;         /* text, if the list owns it (else NULL) */
    size_t len;
    uint32_t *lines;     /* byte offset of each line start, owned, lazily made */
    uint32_t n_lines;
  } *srcs;
  uint32_t n_srcs, cap_srcs;
} pipec_diags;

PIPEC_API void pipec_diags_init(pipec_diags *d);
PIPEC_API void pipec_diags_free(pipec_diags *d);

/* Register a source text; returns its id for locations. The text must
 * outlive the list unless ownership is passed with pipec_diags_own(). */
PIPEC_API int32_t pipec_diags_add_source(pipec_diags *d, const char *path,
                                         const char *text, size_t len);
/* The list takes ownership of source `id`'s text (a malloc'd buffer); it is
 * freed by pipec_diags_free(). */
PIPEC_API void pipec_diags_own(pipec_diags *d, int32_t id);

/* Append a diagnostic; message and hint are printf formats (hint may be
 * NULL). Returns the new item so a hint can be attached later. */
PIPEC_API pipec_diag *pipec_diag_add(pipec_diags *d, pipec_severity sev,
                                     const char *code, int32_t file,
                                     uint32_t off, uint32_t len,
                                     const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
PIPEC_API void pipec_diag_hint(pipec_diag *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Line and column (1-based, column in bytes) of a diagnostic. */
PIPEC_API void pipec_diag_linecol(pipec_diags *d, const pipec_diag *g,
                                  uint32_t *line, uint32_t *col);
PIPEC_API void pipec_diags_linecol(pipec_diags *d, int32_t file, uint32_t off,
                                   uint32_t *line, uint32_t *col);

/* Print every diagnostic, in order of file then offset, as
 *   file:line:col: error: message
 *      3 |   node b = foo(x = a.out)
 *        |                    ^~~~~
 *        = hint: ...
 * With color true, ANSI colors are used. */
PIPEC_API void pipec_diags_print(pipec_diags *d, FILE *out, bool color);

/* The same, but stop before the error after the first max_errors ones (0:
 * no limit), as compilers do, so garbage input does not bury the first
 * error. Returns how many diagnostics were left out. */
PIPEC_API uint32_t pipec_diags_print_first(pipec_diags *d, FILE *out,
                                           bool color, uint32_t max_errors);

#endif

/*
 * diag.c — the diagnostics list and its one renderer.
 *
 * Locations are byte spans; the line map of a source (the offset of each
 * line start) is built the first time a line number is asked for, so a clean
 * compile never pays for it.
 */
#include "pipec/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n);
  if (!q) {
    fprintf(stderr, "pipec: out of memory\n");
    abort();
  }
  return q;
}

static char *vformat(const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap);
  char *s = xrealloc(NULL, (size_t)n + 1);
  vsnprintf(s, (size_t)n + 1, fmt, ap2);
  va_end(ap2);
  return s;
}

void pipec_diags_init(pipec_diags *d) { memset(d, 0, sizeof *d); }

void pipec_diags_free(pipec_diags *d) {
  for (uint32_t i = 0; i < d->n; i++) {
    free(d->items[i].message);
    free(d->items[i].hint);
  }
  for (uint32_t i = 0; i < d->n_srcs; i++) {
    free(d->srcs[i].path);
    free(d->srcs[i].lines);
    free(d->srcs[i].owned);
  }
  free(d->items);
  free(d->srcs);
  memset(d, 0, sizeof *d);
}

int32_t pipec_diags_add_source(pipec_diags *d, const char *path,
                               const char *text, size_t len) {
  if (d->n_srcs == d->cap_srcs) {
    d->cap_srcs = d->cap_srcs ? d->cap_srcs * 2 : 8;
    d->srcs = xrealloc(d->srcs, d->cap_srcs * sizeof *d->srcs);
  }
  struct pipec_diag_src *s = &d->srcs[d->n_srcs];
  memset(s, 0, sizeof *s);
  s->path = strdup(path);
  if (!s->path)
    abort();
  s->text = text;
  s->len = len;
  return (int32_t)d->n_srcs++;
}

void pipec_diags_own(pipec_diags *d, int32_t id) {
  if (id >= 0 && (uint32_t)id < d->n_srcs)
    d->srcs[id].owned = (char *)d->srcs[id].text;
}

pipec_diag *pipec_diag_add(pipec_diags *d, pipec_severity sev, const char *code,
                           int32_t file, uint32_t off, uint32_t len,
                           const char *fmt, ...) {
  if (d->n == d->cap) {
    d->cap = d->cap ? d->cap * 2 : 16;
    d->items = xrealloc(d->items, d->cap * sizeof *d->items);
  }
  pipec_diag *g = &d->items[d->n++];
  va_list ap;
  va_start(ap, fmt);
  g->message = vformat(fmt, ap);
  va_end(ap);
  g->severity = sev;
  g->code = code;
  g->file = file;
  g->off = off;
  g->len = len;
  g->hint = NULL;
  if (sev == PIPEC_SEV_ERROR)
    d->n_errors++;
  else if (sev == PIPEC_SEV_WARNING)
    d->n_warnings++;
  return g;
}

void pipec_diag_hint(pipec_diag *g, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  free(g->hint);
  g->hint = vformat(fmt, ap);
  va_end(ap);
}

static void build_lines(struct pipec_diag_src *s) {
  uint32_t cap = 64, n = 0;
  uint32_t *lines = xrealloc(NULL, cap * sizeof *lines);
  lines[n++] = 0;
  for (size_t i = 0; i < s->len; i++) {
    if (s->text[i] != '\n')
      continue;
    if (n == cap) {
      cap *= 2;
      lines = xrealloc(lines, cap * sizeof *lines);
    }
    lines[n++] = (uint32_t)(i + 1);
  }
  s->lines = lines;
  s->n_lines = n;
}

void pipec_diags_linecol(pipec_diags *d, int32_t file, uint32_t off,
                         uint32_t *line, uint32_t *col) {
  *line = 0;
  *col = 0;
  if (file < 0 || (uint32_t)file >= d->n_srcs)
    return;
  struct pipec_diag_src *s = &d->srcs[file];
  if (!s->lines)
    build_lines(s);
  if (off > s->len)
    off = (uint32_t)s->len;
  /* binary search: the last line start <= off */
  uint32_t lo = 0, hi = s->n_lines;
  while (hi - lo > 1) {
    uint32_t mid = lo + (hi - lo) / 2;
    if (s->lines[mid] <= off)
      lo = mid;
    else
      hi = mid;
  }
  *line = lo + 1;
  *col = off - s->lines[lo] + 1;
}

void pipec_diag_linecol(pipec_diags *d, const pipec_diag *g, uint32_t *line,
                        uint32_t *col) {
  pipec_diags_linecol(d, g->file, g->off, line, col);
}

static const char *sev_name(pipec_severity s) {
  switch (s) {
  case PIPEC_SEV_ERROR: return "error";
  case PIPEC_SEV_WARNING: return "warning";
  case PIPEC_SEV_NOTE: return "note";
  }
  return "error";
}

static const char *sev_color(pipec_severity s) {
  switch (s) {
  case PIPEC_SEV_ERROR: return "\033[1;31m";
  case PIPEC_SEV_WARNING: return "\033[1;35m";
  case PIPEC_SEV_NOTE: return "\033[1;36m";
  }
  return "";
}

/* Print one source line, tabs as single spaces so the caret lines up, and
 * control bytes as '?'. */
static void print_source_line(FILE *out, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)p[i];
    if (c == '\t')
      fputc(' ', out);
    else if (c < 0x20 || c == 0x7f)
      fputc('?', out);
    else
      fputc(c, out);
  }
}

/* Display width of bytes (UTF-8 continuation bytes take no column). */
static uint32_t width_of(const char *p, size_t n) {
  uint32_t w = 0;
  for (size_t i = 0; i < n; i++)
    if (((unsigned char)p[i] & 0xC0) != 0x80)
      w++;
  return w;
}

static void print_one(pipec_diags *d, const pipec_diag *g, FILE *out,
                      bool color) {
  const char *bold = color ? "\033[1m" : "";
  const char *reset = color ? "\033[0m" : "";
  const char *blue = color ? "\033[1;34m" : "";
  if (g->file < 0 || (uint32_t)g->file >= d->n_srcs) {
    fprintf(out, "%spipec: %s%s:%s %s%s%s\n", bold,
            color ? sev_color(g->severity) : "", sev_name(g->severity), reset,
            bold, g->message, reset);
    if (g->hint)
      fprintf(out, "  = hint: %s\n", g->hint);
    return;
  }
  struct pipec_diag_src *s = &d->srcs[g->file];
  uint32_t line, col;
  pipec_diags_linecol(d, g->file, g->off, &line, &col);
  fprintf(out, "%s%s:%u:%u: %s%s:%s %s%s%s\n", bold, s->path, line, col,
          color ? sev_color(g->severity) : "", sev_name(g->severity), reset,
          bold, g->message, reset);

  size_t start = s->lines[line - 1];
  size_t end = start;
  while (end < s->len && s->text[end] != '\n')
    end++;
  if (end > start && s->text[end - 1] == '\r')
    end--;
  /* a very long line is shown as a window around the span */
  enum { WINDOW = 160, BEFORE = 60 };
  const char *lead = "", *tail = "";
  size_t at = g->off > end ? end : g->off;
  if (end - start > WINDOW) {
    size_t from = at > start + BEFORE ? at - BEFORE : start;
    while (from > start && ((unsigned char)s->text[from] & 0xC0) == 0x80)
      from--; /* not in the middle of a UTF-8 character */
    size_t to = from + WINDOW < end ? from + WINDOW : end;
    while (to < end && ((unsigned char)s->text[to] & 0xC0) == 0x80)
      to++;
    lead = from > start ? "..." : "";
    tail = to < end ? "..." : "";
    start = from;
    end = to;
  }
  char num[16];
  int w = snprintf(num, sizeof num, "%u", line);
  fprintf(out, "%s%*s |%s %s", blue, w, num, reset, lead);
  print_source_line(out, s->text + start, end - start);
  fprintf(out, "%s\n", tail);
  /* caret under the span; a span running past the line is cut there */
  size_t off = at > end ? end : at;
  uint32_t pad = (uint32_t)strlen(lead) + width_of(s->text + start, off - start);
  size_t span_end = g->off + g->len;
  if (span_end > end)
    span_end = end;
  uint32_t len = span_end > off ? width_of(s->text + off, span_end - off) : 0;
  fprintf(out, "%s%*s |%s ", blue, w, "", reset);
  fprintf(out, "%*s%s^", (int)pad, "", color ? sev_color(g->severity) : "");
  for (uint32_t i = 1; i < len; i++)
    fputc('~', out);
  fprintf(out, "%s\n", reset);
  if (g->hint)
    fprintf(out, "%s%*s =%s hint: %s\n", blue, w, "", reset, g->hint);
}

uint32_t pipec_diags_print_first(pipec_diags *d, FILE *out, bool color,
                                 uint32_t max_errors) {
  /* In the order found: the parser and sema walk files front to back, and
   * a note must follow the error it belongs to. */
  uint32_t errors = 0;
  for (uint32_t i = 0; i < d->n; i++) {
    if (d->items[i].severity == PIPEC_SEV_ERROR && max_errors &&
        errors++ == max_errors)
      return d->n - i;
    print_one(d, &d->items[i], out, color);
  }
  return 0;
}

void pipec_diags_print(pipec_diags *d, FILE *out, bool color) {
  pipec_diags_print_first(d, out, color, 0);
}

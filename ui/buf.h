/*
 * buf.h — the web view's output buffer: a growable byte string that pages,
 * SVG drawings and JSON answers are written into, with the escapes each
 * context needs. Every byte that comes from the workspace (node names,
 * params, logs, file contents) goes through ub_html (element text and
 * attribute values alike), ub_js (a JSON string) or ub_url (a query
 * value), never ub_raw.
 *
 * Out of memory aborts (as libpipec's default handler does): a half-made
 * page is never sent.
 */
#ifndef PIPEC_UI_BUF_H
#define PIPEC_UI_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ubuf {
  char *s;                     /* NUL-terminated; NULL while empty */
  size_t len, cap;
} ubuf;

void ub_free(ubuf *b);
/* Hand the bytes over (malloc'd, NUL-terminated, never NULL); b is empty
 * afterwards. */
char *ub_take(ubuf *b, size_t *len);

void ub_raw(ubuf *b, const char *s);              /* trusted markup only */
void ub_rawn(ubuf *b, const char *s, size_t n);
void ub_printf(ubuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));        /* trusted text only */
void ub_vprintf(ubuf *b, const char *fmt, va_list ap);
void ub_char(ubuf *b, char c);

/* Text for HTML element content or a quoted attribute value: & < > " '
 * escaped, NUL and other C0 controls but \t \n \r shown as U+FFFD, bytes
 * that are not UTF-8 as U+FFFD. s may be NULL (nothing). */
void ub_html(ubuf *b, const char *s);
void ub_htmln(ubuf *b, const char *s, size_t n);
/* printf, then ub_html of the result. */
void ub_htmlf(ubuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A JSON string literal with its quotes ("null" for NULL), safe inside
 * a <script> too (< > & as \u escapes). */
void ub_js(ubuf *b, const char *s);
void ub_jsn(ubuf *b, const char *s, size_t n);
/* Percent-encoding for a query value (everything but A-Z a-z 0-9 - _ . ~). */
void ub_url(ubuf *b, const char *s);

/* "12 B", "3.4 KiB", "1.2 MiB" ... */
void ub_size(ubuf *b, uint64_t bytes);
/* "0.42 s", "1 min 3 s", "2 h 5 min"; "-" for a negative one. */
void ub_duration(ubuf *b, double seconds);
/* Local time "YYYY-MM-DD HH:MM:SS" of ms since the epoch ("-" for 0). */
void ub_time(ubuf *b, int64_t ms);

#endif

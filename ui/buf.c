/*
 * buf.c — the output buffer and its escapes (buf.h).
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void reserve(ubuf *b, size_t more) {
  if (b->len + more + 1 <= b->cap)
    return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more + 1)
    cap *= 2;
  char *s = realloc(b->s, cap);
  if (!s)
    abort();
  b->s = s;
  b->cap = cap;
}

void ub_free(ubuf *b) {
  free(b->s);
  *b = (ubuf){0};
}

char *ub_take(ubuf *b, size_t *len) {
  reserve(b, 0);
  b->s[b->len] = '\0';
  char *s = b->s;
  if (len)
    *len = b->len;
  *b = (ubuf){0};
  return s;
}

void ub_rawn(ubuf *b, const char *s, size_t n) {
  reserve(b, n);
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

void ub_raw(ubuf *b, const char *s) {
  if (s)
    ub_rawn(b, s, strlen(s));
}

void ub_char(ubuf *b, char c) { ub_rawn(b, &c, 1); }

void ub_vprintf(ubuf *b, const char *fmt, va_list ap) {
  va_list aq;
  va_copy(aq, ap);
  int n = vsnprintf(NULL, 0, fmt, aq);
  va_end(aq);
  if (n <= 0)
    return;
  reserve(b, (size_t)n);
  vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void ub_printf(ubuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  ub_vprintf(b, fmt, ap);
  va_end(ap);
}

/* The length of the UTF-8 sequence at s (at most n bytes), or 0 if it is
 * not one. */
static size_t utf8_len(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  size_t k;
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf)
    k = 2;
  else if (c >= 0xe0 && c <= 0xef)
    k = 3;
  else if (c >= 0xf0 && c <= 0xf4)
    k = 4;
  else
    return 0;
  if (k > n)
    return 0;
  for (size_t i = 1; i < k; i++)
    if ((s[i] & 0xc0) != 0x80)
      return 0;
  if (k == 3 && c == 0xe0 && s[1] < 0xa0)
    return 0;
  if (k == 3 && c == 0xed && s[1] >= 0xa0)
    return 0; /* surrogates */
  if (k == 4 && c == 0xf0 && s[1] < 0x90)
    return 0;
  if (k == 4 && c == 0xf4 && s[1] >= 0x90)
    return 0;
  return k;
}

static const char REPLACEMENT[] = "\xef\xbf\xbd";

void ub_htmln(ubuf *b, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    const char *esc = NULL;
    switch (c) {
    case '&': esc = "&amp;"; break;
    case '<': esc = "&lt;"; break;
    case '>': esc = "&gt;"; break;
    case '"': esc = "&quot;"; break;
    case '\'': esc = "&#39;"; break;
    default: break;
    }
    if (esc) {
      ub_raw(b, esc);
      i++;
      continue;
    }
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) {
      ub_raw(b, REPLACEMENT);
      i++;
      continue;
    }
    size_t k = utf8_len(p + i, n - i);
    if (k == 0) {
      ub_raw(b, REPLACEMENT);
      i++;
      continue;
    }
    ub_rawn(b, s + i, k);
    i += k;
  }
}

void ub_html(ubuf *b, const char *s) {
  if (s)
    ub_htmln(b, s, strlen(s));
}

void ub_htmlf(ubuf *b, const char *fmt, ...) {
  ubuf t = {0};
  va_list ap;
  va_start(ap, fmt);
  ub_vprintf(&t, fmt, ap);
  va_end(ap);
  if (t.s)
    ub_htmln(b, t.s, t.len);
  ub_free(&t);
}

void ub_jsn(ubuf *b, const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  ub_char(b, '"');
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    switch (c) {
    case '"': ub_raw(b, "\\\""); i++; continue;
    case '\\': ub_raw(b, "\\\\"); i++; continue;
    case '\n': ub_raw(b, "\\n"); i++; continue;
    case '\r': ub_raw(b, "\\r"); i++; continue;
    case '\t': ub_raw(b, "\\t"); i++; continue;
    case '<': case '>': case '&':
      ub_printf(b, "\\u%04x", c);
      i++;
      continue;
    default: break;
    }
    if (c < 0x20 || c == 0x7f) {
      ub_printf(b, "\\u%04x", c);
      i++;
      continue;
    }
    size_t k = utf8_len(p + i, n - i);
    if (k == 0) {
      ub_raw(b, "\\ufffd");
      i++;
      continue;
    }
    /* U+2028 and U+2029 end a line in older JavaScript */
    if (k == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
        (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
      ub_printf(b, "\\u%04x", p[i + 2] == 0xa8 ? 0x2028 : 0x2029);
      i += 3;
      continue;
    }
    ub_rawn(b, s + i, k);
    i += k;
  }
  ub_char(b, '"');
}

void ub_js(ubuf *b, const char *s) {
  if (!s)
    ub_raw(b, "null");
  else
    ub_jsn(b, s, strlen(s));
}

void ub_url(ubuf *b, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
    unsigned char c = *p;
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
        c == '~') {
      ub_char(b, (char)c);
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      ub_rawn(b, e, 3);
    }
  }
}

void ub_size(ubuf *b, uint64_t bytes) {
  static const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = (double)bytes;
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  if (u == 0)
    ub_printf(b, "%llu B", (unsigned long long)bytes);
  else
    ub_printf(b, v < 10 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void ub_duration(ubuf *b, double s) {
  if (s < 0)
    ub_raw(b, "-");
  else if (s < 60)
    ub_printf(b, s < 10 ? "%.2f s" : "%.1f s", s);
  else if (s < 3600)
    ub_printf(b, "%d min %d s", (int)(s / 60), (int)s % 60);
  else
    ub_printf(b, "%d h %d min", (int)(s / 3600), ((int)s % 3600) / 60);
}

void ub_time(ubuf *b, int64_t ms) {
  if (ms <= 0) {
    ub_raw(b, "-");
    return;
  }
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  char s[32];
  localtime_r(&t, &tm);
  strftime(s, sizeof s, "%Y-%m-%d %H:%M:%S", &tm);
  ub_raw(b, s);
}

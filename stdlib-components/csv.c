/*
 * csv.c — CSV reading, writing and in-memory tables (csv.h).
 *
 * The reader works on a large (1 MiB) buffer: fields point straight into
 * it; only quoted fields with doubled quotes are unescaped into a
 * per-record scratch area, so nothing is allocated per field. Scanning
 * looks up each byte once in a class table (separators, quotes, bytes
 * >= 0x80), which also checks UTF-8 in the same pass. A record cut by the
 * end of the buffer is moved to its start and parsed again after the next
 * read; one larger than the buffer grows it.
 */
#include "csv.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CSV_BUF (1u << 20)

struct csv_reader {
  FILE *f;
  const char *path;
  char *buf;
  size_t cap, pos, end;
  bool eof;
  long line, rec_line;
  uint32_t ncols;
  char **names;
  csv_field *fields;
  uint32_t fields_cap;
  char *scratch;      /* unescaped quoted fields of the current record */
  size_t scratch_cap, scratch_len;
  const char *raw;    /* the current record's bytes, without its newline */
  size_t raw_len;
  FILE *copy;         /* csv_open_copy: every byte read also goes here */
  const char *copy_path;
  int copy_errno;     /* first write error of the copy */
};

static void *xrealloc(void *p, size_t n) {
  void *q = realloc(p, n ? n : 1);
  if (!q) {
    fputs("pipec: out of memory\n", stderr);
    abort();
  }
  return q;
}

/* ---- byte classes ---------------------------------------------------------- */

/* What the scanners stop at: 0 is an ordinary byte. One table lookup per
 * byte instead of four comparisons; bytes >= 0x80 stop the scan so UTF-8 is
 * checked on the way, not in a second pass. */
enum { C_SEP = 1, C_NL = 2, C_QUOTE = 4, C_HIGH = 8 };
#define H4 C_HIGH, C_HIGH, C_HIGH, C_HIGH
#define H16 H4, H4, H4, H4
static const unsigned char cls[256] = {
    ['\n'] = C_NL, ['\r'] = C_SEP, [','] = C_SEP, ['"'] = C_QUOTE,
    [0x80] = H16, H16, H16, H16, H16, H16, H16, H16,
};
#undef H4
#undef H16

/* Length of the UTF-8 sequence at s (s[0] >= 0x80): 2-4 if valid, 0 if
 * cut by the end of the n bytes, -1 if invalid (overlong forms,
 * surrogates and code points past U+10FFFF are invalid). */
static int utf8_seq(const unsigned char *s, size_t n) {
  unsigned char c = s[0];
  int k;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF)
    k = 1, cp = c & 0x1F;
  else if ((c & 0xF0) == 0xE0)
    k = 2, cp = c & 0x0F;
  else if (c >= 0xF0 && c <= 0xF4)
    k = 3, cp = c & 0x07;
  else
    return -1;
  for (int j = 1; j <= k; j++) {
    if ((size_t)j >= n)
      return 0;
    if ((s[j] & 0xC0) != 0x80)
      return -1;
    cp = (cp << 6) | (s[j] & 0x3F);
  }
  if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
      (cp >= 0xD800 && cp <= 0xDFFF))
    return -1;
  return k + 1;
}

/* ---- reading ---------------------------------------------------------------- */

/* Refill: keep buf[keep..end), read more after it. */
static int refill(csv_reader *r, size_t keep, char *err, size_t errlen) {
  size_t have = r->end - keep;
  memmove(r->buf, r->buf + keep, have);
  r->pos -= keep;
  r->end = have;
  if (r->end == r->cap) { /* one record larger than the buffer: grow */
    r->cap *= 2;
    r->buf = xrealloc(r->buf, r->cap + 1);
  }
  size_t got = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
  if (r->copy && got && !r->copy_errno &&
      fwrite(r->buf + r->end, 1, got, r->copy) != got)
    r->copy_errno = errno ? errno : EIO;
  if (got == 0) {
    if (ferror(r->f)) {
      snprintf(err, errlen, "%s: read error: %s", r->path, strerror(errno));
      return -1;
    }
    r->eof = true;
  }
  r->end += got;
  return 0;
}

static char *scratch_add(csv_reader *r, const char *p, size_t n) {
  if (r->scratch_len + n > r->scratch_cap) {
    r->scratch_cap = (r->scratch_len + n) * 2 + 64;
    r->scratch = xrealloc(r->scratch, r->scratch_cap);
  }
  char *at = r->scratch + r->scratch_len;
  memcpy(at, p, n);
  r->scratch_len += n;
  return at;
}

enum { PARSE_OK = 1, PARSE_END = 0, PARSE_ERR = -1, PARSE_MORE = -2 };

/* The scanning state of one record: where we are, and on which line. */
typedef struct scan {
  const char *b;
  size_t i, end;
  long line;
  uint32_t field;  /* 1-based, for messages */
} scan;

/* At a byte >= 0x80: step over its UTF-8 sequence. PARSE_OK, PARSE_MORE
 * (cut by the buffer), or PARSE_ERR. */
static int step_utf8(csv_reader *r, scan *s, char *err, size_t errlen) {
  int k = utf8_seq((const unsigned char *)s->b + s->i, s->end - s->i);
  if (k == 0 && !r->eof)
    return PARSE_MORE;
  if (k <= 0) {
    snprintf(err, errlen, "%s:%ld: invalid UTF-8 in field %u", r->path,
             s->line, s->field);
    return PARSE_ERR;
  }
  s->i += (size_t)k;
  return PARSE_OK;
}

/* A field that starts with a quote, s->i just after it. */
static int scan_quoted(csv_reader *r, scan *s, csv_field *f, char *err,
                       size_t errlen) {
  const unsigned char *b = (const unsigned char *)s->b;
  size_t start = s->i;
  long first_line = s->line;
  bool doubled = false;
  for (;;) {
    size_t i = s->i, end = s->end;
    while (i < end && !(cls[b[i]] & (C_QUOTE | C_NL | C_HIGH)))
      i++;
    s->i = i;
    if (s->i >= s->end) {
      if (!r->eof)
        return PARSE_MORE;
      snprintf(err, errlen, "%s:%ld: quoted field never closed", r->path,
               first_line);
      return PARSE_ERR;
    }
    unsigned char c = b[s->i];
    if (c == '\n') {
      s->line++, s->i++;
      continue;
    }
    if (c >= 0x80) {
      int rc = step_utf8(r, s, err, errlen);
      if (rc != PARSE_OK)
        return rc;
      continue;
    }
    s->i++; /* a quote: the end, or the first of "" */
    if (s->i >= s->end && !r->eof)
      return PARSE_MORE;
    if (s->i < s->end && b[s->i] == '"') {
      doubled = true;
      s->i++;
      continue;
    }
    break;
  }
  size_t len = s->i - 1 - start;
  f->p = s->b + start;
  if (doubled) { /* unescape into the scratch area */
    char *o = scratch_add(r, s->b + start, len);
    size_t k = 0;
    for (size_t j = 0; j < len; j++) {
      o[k++] = o[j];
      j += o[j] == '"';
    }
    len = k;
    f->p = o;
  }
  f->len = (uint32_t)len;
  f->null = false;
  if (s->i < s->end && !(cls[b[s->i]] & (C_SEP | C_NL))) {
    snprintf(err, errlen,
             "%s:%ld: unexpected character after a closing quote "
             "(expected ',' or the end of the line)",
             r->path, s->line);
    return PARSE_ERR;
  }
  return PARSE_OK;
}

/* A field without quotes, up to ',' or the end of the line. */
static int scan_plain(csv_reader *r, scan *s, csv_field *f, char *err,
                      size_t errlen) {
  const unsigned char *b = (const unsigned char *)s->b;
  size_t start = s->i;
  for (;;) {
    size_t i = s->i, end = s->end; /* locals: the loop stays in registers */
    while (i < end && !cls[b[i]])
      i++;
    s->i = i;
    if (s->i >= s->end) {
      if (!r->eof)
        return PARSE_MORE;
      break;
    }
    unsigned char k = cls[b[s->i]];
    if (k & (C_SEP | C_NL))
      break;
    if (k & C_QUOTE) {
      snprintf(err, errlen,
               "%s:%ld: bare '\"' inside an unquoted field (quote the "
               "field and double the quote)",
               r->path, s->line);
      return PARSE_ERR;
    }
    int rc = step_utf8(r, s, err, errlen);
    if (rc != PARSE_OK)
      return rc;
  }
  f->p = s->b + start;
  f->len = (uint32_t)(s->i - start);
  f->null = f->len == 0;
  return PARSE_OK;
}

/* Parse one record at r->pos into r->fields (count in *nf). */
static int parse_record(csv_reader *r, uint32_t *nf, char *err,
                        size_t errlen) {
  scan s = {r->buf, r->pos, r->end, r->line, 0};
  r->scratch_len = 0;
  if (s.i >= s.end)
    return r->eof ? PARSE_END : PARSE_MORE;
  for (;;) {
    if (s.field == r->fields_cap) {
      r->fields_cap = r->fields_cap ? r->fields_cap * 2 : 16;
      r->fields = xrealloc(r->fields, r->fields_cap * sizeof *r->fields);
    }
    csv_field *f = &r->fields[s.field++];
    int rc;
    if (s.i < s.end && s.b[s.i] == '"') {
      s.i++;
      rc = scan_quoted(r, &s, f, err, errlen);
    } else {
      rc = scan_plain(r, &s, f, err, errlen);
    }
    if (rc != PARSE_OK)
      return rc;
    if (s.i < s.end && s.b[s.i] == ',') {
      s.i++;
      continue;
    }
    break;
  }
  /* end of record: \n, \r\n, or the end of the file */
  r->raw = r->buf + r->pos;
  r->raw_len = s.i - r->pos;
  if (s.i < s.end && s.b[s.i] == '\r') {
    if (s.i + 1 >= s.end && !r->eof)
      return PARSE_MORE;
    s.i++;
  }
  if (s.i < s.end && s.b[s.i] == '\n')
    s.i++;
  r->rec_line = r->line;
  r->line = s.line + 1;
  r->pos = s.i;
  *nf = s.field;
  return PARSE_OK;
}

/* The next record, refilling as needed; blank lines are skipped (unless
 * the table has a single column, where a blank line is a null). */
static int next_record(csv_reader *r, uint32_t *nf, char *err,
                       size_t errlen) {
  for (;;) {
    int rc = parse_record(r, nf, err, errlen);
    if (rc == PARSE_MORE) {
      if (refill(r, r->pos, err, errlen) != 0)
        return PARSE_ERR;
      continue;
    }
    if (rc == PARSE_OK && *nf == 1 && r->fields[0].null && r->ncols != 1)
      continue; /* a blank line */
    return rc;
  }
}

int csv_open(const char *path, csv_reader **out, char *err, size_t errlen) {
  return csv_open_copy(path, NULL, out, err, errlen);
}

int csv_open_copy(const char *path, const char *copy_path, csv_reader **out,
                  char *err, size_t errlen) {
  csv_reader *r = calloc(1, sizeof *r);
  if (!r) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  r->path = path;
  r->line = 1;
  r->f = fopen(path, "rb");
  if (!r->f) {
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
    free(r);
    return -1;
  }
  r->copy_path = copy_path;
  if (copy_path && !(r->copy = fopen(copy_path, "wb"))) {
    snprintf(err, errlen, "cannot create %s: %s", copy_path, strerror(errno));
    csv_close(r);
    return -1;
  }
  r->cap = CSV_BUF;
  r->buf = xrealloc(NULL, r->cap + 1);
  uint32_t nf;
  int rc = next_record(r, &nf, err, errlen);
  if (rc == PARSE_END)
    snprintf(err, errlen, "%s: empty file: a table needs a header row", path);
  if (rc != PARSE_OK) {
    csv_close(r);
    return -1;
  }
  /* skip a UTF-8 byte order mark */
  if (r->fields[0].len >= 3 && memcmp(r->fields[0].p, "\xEF\xBB\xBF", 3) == 0)
    r->fields[0].p += 3, r->fields[0].len -= 3;
  r->ncols = nf;
  r->names = xrealloc(NULL, nf * sizeof *r->names);
  for (uint32_t i = 0; i < nf; i++) {
    r->names[i] = strndup(r->fields[i].p, r->fields[i].len);
    if (!r->names[i][0]) {
      snprintf(err, errlen, "%s:1: column %u has no name in the header",
               path, i + 1);
      r->ncols = i + 1;
      csv_close(r);
      return -1;
    }
    for (uint32_t j = 0; j < i; j++)
      if (strcmp(r->names[i], r->names[j]) == 0) {
        snprintf(err, errlen, "%s:1: column '%s' appears twice in the header",
                 path, r->names[i]);
        r->ncols = i + 1;
        csv_close(r);
        return -1;
      }
  }
  *out = r;
  return 0;
}

int csv_copy_close(csv_reader *r, char *err, size_t errlen) {
  if (!r->copy)
    return 0;
  if (fclose(r->copy) != 0 && !r->copy_errno)
    r->copy_errno = errno ? errno : EIO;
  r->copy = NULL;
  if (!r->copy_errno && !r->eof) { /* stopped early: not a whole copy */
    snprintf(err, errlen, "%s: copy stopped before the end", r->path);
    return -1;
  }
  if (r->copy_errno) {
    snprintf(err, errlen, "writing %s: %s", r->copy_path,
             strerror(r->copy_errno));
    return -1;
  }
  return 0;
}

void csv_close(csv_reader *r) {
  if (!r)
    return;
  if (r->copy)
    fclose(r->copy);
  if (r->f)
    fclose(r->f);
  for (uint32_t i = 0; r->names && i < r->ncols; i++)
    free(r->names[i]);
  free(r->names);
  free(r->buf);
  free(r->fields);
  free(r->scratch);
  free(r);
}

uint32_t csv_ncols(const csv_reader *r) { return r->ncols; }
const char *csv_colname(const csv_reader *r, uint32_t i) {
  return r->names[i];
}
long csv_line(const csv_reader *r) { return r->rec_line; }

void csv_raw(const csv_reader *r, const char **p, size_t *len) {
  *p = r->raw;
  *len = r->raw_len;
}

int csv_col(const csv_reader *r, const char *name) {
  for (uint32_t i = 0; i < r->ncols; i++)
    if (strcmp(r->names[i], name) == 0)
      return (int)i;
  return -1;
}

int csv_next(csv_reader *r, const csv_field **fields, char *err,
             size_t errlen) {
  uint32_t nf;
  int rc = next_record(r, &nf, err, errlen);
  if (rc != PARSE_OK)
    return rc == PARSE_END ? 0 : -1;
  if (nf != r->ncols) {
    snprintf(err, errlen, "%s:%ld: row has %u field%s, the header has %u",
             r->path, r->rec_line, nf, nf == 1 ? "" : "s", r->ncols);
    return -1;
  }
  *fields = r->fields;
  return 1;
}

/* ---- writing ---------------------------------------------------------------- */

struct csv_writer {
  FILE *f;
  const char *path;
  char *buf;
  size_t n;
  bool failed;
  int err;
};

#define WBUF (1u << 20)

static void wflush(csv_writer *w) {
  if (w->n && !w->failed && fwrite(w->buf, 1, w->n, w->f) != w->n) {
    w->failed = true;
    w->err = errno;
  }
  w->n = 0;
}

static void wbytes(csv_writer *w, const char *p, size_t n) {
  if (w->n + n > WBUF)
    wflush(w);
  if (n > WBUF) {
    if (!w->failed && fwrite(p, 1, n, w->f) != n) {
      w->failed = true;
      w->err = errno;
    }
    return;
  }
  memcpy(w->buf + w->n, p, n);
  w->n += n;
}

int csv_wopen(const char *path, csv_writer **out, char *err, size_t errlen) {
  csv_writer *w = calloc(1, sizeof *w);
  if (!w || !(w->buf = malloc(WBUF))) {
    free(w);
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  w->path = path;
  w->f = fopen(path, "wb");
  if (!w->f) {
    snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
    free(w->buf);
    free(w);
    return -1;
  }
  *out = w;
  return 0;
}

void csv_put_raw(csv_writer *w, const char *p, size_t len) {
  if (w->n + len <= WBUF) { /* the common case: room in the buffer */
    memcpy(w->buf + w->n, p, len);
    w->n += len;
  } else {
    wbytes(w, p, len);
  }
}

void csv_put(csv_writer *w, const char *p, size_t len, bool last) {
  const unsigned char *u = (const unsigned char *)p;
  size_t i = 0;
  while (i < len && !(cls[u[i]] & (C_SEP | C_NL | C_QUOTE)))
    i++;
  if (i == len && len > 0 && w->n + len + 1 <= WBUF) { /* no quotes needed */
    memcpy(w->buf + w->n, p, len);
    w->n += len;
    w->buf[w->n++] = last ? '\n' : ',';
    return;
  }
  /* quoted when it must be; "" also keeps an empty string apart from null */
  bool quote = i < len || len == 0;
  if (!quote) {
    wbytes(w, p, len);
  } else {
    wbytes(w, "\"", 1);
    size_t s = 0;
    for (size_t j = 0; j < len; j++)
      if (p[j] == '"') {
        wbytes(w, p + s, j + 1 - s);
        wbytes(w, "\"", 1);
        s = j + 1;
      }
    wbytes(w, p + s, len - s);
    wbytes(w, "\"", 1);
  }
  wbytes(w, last ? "\n" : ",", 1);
}

void csv_put_null(csv_writer *w, bool last) { wbytes(w, last ? "\n" : ",", 1); }

void csv_put_double(csv_writer *w, double v, bool last) {
  if (!isfinite(v)) {
    csv_put_null(w, last);
    return;
  }
  char buf[40];
  csv_format_double(v, buf, sizeof buf);
  csv_put(w, buf, strlen(buf), last);
}

void csv_put_int(csv_writer *w, int64_t v, bool last) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%lld", (long long)v);
  csv_put(w, buf, (size_t)n, last);
}

int csv_wclose(csv_writer *w, char *err, size_t errlen) {
  wflush(w);
  int rc = 0;
  if (fclose(w->f) != 0 && !w->failed) {
    w->failed = true;
    w->err = errno;
  }
  if (w->failed) {
    snprintf(err, errlen, "writing %s: %s", w->path, strerror(w->err));
    rc = -1;
  }
  free(w->buf);
  free(w);
  return rc;
}

/* ---- values ------------------------------------------------------------------ */

bool csv_parse_int(const char *p, size_t len, int64_t *out) {
  if (len == 0 || len > 20)
    return false;
  bool neg = p[0] == '-';
  size_t i = neg || p[0] == '+';
  if (i == len)
    return false;
  uint64_t m = 0;
  for (; i < len; i++) {
    unsigned d = (unsigned)(unsigned char)p[i] - '0';
    if (d > 9 || m > (UINT64_MAX - d) / 10)
      return false;
    m = m * 10 + d;
  }
  if (m > (uint64_t)INT64_MAX + neg) /* -9223372036854775808 fits */
    return false;
  *out = neg ? (int64_t)(0 - m) : (int64_t)m;
  return true;
}

/* Clinger's fast path for plain decimals ("-12.5"): at most 15 significant
 * digits and 22 decimals, so the digits and the power of ten are exact
 * doubles and one division rounds correctly. 1 if it applied, 0 if the
 * text needs strtod (exponents, long numbers), -1 if it is no number. */
static int fast_double(const char *p, size_t len, double *out) {
  static const double pow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,
                                 1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                 1e12, 1e13, 1e14, 1e15, 1e16, 1e17,
                                 1e18, 1e19, 1e20, 1e21, 1e22};
  size_t i = p[0] == '-' || p[0] == '+';
  uint64_t m = 0;
  int digits = 0, decimals = 0;
  bool dot = false, any = false;
  for (; i < len; i++) {
    char c = p[i];
    if (c >= '0' && c <= '9') {
      any = true;
      m = m * 10 + (uint64_t)(c - '0');
      digits += m != 0;
      decimals += dot;
      if (digits > 15 || decimals > 22)
        return 0;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return c == 'e' || c == 'E' ? 0 : -1;
    }
  }
  if (!any)
    return -1;
  double v = (double)m / pow10[decimals];
  *out = p[0] == '-' ? -v : v;
  return 1;
}

bool csv_parse_double(const char *p, size_t len, double *out) {
  if (len == 0 || len > 63)
    return false;
  int fast = fast_double(p, len, out);
  if (fast != 0)
    return fast > 0;
  char buf[64];
  memcpy(buf, p, len);
  buf[len] = 0;
  /* only decimal numbers: no hex, inf or nan words, no blanks */
  for (size_t k = 0; k < len; k++)
    if (!((buf[k] >= '0' && buf[k] <= '9') || buf[k] == '+' ||
          buf[k] == '-' || buf[k] == '.' || buf[k] == 'e' || buf[k] == 'E'))
      return false;
  char *end;
  double v = strtod(buf, &end);
  if (*end || end == buf || !isfinite(v))
    return false;
  *out = v;
  return true;
}

bool csv_parse_bool(const char *p, size_t len, bool *out) {
  if (len != 4 && len != 5)
    return false;
  if ((len == 4 && strncasecmp(p, "true", 4) == 0)) {
    *out = true;
    return true;
  }
  if ((len == 5 && strncasecmp(p, "false", 5) == 0)) {
    *out = false;
    return true;
  }
  return false;
}

csv_type csv_value_type(const char *p, size_t len) {
  int64_t i;
  double d;
  bool b;
  if (csv_parse_int(p, len, &i))
    return CSV_INT;
  if (csv_parse_double(p, len, &d))
    return CSV_FLOAT;
  if (csv_parse_bool(p, len, &b))
    return CSV_BOOL;
  return CSV_STRING;
}

const char *csv_type_name(csv_type t) {
  static const char *const names[] = {"null", "int", "float", "bool",
                                      "string"};
  return names[t];
}

void csv_format_double(double v, char *buf, size_t len) {
  /* %g would write 50 as 5e+01 at precision 1: whole numbers in plain */
  if (v == floor(v) && fabs(v) < 1e15) {
    snprintf(buf, len, "%.0f", v == 0 ? 0.0 : v); /* no "-0" */
    return;
  }
  for (int prec = 1; prec <= 17; prec++) {
    snprintf(buf, len, "%.*g", prec, v);
    if (strtod(buf, NULL) == v)
      return;
  }
}

/* ---- tables in memory ---------------------------------------------------------- */

static void table_add_text(csv_table *t, const char *p, size_t n,
                           csv_cell *c) {
  if (t->text_len + n + 1 > t->text_cap) {
    t->text_cap = (t->text_len + n + 1) * 2;
    t->text = xrealloc(t->text, t->text_cap);
  }
  c->off = t->text_len;
  c->len = (uint32_t)n;
  memcpy(t->text + t->text_len, p, n);
  t->text[t->text_len + n] = 0;
  t->text_len += n + 1;
}

int csv_table_load(const char *path, csv_table *t,
                   const volatile int *cancelled, char *err, size_t errlen) {
  memset(t, 0, sizeof *t);
  csv_reader *r;
  if (csv_open(path, &r, err, errlen) != 0)
    return -1;
  t->ncols = csv_ncols(r);
  t->names = xrealloc(NULL, t->ncols * sizeof *t->names);
  for (uint32_t i = 0; i < t->ncols; i++)
    t->names[i] = strdup(csv_colname(r, i));
  /* The text never outgrows the file (a field's separator becomes its NUL,
   * quotes go): one allocation, no copying as it grows. */
  struct stat st;
  if (fstat(fileno(r->f), &st) == 0 && S_ISREG(st.st_mode)) {
    t->text_cap = (size_t)st.st_size + 64;
    t->text = xrealloc(NULL, t->text_cap);
  }
  const csv_field *f;
  int rc;
  while ((rc = csv_next(r, &f, err, errlen)) == 1) {
    if (cancelled && *cancelled && (t->nrows & 0xfff) == 0) {
      snprintf(err, errlen, "cancelled");
      rc = -1;
      break;
    }
    if (t->nrows == t->cap_rows) {
      t->cap_rows = t->cap_rows ? t->cap_rows * 2 : 1024;
      t->cells = xrealloc(t->cells,
                          t->cap_rows * t->ncols * sizeof *t->cells);
    }
    csv_cell *row = &t->cells[t->nrows * t->ncols];
    for (uint32_t c = 0; c < t->ncols; c++) {
      table_add_text(t, f[c].p, f[c].len, &row[c]);
      row[c].null = f[c].null;
    }
    t->nrows++;
  }
  csv_close(r);
  if (rc < 0) {
    csv_table_free(t);
    return -1;
  }
  csv_table_infer(t);
  return 0;
}

void csv_table_free(csv_table *t) {
  for (uint32_t i = 0; t->names && i < t->ncols; i++)
    free(t->names[i]);
  free(t->names);
  free(t->cells);
  free(t->text);
  free(t->types);
  memset(t, 0, sizeof *t);
}

int csv_table_col(const csv_table *t, const char *name) {
  for (uint32_t i = 0; i < t->ncols; i++)
    if (strcmp(t->names[i], name) == 0)
      return (int)i;
  return -1;
}

/* The type that holds both a and b (int widens to float; else string). */
static csv_type widen(csv_type a, csv_type b) {
  if (a == CSV_NULL || a == b)
    return b;
  if (b == CSV_NULL)
    return a;
  if ((a == CSV_INT && b == CSV_FLOAT) || (a == CSV_FLOAT && b == CSV_INT))
    return CSV_FLOAT;
  return CSV_STRING;
}

void csv_table_infer(csv_table *t) {
  free(t->types);
  t->types = xrealloc(NULL, (t->ncols + 1) * sizeof *t->types);
  for (uint32_t c = 0; c < t->ncols; c++) {
    csv_type ty = CSV_NULL;
    for (size_t r = 0; r < t->nrows && ty != CSV_STRING; r++) {
      const csv_cell *cell = csv_table_cell(t, r, c);
      if (!cell->null)
        ty = widen(ty, csv_value_type(t->text + cell->off, cell->len));
    }
    t->types[c] = ty;
  }
}

int csv_table_write(const csv_table *t, const size_t *order, size_t n,
                    const char *path, char *err, size_t errlen) {
  csv_writer *w;
  if (csv_wopen(path, &w, err, errlen) != 0)
    return -1;
  for (uint32_t c = 0; c < t->ncols; c++)
    csv_put(w, t->names[c], strlen(t->names[c]), c + 1 == t->ncols);
  if (!order)
    n = t->nrows;
  for (size_t i = 0; i < n; i++) {
    size_t r = order ? order[i] : i;
    for (uint32_t c = 0; c < t->ncols; c++) {
      const csv_cell *cell = csv_table_cell(t, r, c);
      if (cell->null)
        csv_put_null(w, c + 1 == t->ncols);
      else
        csv_put(w, t->text + cell->off, cell->len, c + 1 == t->ncols);
    }
  }
  return csv_wclose(w, err, errlen);
}

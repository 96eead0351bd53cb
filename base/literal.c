/*
 * literal.c — values as text (literal.h).
 */
#include "literal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void literal_double(double d, char *buf, size_t len) {
  if (isnan(d)) {
    snprintf(buf, len, "nan");
    return;
  }
  if (isinf(d)) {
    snprintf(buf, len, d < 0 ? "-inf" : "inf");
    return;
  }
  int prec = 1;
  for (; prec <= 17; prec++) {
    snprintf(buf, len, "%.*e", prec - 1, d);
    if (strtod(buf, NULL) == d)
      break;
  }
  /* the fewest digits that read back (prec), written as a person writes
   * the number: 10.0, 0.25, 123456.0; exponents only where positional
   * notation would need padding zeros (1e+20, 1.5e-07) */
  int exp = atoi(strchr(buf, 'e') + 1);
  if (exp >= -5 && exp < 17) {
    int decimals = prec - 1 - exp;
    snprintf(buf, len, "%.*f", decimals > 0 ? decimals : 0, d);
  }
  /* "1" would read back as an int in the language; keep it a float */
  if (!strpbrk(buf, ".eEn"))
    strncat(buf, ".0", len - strlen(buf) - 1);
}

static int parse_int(const char *s, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || *end || errno == ERANGE || isspace((unsigned char)*s))
    return -1;
  *out = v;
  return 0;
}

static int parse_float(const char *s, double *out) {
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (end == s || *end || isspace((unsigned char)*s) || !isfinite(v))
    return -1;
  *out = v;
  return 0;
}

/* A "..." literal at *p with escapes \" \\ \n \t \r; advances *p. */
static char *parse_quoted(arena *a, const char **p) {
  const char *s = *p;
  if (*s != '"')
    return NULL;
  char *buf = arena_alloc(a, strlen(s) + 1);
  size_t n = 0;
  for (s++; *s && *s != '"'; s++) {
    if (*s != '\\') {
      buf[n++] = *s;
      continue;
    }
    s++;
    switch (*s) {
    case '"': buf[n++] = '"'; break;
    case '\\': buf[n++] = '\\'; break;
    case 'n': buf[n++] = '\n'; break;
    case 't': buf[n++] = '\t'; break;
    case 'r': buf[n++] = '\r'; break;
    default: return NULL;
    }
  }
  if (*s != '"')
    return NULL;
  *p = s + 1;
  buf[n] = 0;
  return buf;
}

/* One list item in language syntax: a quoted string, a number, a bool. */
static int parse_item(arena *a, const char **p, pipec_value *out) {
  const char *s = *p;
  if (*s == '"') {
    char *str = parse_quoted(a, p);
    if (!str)
      return -1;
    *out = (pipec_value){.type = PIPEC_T_STRING, .u.s = str};
    return 0;
  }
  size_t n = strcspn(s, ",] \t");
  char *word = arena_strndup(a, s, n);
  *p = s + n;
  if (strcmp(word, "true") == 0 || strcmp(word, "false") == 0) {
    *out = (pipec_value){.type = PIPEC_T_BOOL, .u.b = word[0] == 't'};
    return 0;
  }
  if (parse_int(word, &out->u.i) == 0) {
    out->type = PIPEC_T_INT;
    return 0;
  }
  if (parse_float(word, &out->u.f) == 0) {
    out->type = PIPEC_T_FLOAT;
    return 0;
  }
  return -1;
}

static int parse_list(arena *a, const char *text, bool quoted_strings,
                      pipec_value *out) {
  const char *p = text;
  while (isspace((unsigned char)*p))
    p++;
  size_t cap = strlen(text) / 2 + 1, n = 0;
  pipec_value *items = arena_alloc(a, cap * sizeof *items);
  if (*p != '[') {
    if (quoted_strings)
      return -1;
    /* "a,b,c" from the command line: strings */
    if (*text)
      for (const char *s = text;; s++) {
        size_t len = strcspn(s, ",");
        items[n++] = (pipec_value){.type = PIPEC_T_STRING,
                                   .u.s = arena_strndup(a, s, len)};
        s += len;
        if (!*s)
          break;
      }
  } else {
    p++;
    for (;;) {
      while (isspace((unsigned char)*p))
        p++;
      if (*p == ']')
        break;
      if (n == cap || parse_item(a, &p, &items[n++]))
        return -1;
      while (isspace((unsigned char)*p))
        p++;
      if (*p == ',')
        p++;
      else if (*p != ']')
        return -1;
    }
    p++;
    while (isspace((unsigned char)*p))
      p++;
    if (*p)
      return -1;
  }
  *out = (pipec_value){.type = PIPEC_T_LIST,
                       .u.list = {items, (uint32_t)n, PIPEC_T_STRING}};
  return 0;
}

int literal_parse(arena *a, const char *text, pipec_type type,
                  bool quoted_strings, pipec_value *out, char *err,
                  size_t errlen) {
  int bad = 0;
  out->type = type;
  switch (type) {
  case PIPEC_T_INT:
    bad = parse_int(text, &out->u.i);
    break;
  case PIPEC_T_FLOAT:
    bad = parse_float(text, &out->u.f);
    break;
  case PIPEC_T_BOOL:
    bad = strcmp(text, "true") && strcmp(text, "false");
    out->u.b = strcmp(text, "true") == 0;
    break;
  case PIPEC_T_STRING:
  case PIPEC_T_PATH:
    if (quoted_strings) {
      const char *p = text;
      out->u.s = parse_quoted(a, &p);
      bad = !out->u.s || *p;
    } else {
      out->u.s = arena_strdup(a, text);
    }
    break;
  case PIPEC_T_LIST:
    bad = parse_list(a, text, quoted_strings, out);
    break;
  }
  if (bad) {
    const char *t = pipec_type_name(type);
    snprintf(err, errlen, "expected %s %s, found '%s'",
             type == PIPEC_T_INT ? "an" : "a", t, text);
    return -1;
  }
  return 0;
}

int literal_parse_list(arena *a, const char *text, pipec_type elem,
                       bool quoted_strings, pipec_value *out, char *err,
                       size_t errlen) {
  if (literal_parse(a, text, PIPEC_T_LIST, quoted_strings, out, err,
                    errlen) != 0)
    return -1;
  pipec_value *items = (pipec_value *)out->u.list.items;
  for (uint32_t i = 0; i < out->u.list.n; i++) {
    pipec_value *it = &items[i];
    if (it->type == elem)
      continue;
    if (it->type == PIPEC_T_INT && elem == PIPEC_T_FLOAT) {
      *it = (pipec_value){.type = PIPEC_T_FLOAT, .u.f = (double)it->u.i};
      continue;
    }
    if (it->type == PIPEC_T_STRING && elem == PIPEC_T_PATH) {
      it->type = PIPEC_T_PATH;
      continue;
    }
    /* "1,2,3" from the command line: each item is read as the type */
    if (it->type == PIPEC_T_STRING && !quoted_strings &&
        literal_parse(a, it->u.s, elem, false, it, err, errlen) == 0)
      continue;
    snprintf(err, errlen, "expected %s, found '%s' (item %u)",
             pipec_type_text(PIPEC_T_LIST, elem), text, i + 1);
    return -1;
  }
  out->u.list.elem = elem;
  return 0;
}

static void append(arena *a, char **buf, size_t *len, size_t *cap,
                   const char *s) {
  size_t n = strlen(s);
  if (*len + n + 1 > *cap) {
    size_t ncap = (*cap + n + 1) * 2;
    char *nb = arena_alloc(a, ncap);
    memcpy(nb, *buf, *len);
    *buf = nb;
    *cap = ncap;
  }
  memcpy(*buf + *len, s, n + 1);
  *len += n;
}

static const char *scalar_text(arena *a, const pipec_value *v, bool quote) {
  char num[40];
  switch (v->type) {
  case PIPEC_T_INT:
    return arena_printf(a, "%lld", (long long)v->u.i);
  case PIPEC_T_FLOAT:
    literal_double(v->u.f, num, sizeof num);
    return arena_strdup(a, num);
  case PIPEC_T_BOOL:
    return v->u.b ? "true" : "false";
  case PIPEC_T_STRING:
  case PIPEC_T_PATH:
    if (!quote)
      return v->u.s;
    {
      char *buf = arena_alloc(a, 1);
      size_t len = 0, cap = 1;
      append(a, &buf, &len, &cap, "\"");
      for (const char *p = v->u.s; *p; p++) {
        char c[3] = {*p, 0, 0};
        if (*p == '"' || *p == '\\')
          c[0] = '\\', c[1] = *p;
        else if (*p == '\n')
          c[0] = '\\', c[1] = 'n';
        else if (*p == '\t')
          c[0] = '\\', c[1] = 't';
        else if (*p == '\r')
          c[0] = '\\', c[1] = 'r';
        append(a, &buf, &len, &cap, c);
      }
      append(a, &buf, &len, &cap, "\"");
      return buf;
    }
  case PIPEC_T_LIST:
    break;
  }
  return "";
}

static const char *value_text(arena *a, const pipec_value *v, bool quote) {
  if (v->type != PIPEC_T_LIST)
    return scalar_text(a, v, quote);
  char *buf = arena_alloc(a, 1);
  size_t len = 0, cap = 1;
  if (quote)
    append(a, &buf, &len, &cap, "[");
  for (uint32_t i = 0; i < v->u.list.n; i++) {
    if (i)
      append(a, &buf, &len, &cap, quote ? ", " : ",");
    append(a, &buf, &len, &cap, scalar_text(a, &v->u.list.items[i], quote));
  }
  if (quote)
    append(a, &buf, &len, &cap, "]");
  return buf;
}

const char *literal_text(arena *a, const pipec_value *v) {
  return value_text(a, v, false);
}

const char *literal_source(arena *a, const pipec_value *v) {
  return value_text(a, v, true);
}

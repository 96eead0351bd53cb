/*
 * units.c — parsing durations and sizes, and writing sizes (units.h). Overflow and junk are
 * errors, never silently wrapped or truncated.
 */
#include "units.h"

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read a run of digits into *v; returns the number of digits (0: none), or
 * -1 on overflow. */
static int digits(const char **s, int64_t *v) {
  int n = 0;
  *v = 0;
  while (isdigit((unsigned char)**s)) {
    int d = **s - '0';
    if (*v > (INT64_MAX - d) / 10)
      return -1;
    *v = *v * 10 + d;
    (*s)++;
    n++;
  }
  return n;
}

static bool add_mul(int64_t *acc, int64_t v, int64_t mul) {
  if (v > (INT64_MAX - *acc) / mul)
    return false;
  *acc += v * mul;
  return true;
}

/* "HH:MM:SS", "MM:SS" and "D-HH:MM:SS". */
static int clock_time(const char *s, int64_t *out) {
  int64_t f[4], days = 0;
  int n = 0;
  const char *dash = strchr(s, '-');
  if (dash) {
    if (digits(&s, &days) <= 0 || s != dash)
      return -1;
    s++;
  }
  for (;;) {
    if (n == 3 || digits(&s, &f[n]) <= 0)
      return -1;
    n++;
    if (*s == 0)
      break;
    if (*s++ != ':')
      return -1;
  }
  if (n < 2 || (n == 3 && (f[1] > 59 || f[2] > 59)) ||
      (n == 2 && f[1] > 59))
    return -1;
  int64_t secs = 0;
  int64_t mul = 1;
  for (int i = n - 1; i >= 0; i--, mul *= 60)
    if (!add_mul(&secs, f[i], mul))
      return -1;
  if (!add_mul(&secs, days, 86400))
    return -1;
  *out = secs;
  return 0;
}

int units_duration(const char *s, int64_t *out) {
  if (!s || !*s)
    return -1;
  if (strchr(s, ':'))
    return clock_time(s, out);
  static const char units[] = "dhms";
  static const int64_t mul[] = {86400, 3600, 60, 1};
  int64_t total = 0, v;
  int last = -1;
  const char *p = s;
  while (*p) {
    int n = digits(&p, &v);
    if (n <= 0)
      return -1;
    if (*p == 0) {               /* bare number: seconds */
      if (last >= 0 && last < 3) /* "1h30" would be ambiguous */
        return -1;
      if (last == 3 || !add_mul(&total, v, 1))
        return -1;
      break;
    }
    const char *u = strchr(units, *p);
    if (!u || *p == 0)
      return -1;
    int idx = (int)(u - units);
    if (idx <= last)             /* units in descending order, once each */
      return -1;
    if (!add_mul(&total, v, mul[idx]))
      return -1;
    last = idx;
    p++;
  }
  *out = total;
  return 0;
}

int units_size(const char *s, int64_t *out) {
  if (!s || !isdigit((unsigned char)*s))
    return -1;
  char *end;
  double v = strtod(s, &end);
  if (end == s || !isfinite(v) || v < 0)
    return -1;
  for (const char *q = s; q < end; q++)  /* no exponents or hex */
    if (!isdigit((unsigned char)*q) && *q != '.')
      return -1;
  double mul = 1;
  const char *p = end;
  switch (toupper((unsigned char)*p)) {
  case 'K': mul = 1024.0; p++; break;
  case 'M': mul = 1024.0 * 1024; p++; break;
  case 'G': mul = 1024.0 * 1024 * 1024; p++; break;
  case 'T': mul = 1024.0 * 1024 * 1024 * 1024; p++; break;
  default: break;
  }
  if (mul > 1 && (*p == 'i' || *p == 'I'))
    p++;
  if (toupper((unsigned char)*p) == 'B')
    p++;
  if (*p)
    return -1;
  double bytes = v * mul;
  if (bytes >= 9.2e18 || (mul == 1 && strchr(s, '.')))
    return -1;
  *out = (int64_t)bytes;
  return 0;
}

void units_size_text(int64_t bytes, char *buf, size_t len) {
  static const char units[] = "KMGTP";
  if (bytes < 1024) {
    snprintf(buf, len, "%lld", (long long)(bytes > 0 ? bytes : 0));
    return;
  }
  double v = (double)bytes;
  int u = -1;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  /* whole units, or one decimal below 10 ("1.5G"), rounded up */
  double r = v >= 10 ? ceil(v) : ceil(v * 10) / 10;
  if (r >= 1024 && u < 4) {
    r = 1;
    u++;
  }
  if (r == floor(r))
    snprintf(buf, len, "%.0f%c", r, units[u]);
  else
    snprintf(buf, len, "%.1f%c", r, units[u]);
}

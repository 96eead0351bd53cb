/*
 * editdist.c — optimal-string-alignment distance (Levenshtein plus adjacent
 * transpositions), three rows of ints, stopping early once a whole row is
 * past the limit. Only ever run on error paths, over short names.
 */
#include "editdist.h"

#include <stdlib.h>
#include <string.h>

static int min2(int a, int b) { return a < b ? a : b; }

int editdist(const char *a, const char *b, bool allow_replacements, int max) {
  size_t m = strlen(a), n = strlen(b);
  int small[3 * 65];
  int *buf = small;
  if (n + 1 > 65) {
    buf = malloc(3 * (n + 1) * sizeof *buf);
    if (!buf)
      return max > 0 ? max + 1 : (int)(m > n ? m : n);
  }
  int *prev2 = buf, *prev = buf + (n + 1), *cur = buf + 2 * (n + 1);
  for (size_t x = 0; x <= n; x++)
    prev[x] = (int)x;
  int result = -1;
  for (size_t y = 1; y <= m; y++) {
    cur[0] = (int)y;
    int best = cur[0];
    for (size_t x = 1; x <= n; x++) {
      int same = a[y - 1] == b[x - 1];
      int d = min2(cur[x - 1], prev[x]) + 1;
      if (same)
        d = min2(d, prev[x - 1]);
      else if (allow_replacements)
        d = min2(d, prev[x - 1] + 1);
      if (y > 1 && x > 1 && a[y - 1] == b[x - 2] && a[y - 2] == b[x - 1] &&
          !same)
        d = min2(d, prev2[x - 2] + 1);
      cur[x] = d;
      best = min2(best, d);
    }
    if (max > 0 && best > max) {
      result = max + 1;
      break;
    }
    int *t = prev2;
    prev2 = prev;
    prev = cur;
    cur = t;
  }
  if (result < 0)
    result = prev[n];
  if (buf != small)
    free(buf);
  return result;
}

int editdist_max(const char *word) { return (int)(strlen(word) / 3) + 1; }

const char *editdist_suggest(const char *word, const char *const *words,
                             uint32_t n) {
  int max = editdist_max(word);
  size_t wlen = strlen(word);
  const char *best = NULL;
  int best_d = max + 1;
  for (uint32_t i = 0; i < n; i++) {
    const char *w = words[i];
    if (!w)
      continue;
    size_t len = strlen(w);
    /* the distance is at least the difference in length */
    if ((len > wlen ? len - wlen : wlen - len) >= (size_t)best_d)
      continue;
    int d = editdist(word, w, true, best_d - 1 > 0 ? best_d - 1 : 1);
    if (d < best_d) {
      best_d = d;
      best = w;
    }
  }
  return best;
}

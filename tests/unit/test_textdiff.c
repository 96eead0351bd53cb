/*
 * test_textdiff.c — unified line diffs (engine/textdiff.c): exact output
 * for known cases (as `diff -u` writes them), and for many random pairs
 * that applying the hunks to A gives B and that the number of changed
 * lines is the minimum (n + m - 2 * LCS).
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <stdbool.h>

#include "textdiff.h"

static char *diff_of(const char *a, const char *b, unsigned ctx, int *rc) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  CHECK(f);
  *rc = textdiff_unified(f, a, strlen(a), b, strlen(b), "a", "b", ctx, 10000);
  fclose(f);
  return buf;
}

static void expect(const char *a, const char *b, const char *want) {
  int rc;
  char *got = diff_of(a, b, 3, &rc);
  CHECK_STREQ(got, want);
  free(got);
}

static void known(void) {
  expect("x\ny\n", "x\ny\n", "");
  expect("a\nb\nc\n", "a\nB\nc\n",
         "--- a\n+++ b\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
  expect("", "new\n", "--- a\n+++ b\n@@ -0,0 +1 @@\n+new\n");
  expect("old\n", "", "--- a\n+++ b\n@@ -1 +0,0 @@\n-old\n");
  expect("a\nb", "a\nb\n",
         "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n"
         "+b\n");
  /* two changes far apart: two hunks with 3 lines of context */
  expect("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
         "X\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\nY\n",
         "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n"
         "@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+Y\n");
  /* close changes share a hunk */
  expect("1\n2\n3\n4\n5\n6\n", "X\n2\n3\n4\n5\nY\n",
         "--- a\n+++ b\n@@ -1,6 +1,6 @@\n-1\n+X\n 2\n 3\n 4\n 5\n-6\n+Y\n");
  CHECK(textdiff_is_text("abc", 3));
  CHECK(!textdiff_is_text("a\0c", 3));
}

static void bounded(void) {
  char a[4096] = "", b[4096] = "";
  for (int i = 0; i < 500; i++) {
    strcat(a, "a\n");
    strcat(b, "b\n");
  }
  int rc;
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  rc = textdiff_unified(f, a, strlen(a), b, strlen(b), "a", "b", 3, 100);
  fclose(f);
  CHECK_EQ(rc, -E2BIG);
  CHECK_EQ(len, 0);
  free(out);
}

/* Apply a unified diff (our own output) to a; returns the result. */
static char *apply(const char *a, const char *diff) {
  const char *lines_a[256];
  int na = 0;
  char *ca = strdup(a);
  for (char *s = ca, *nl; *s; s = nl + 1) {
    nl = strchr(s, '\n');
    *nl = 0;
    lines_a[na++] = s;
  }
  char *out = calloc(1, 8192);
  int pos = 0; /* next line of a not yet copied */
  const char *p = diff;
  while (*p) {
    const char *nl = strchr(p, '\n');
    int len = (int)(nl - p);
    if (p[0] == '@') {
      /* "@@ -S,N +..." (",N" left out when N is 1): an empty side names
       * the line after which the hunk goes, so it is not decremented */
      char *end;
      int start = (int)strtol(p + 4, &end, 10);
      int count = *end == ',' ? atoi(end + 1) : 1;
      if (count > 0)
        start--;
      while (pos < start) {
        strcat(out, lines_a[pos++]);
        strcat(out, "\n");
      }
    } else if (p[0] == ' ') {
      strncat(out, p + 1, (size_t)len - 1);
      strcat(out, "\n");
      pos++;
    } else if (p[0] == '+' && p[1] != '+') {
      strncat(out, p + 1, (size_t)len - 1);
      strcat(out, "\n");
    } else if (p[0] == '-' && p[1] != '-') {
      pos++;
    }
    p = nl + 1;
  }
  while (pos < na) {
    strcat(out, lines_a[pos++]);
    strcat(out, "\n");
  }
  free(ca);
  return out;
}

static int lcs(const char **x, int n, const char **y, int m) {
  static int t[64][64];
  for (int i = 0; i <= n; i++)
    for (int j = 0; j <= m; j++)
      t[i][j] = !i || !j ? 0
                : strcmp(x[i - 1], y[j - 1]) == 0
                    ? t[i - 1][j - 1] + 1
                    : (t[i - 1][j] > t[i][j - 1] ? t[i - 1][j] : t[i][j - 1]);
  return t[n][m];
}

static void random_pairs(void) {
  static const char *words[] = {"a", "b", "c", "d"};
  unsigned seed = 12345;
  for (int round = 0; round < 2000; round++) {
    const char *x[40], *y[40];
    int n = (int)((seed = seed * 1103515245 + 12345) >> 16) % 30;
    int m = (int)((seed = seed * 1103515245 + 12345) >> 16) % 30;
    char a[256] = "", b[256] = "";
    for (int i = 0; i < n; i++) {
      x[i] = words[((seed = seed * 1103515245 + 12345) >> 16) % 4];
      strcat(a, x[i]);
      strcat(a, "\n");
    }
    for (int i = 0; i < m; i++) {
      y[i] = words[((seed = seed * 1103515245 + 12345) >> 16) % 4];
      strcat(b, y[i]);
      strcat(b, "\n");
    }
    int rc;
    char *d = diff_of(a, b, (unsigned)(round % 4), &rc);
    CHECK(rc >= 0);
    char *got = apply(a, d);
    if (strcmp(got, b) != 0)
      fprintf(stderr, "round %d ctx %d\nA:\n%sB:\n%sdiff:\n%s", round,
              round % 4, a, b, d);
    CHECK_STREQ(got, b);
    int changed = 0;
    for (const char *p = d; *p; p = strchr(p, '\n') + 1)
      changed += (p[0] == '+' && p[1] != '+') || (p[0] == '-' && p[1] != '-');
    CHECK_EQ(changed, n + m - 2 * lcs(x, n, y, m));
    free(got);
    free(d);
  }
}

int main(void) {
  RUN(known);
  RUN(bounded);
  RUN(random_pairs);
  return 0;
}

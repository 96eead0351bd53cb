/*
 * textdiff.c — unified line diffs (textdiff.h).
 *
 * Lines are compared by a hash first, then by their bytes. The edit script
 * comes from Myers' greedy algorithm: for each d = 0, 1, ... the furthest
 * reaching path with d edits on every diagonal k, V[k] = x; each round's V
 * is kept (only its 2d+1 live diagonals) so the path can be walked back.
 * That is (D+1)^2 ints for D edits, which max_edits bounds.
 */
#include "textdiff.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct line {
  const char *s;
  size_t len;        /* without the '\n' */
  bool newline;      /* ends with '\n' (only the last line may not) */
  uint64_t h;
} line;

typedef enum { OP_SAME, OP_DEL, OP_ADD } op_kind;

typedef struct op {
  op_kind kind;
  size_t a, b;       /* line index in a (SAME, DEL) and in b (SAME, ADD) */
} op;

bool textdiff_is_text(const char *buf, size_t len) {
  return !memchr(buf, 0, len);
}

static uint64_t line_hash(const char *s, size_t len) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (size_t i = 0; i < len; i++)
    h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
  return h;
}

static int split_lines(const char *t, size_t len, line **out, size_t *n) {
  size_t cap = 16, k = 0;
  line *v = malloc(cap * sizeof *v);
  if (!v)
    return -ENOMEM;
  for (size_t i = 0; i < len;) {
    const char *nl = memchr(t + i, '\n', len - i);
    size_t l = nl ? (size_t)(nl - (t + i)) : len - i;
    if (k == cap) {
      line *nv = realloc(v, (cap *= 2) * sizeof *v);
      if (!nv) {
        free(v);
        return -ENOMEM;
      }
      v = nv;
    }
    v[k++] = (line){t + i, l, nl != NULL, line_hash(t + i, l)};
    i += l + (nl ? 1 : 0);
  }
  *out = v;
  *n = k;
  return 0;
}

static bool same(const line *x, const line *y) {
  return x->h == y->h && x->len == y->len && x->newline == y->newline &&
         memcmp(x->s, y->s, x->len) == 0;
}

/* The edit script turning a[0..n) into b[0..m) (after the common head and
 * tail are removed), appended to ops; lines are offset by off_a, off_b. */
static int myers(const line *a, size_t n, const line *b, size_t m,
                 size_t off_a, size_t off_b, size_t max_edits, op *ops,
                 size_t *n_ops) {
  size_t max = n + m;
  if (max > max_edits)
    max = max_edits;
  /* trace[d] holds V[-d..d] after round d */
  long **trace = calloc(max + 1, sizeof *trace);
  long *v = calloc(2 * max + 3, sizeof *v);
  if (!trace || !v) {
    free(trace);
    free(v);
    return -ENOMEM;
  }
  long *V = v + max + 1; /* V[k] for k in [-max-1, max+1] */
  long D = -1;
  for (long d = 0; d <= (long)max && D < 0; d++) {
    for (long k = -d; k <= d; k += 2) {
      long x = (k == -d || (k != d && V[k - 1] < V[k + 1])) ? V[k + 1]
                                                             : V[k - 1] + 1;
      long y = x - k;
      while (x < (long)n && y < (long)m && same(&a[x], &b[y]))
        x++, y++;
      V[k] = x;
      if (x >= (long)n && y >= (long)m) {
        D = d;
        break;
      }
    }
    trace[d] = malloc((size_t)(2 * d + 1) * sizeof **trace);
    if (!trace[d]) {
      D = -2;
      break;
    }
    memcpy(trace[d], V - d, (size_t)(2 * d + 1) * sizeof **trace);
  }
  int rc = 0;
  if (D < 0) {
    rc = D == -2 ? -ENOMEM : -E2BIG;
  } else {
    /* walk back from (n, m), writing the script from its end */
    size_t total = *n_ops, len = 0;
    op *rev = malloc((n + m + 1) * sizeof *rev);
    if (!rev) {
      rc = -ENOMEM;
    } else {
      long x = (long)n, y = (long)m;
      for (long d = D; d >= 0; d--) {
        long k = x - y;
        long prev_k, prev_x;
        if (d == 0) {
          prev_k = 0;
          prev_x = 0;
        } else {
          long *Vp = trace[d - 1] + (d - 1);
          bool down = k == -d || (k != d && Vp[k - 1] < Vp[k + 1]);
          prev_k = down ? k + 1 : k - 1;
          prev_x = Vp[prev_k];
        }
        long prev_y = prev_x - prev_k;
        /* the snake: from the point after the edit up to (x, y) */
        long sx = d == 0 ? 0 : (prev_k == k + 1 ? prev_x : prev_x + 1);
        long sy = sx - k;
        while (x > sx && y > sy) {
          x--, y--;
          rev[len++] = (op){OP_SAME, off_a + (size_t)x, off_b + (size_t)y};
        }
        if (d > 0) {
          if (prev_k == k + 1) /* down: an insertion of b[prev_y] */
            rev[len++] = (op){OP_ADD, off_a + (size_t)prev_x,
                              off_b + (size_t)prev_y};
          else /* right: a deletion of a[prev_x] */
            rev[len++] = (op){OP_DEL, off_a + (size_t)prev_x,
                              off_b + (size_t)prev_y};
          x = prev_x;
          y = prev_y;
        }
      }
      for (size_t i = 0; i < len; i++)
        ops[total + i] = rev[len - 1 - i];
      *n_ops = total + len;
      free(rev);
    }
  }
  for (long d = 0; d <= (long)max; d++)
    free(trace[d]);
  free(trace);
  free(v);
  return rc;
}

static void print_line(FILE *out, char mark, const line *l) {
  fputc(mark, out);
  fwrite(l->s, 1, l->len, out);
  fputc('\n', out);
  if (!l->newline)
    fputs("\\ No newline at end of file\n", out);
}

/* "l,n" of a hunk side as diff -u writes it ("l" when n is 1, "l-1,0"
 * when empty). */
static void range(FILE *out, size_t first, size_t count) {
  if (count == 1)
    fprintf(out, "%zu", first + 1);
  else
    fprintf(out, "%zu,%zu", count ? first + 1 : first, count);
}

static int print_hunks(FILE *out, const op *ops, size_t n_ops,
                       const line *a, const line *b, const char *label_a,
                       const char *label_b, unsigned context) {
  int hunks = 0;
  size_t i = 0;
  while (i < n_ops) {
    while (i < n_ops && ops[i].kind == OP_SAME)
      i++;
    if (i == n_ops)
      break;
    /* a hunk: from `context` lines before this change to `context` after
     * the last change that is at most 2*context lines from the next */
    size_t start = i > context ? i - context : 0, end = i;
    for (;;) {
      while (end < n_ops && ops[end].kind != OP_SAME)
        end++;
      size_t gap = end;
      while (gap < n_ops && ops[gap].kind == OP_SAME)
        gap++;
      if (gap < n_ops && gap - end <= 2 * (size_t)context) {
        end = gap;
        continue;
      }
      end = end + context < n_ops ? end + context : n_ops;
      break;
    }
    if (!hunks)
      fprintf(out, "--- %s\n+++ %s\n", label_a, label_b);
    hunks++;
    size_t a_first = ops[start].a, b_first = ops[start].b, na = 0, nb = 0;
    for (size_t k = start; k < end; k++) {
      na += ops[k].kind != OP_ADD;
      nb += ops[k].kind != OP_DEL;
    }
    fputs("@@ -", out);
    range(out, a_first, na);
    fputs(" +", out);
    range(out, b_first, nb);
    fputs(" @@\n", out);
    for (size_t k = start; k < end; k++) {
      if (ops[k].kind == OP_SAME)
        print_line(out, ' ', &a[ops[k].a]);
      else if (ops[k].kind == OP_DEL)
        print_line(out, '-', &a[ops[k].a]);
      else
        print_line(out, '+', &b[ops[k].b]);
    }
    i = end;
  }
  return hunks;
}

int textdiff_unified(FILE *out, const char *a, size_t alen, const char *b,
                     size_t blen, const char *label_a, const char *label_b,
                     unsigned context, size_t max_edits) {
  line *la = NULL, *lb = NULL;
  size_t na = 0, nb = 0;
  int rc = split_lines(a, alen, &la, &na);
  if (rc == 0)
    rc = split_lines(b, blen, &lb, &nb);
  op *ops = rc == 0 ? malloc((na + nb + 1) * sizeof *ops) : NULL;
  if (rc == 0 && !ops)
    rc = -ENOMEM;
  if (rc == 0) {
    size_t head = 0, tail = 0, n_ops = 0;
    while (head < na && head < nb && same(&la[head], &lb[head]))
      head++;
    while (tail < na - head && tail < nb - head &&
           same(&la[na - 1 - tail], &lb[nb - 1 - tail]))
      tail++;
    for (size_t i = 0; i < head; i++)
      ops[n_ops++] = (op){OP_SAME, i, i};
    rc = myers(la + head, na - head - tail, lb + head, nb - head - tail,
               head, head, max_edits, ops, &n_ops);
    for (size_t i = 0; rc == 0 && i < tail; i++)
      ops[n_ops++] = (op){OP_SAME, na - tail + i, nb - tail + i};
    if (rc == 0)
      rc = print_hunks(out, ops, n_ops, la, lb, label_a, label_b, context);
  }
  free(ops);
  free(la);
  free(lb);
  return rc;
}

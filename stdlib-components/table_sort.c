/*
 * table_sort.c — `table.sort(input, by, descending)`: a stable sort on
 * one or more columns. A numeric column (every value a number) sorts by
 * value, any other by bytes; nulls sort first (last when descending).
 */
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

typedef struct sort_ctx {
  const csv_table *t;
  const uint32_t *cols;
  uint32_t n;
  double *num;        /* per key column, per row: the value (numeric keys) */
  bool *numeric;
  bool desc;
} sort_ctx;

static int row_cmp(const sort_ctx *s, size_t a, size_t b) {
  for (uint32_t k = 0; k < s->n; k++) {
    const csv_cell *ca = csv_table_cell(s->t, a, s->cols[k]);
    const csv_cell *cb = csv_table_cell(s->t, b, s->cols[k]);
    int c;
    if (ca->null || cb->null)
      c = ca->null && cb->null ? 0 : ca->null ? -1 : 1;
    else if (s->numeric[k]) {
      double x = s->num[k * s->t->nrows + a], y = s->num[k * s->t->nrows + b];
      c = (x > y) - (x < y);
    } else {
      c = strcmp(s->t->text + ca->off, s->t->text + cb->off);
      c = (c > 0) - (c < 0);
    }
    if (c)
      return s->desc ? -c : c;
  }
  return 0;
}

/* What is sorted: a row and a 64-bit image of its first key, so most
 * comparisons read two integers next to each other instead of chasing
 * cells. Unequal keys order as row_cmp does; equal ones ask row_cmp. */
typedef struct entry {
  uint64_t key;
  size_t row;
} entry;

static uint64_t key_of(const sort_ctx *s, size_t r) {
  const csv_cell *c = csv_table_cell(s->t, r, s->cols[0]);
  uint64_t k = 0; /* null: first */
  if (c->null) {
  } else if (s->numeric[0]) {
    double d = s->num[r];
    d = d == 0 ? 0.0 : d; /* -0 == 0 */
    memcpy(&k, &d, sizeof k);
    k = k >> 63 ? ~k : k | (1ull << 63); /* IEEE order as unsigned */
  } else { /* the first 8 bytes, big-endian: strcmp's order */
    const unsigned char *p = (const unsigned char *)s->t->text + c->off;
    for (uint32_t i = 0; i < 8; i++)
      k = k << 8 | (i < c->len ? p[i] : 0);
    for (uint32_t i = 0; i < 8 && i < c->len; i++)
      if (!p[i]) { /* strcmp stops at a NUL: so does the key */
        k = i ? k & ~0ull << (8 * (8 - i)) : 0;
        break;
      }
  }
  return s->desc ? ~k : k;
}

static int entry_cmp(const sort_ctx *s, const entry *a, const entry *b) {
  if (a->key != b->key)
    return a->key < b->key ? -1 : 1;
  return row_cmp(s, a->row, b->row);
}

/* Stable merge sort of v[0..n) (tmp: n slots), bottom-up, the runs going
 * back and forth between v and tmp. Polls cancelled between passes; -1 if
 * cancelled. */
static int merge_sort(const sort_ctx *s, entry *v, entry *tmp, size_t n,
                      const volatile int *cancelled) {
  entry *src = v, *dst = tmp;
  for (size_t w = 1; w < n; w *= 2) {
    if (*cancelled)
      return -1;
    for (size_t lo = 0; lo < n; lo += 2 * w) {
      size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      size_t i = lo, j = mid, k = lo;
      while (i < mid && j < hi) /* ties take the left: stable */
        dst[k++] = entry_cmp(s, &src[j], &src[i]) < 0 ? src[j++] : src[i++];
      while (i < mid)
        dst[k++] = src[i++];
      while (j < hi)
        dst[k++] = src[j++];
    }
    entry *x = src;
    src = dst, dst = x;
  }
  if (src != v)
    memcpy(v, src, n * sizeof *v);
  return 0;
}

static int sort_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  int rc = -1;
  uint32_t n;
  uint32_t *cols = cu_cols(ctx, "by", t.names, t.ncols, false, &n, err,
                           errlen);
  size_t *order = malloc((t.nrows + 1) * sizeof *order);
  entry *ents = NULL, *tmp = NULL;
  sort_ctx s = {.t = &t, .cols = cols, .n = n, .desc = cu_bool(ctx, "descending")};
  if (!cols || !order)
    goto out;
  if (n == 0) {
    cu_fail(err, errlen, "by is empty: name the columns to sort on");
    goto out;
  }
  s.numeric = calloc(n, sizeof *s.numeric);
  s.num = malloc((n * t.nrows + 1) * sizeof *s.num);
  if (!s.numeric || !s.num) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  for (uint32_t k = 0; k < n; k++) {
    csv_type ty = t.types[cols[k]];
    s.numeric[k] = ty == CSV_INT || ty == CSV_FLOAT;
    for (size_t i = 0; s.numeric[k] && i < t.nrows; i++) {
      const csv_cell *c = csv_table_cell(&t, i, cols[k]);
      if (!c->null)
        csv_parse_double(t.text + c->off, c->len, &s.num[k * t.nrows + i]);
    }
  }
  ents = malloc((t.nrows + 1) * sizeof *ents);
  tmp = malloc((t.nrows + 1) * sizeof *tmp);
  if (!ents || !tmp) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < t.nrows; i++)
    ents[i] = (entry){key_of(&s, i), i};
  if (merge_sort(&s, ents, tmp, t.nrows, ctx->cancelled) != 0) {
    cu_fail(err, errlen, "cancelled");
    goto out;
  }
  for (size_t i = 0; i < t.nrows; i++)
    order[i] = ents[i].row;
  rc = csv_table_write(&t, order, t.nrows, pipec_ctx_output(ctx, "out"), err,
                       errlen);
out:
  free(s.numeric), free(s.num), free(order), free(ents), free(tmp);
  free(cols);
  csv_table_free(&t);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "a table"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_TABLE, "the rows, sorted"}};
static const pipec_param_desc params[] = {
    {"by", PIPEC_T_LIST, NULL, "columns to sort on, most significant first"},
    {"descending", PIPEC_T_BOOL, "false", "largest first"},
};

const pipec_component_desc stdlib_table_sort = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.sort",
    .version = "1",
    .doc = "Sort rows (stable) by columns: numbers by value, text by bytes, "
           "nulls first.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 2,
    .run = sort_run,
};

/*
 * table_aggregate.c — `table.aggregate(input, group_by, aggregations)`:
 * one row per distinct group (in order of first appearance) with the
 * group columns and one column per aggregation:
 *
 *   "count"        rows in the group                  -> count
 *   "sum:COL"      sum of COL's values                -> sum_COL
 *   "mean:COL"     their mean                         -> mean_COL
 *   "min:COL"      smallest (numbers by value)        -> min_COL
 *   "max:COL"      largest                            -> max_COL
 *   "stddev:COL"   sample standard deviation (n - 1)  -> stddev_COL
 *
 * Nulls are skipped, as SQL does; an aggregate of no values is null.
 * group_by = [] aggregates the whole table into one row.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

typedef enum agg_fn { A_COUNT, A_SUM, A_MEAN, A_MIN, A_MAX, A_STDDEV } agg_fn;

typedef struct agg {
  agg_fn fn;
  uint32_t col;
  char name[256];
} agg;

typedef struct acc {   /* per group, per aggregation */
  double n, sum, mn, mx;
  double mean, m2;     /* Welford's running mean and sum of squared
                          deviations: stable where sumsq - sum^2/n is not */
  size_t mn_row, mx_row;
} acc;

static int parse_aggs(const pipec_run_ctx *ctx, const csv_table *t,
                      agg **out, uint32_t *n, char *err, size_t errlen) {
  uint32_t k;
  const char **specs = cu_names(ctx, "aggregations", &k);
  agg *a = calloc(k + 1, sizeof *a);
  if (!specs || !a) {
    free(specs), free(a);
    return cu_fail(err, errlen, "out of memory");
  }
  static const char *const fns[] = {"count", "sum", "mean", "min", "max",
                                    "stddev"};
  for (uint32_t i = 0; i < k; i++) {
    const char *s = specs[i], *colon = strchr(s, ':');
    size_t fl = colon ? (size_t)(colon - s) : strlen(s);
    int f = -1;
    for (int j = 0; j < 6; j++)
      if (strlen(fns[j]) == fl && strncmp(fns[j], s, fl) == 0)
        f = j;
    if (f < 0 || (f != A_COUNT && !colon)) {
      free(specs), free(a);
      return cu_fail(err, errlen, "aggregation \"%s\": expected count, or "
                                  "sum|mean|min|max|stddev:COLUMN",
                     s);
    }
    a[i].fn = (agg_fn)f;
    if (f == A_COUNT) {
      snprintf(a[i].name, sizeof a[i].name, "count");
      continue;
    }
    int c = cu_col(t->names, t->ncols, colon + 1, "aggregations", err,
                   errlen);
    if (c < 0) {
      free(specs), free(a);
      return -1;
    }
    a[i].col = (uint32_t)c;
    snprintf(a[i].name, sizeof a[i].name, "%.*s_%s", (int)fl, s, colon + 1);
  }
  free(specs);
  *out = a;
  *n = k;
  return 0;
}

static uint64_t group_hash(const csv_table *t, const uint32_t *g, uint32_t ng,
                           size_t r) {
  uint64_t h = 1469598103934665603ull;
  for (uint32_t k = 0; k < ng; k++) {
    const csv_cell *c = csv_table_cell(t, r, g[k]);
    const unsigned char *p = (const unsigned char *)t->text + c->off;
    for (uint32_t i = 0; i < c->len; i++)
      h = (h ^ p[i]) * 1099511628211ull;
    h = (h ^ (c->null ? 0xff : 0xfe)) * 1099511628211ull;
  }
  return h;
}

static bool group_eq(const csv_table *t, const uint32_t *g, uint32_t ng,
                     size_t a, size_t b) {
  for (uint32_t k = 0; k < ng; k++) {
    const csv_cell *x = csv_table_cell(t, a, g[k]),
                   *y = csv_table_cell(t, b, g[k]);
    if (x->null != y->null || x->len != y->len ||
        memcmp(t->text + x->off, t->text + y->off, x->len) != 0)
      return false;
  }
  return true;
}

static int aggregate_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  int rc = -1;
  uint32_t ng, na = 0;
  agg *aggs = NULL;
  size_t *first = NULL, *slots = NULL, ngroups = 0, cap = 16;
  acc *accs = NULL;
  csv_writer *w = NULL;
  uint32_t *g = cu_cols(ctx, "group_by", t.names, t.ncols, false, &ng, err,
                        errlen);
  if (!g || parse_aggs(ctx, &t, &aggs, &na, err, errlen) != 0)
    goto out;
  if (na == 0) {
    cu_fail(err, errlen, "aggregations is empty: e.g. [\"count\", "
                         "\"mean:price\"]");
    goto out;
  }
  while (cap < t.nrows * 2)
    cap *= 2;
  slots = malloc(cap * sizeof *slots);
  first = malloc((t.nrows + 1) * sizeof *first);
  accs = calloc((t.nrows + 1) * na, sizeof *accs);
  if (!slots || !first || !accs) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < cap; i++)
    slots[i] = SIZE_MAX;
  for (size_t r = 0; r < t.nrows; r++) {
    if ((r & 0xffff) == 0xffff && *ctx->cancelled) {
      cu_fail(err, errlen, "cancelled");
      goto out;
    }
    size_t h = (size_t)group_hash(&t, g, ng, r) & (cap - 1);
    while (slots[h] != SIZE_MAX && !group_eq(&t, g, ng, first[slots[h]], r))
      h = (h + 1) & (cap - 1);
    if (slots[h] == SIZE_MAX) {
      slots[h] = ngroups;
      first[ngroups++] = r;
    }
    acc *ac = &accs[slots[h] * na];
    for (uint32_t k = 0; k < na; k++) {
      if (aggs[k].fn == A_COUNT) {
        ac[k].n++;
        continue;
      }
      const csv_cell *c = csv_table_cell(&t, r, aggs[k].col);
      if (c->null)
        continue;
      double v = 0;
      bool num = csv_parse_double(t.text + c->off, c->len, &v);
      bool numeric_col = t.types[aggs[k].col] == CSV_INT ||
                         t.types[aggs[k].col] == CSV_FLOAT;
      if (aggs[k].fn == A_MIN || aggs[k].fn == A_MAX) {
        if (ac[k].n == 0) {
          ac[k].mn_row = ac[k].mx_row = r;
          ac[k].mn = ac[k].mx = v;
        } else if (numeric_col) {
          if (v < ac[k].mn)
            ac[k].mn = v, ac[k].mn_row = r;
          if (v > ac[k].mx)
            ac[k].mx = v, ac[k].mx_row = r;
        } else {
          const char *s = t.text + c->off;
          if (strcmp(s, csv_table_str(&t, ac[k].mn_row, aggs[k].col)) < 0)
            ac[k].mn_row = r;
          if (strcmp(s, csv_table_str(&t, ac[k].mx_row, aggs[k].col)) > 0)
            ac[k].mx_row = r;
        }
        ac[k].n++;
        continue;
      }
      if (!num) {
        cu_fail(err, errlen, "row %zu: %s needs numbers, but '%s' is '%s'",
                r + 1, aggs[k].name, t.names[aggs[k].col], t.text + c->off);
        goto out;
      }
      ac[k].n++;
      ac[k].sum += v;
      double d = v - ac[k].mean;
      ac[k].mean += d / ac[k].n;
      ac[k].m2 += d * (v - ac[k].mean);
    }
  }
  if (ng == 0 && ngroups == 0)
    ngroups = 1; /* like SQL: the whole (empty) table is one group */
  if (csv_wopen(pipec_ctx_output(ctx, "out"), &w, err, errlen) != 0)
    goto out;
  for (uint32_t k = 0; k < ng; k++)
    csv_put(w, t.names[g[k]], strlen(t.names[g[k]]), false);
  for (uint32_t k = 0; k < na; k++)
    csv_put(w, aggs[k].name, strlen(aggs[k].name), k + 1 == na);
  for (size_t gi = 0; gi < ngroups; gi++) {
    for (uint32_t k = 0; k < ng; k++) {
      const csv_cell *c = csv_table_cell(&t, first[gi], g[k]);
      if (c->null)
        csv_put_null(w, false);
      else
        csv_put(w, t.text + c->off, c->len, false);
    }
    const acc *ac = &accs[gi * na];
    for (uint32_t k = 0; k < na; k++) {
      bool last = k + 1 == na;
      double n = ac[k].n;
      switch (aggs[k].fn) {
      case A_COUNT:
        csv_put_int(w, (int64_t)n, last);
        break;
      case A_SUM:
        if (n)
          csv_put_double(w, ac[k].sum, last);
        else
          csv_put_null(w, last);
        break;
      case A_MEAN:
        if (n)
          csv_put_double(w, ac[k].sum / n, last);
        else
          csv_put_null(w, last);
        break;
      case A_STDDEV:
        if (n > 1) {
          csv_put_double(w, sqrt(ac[k].m2 / (n - 1)), last);
        } else {
          csv_put_null(w, last);
        }
        break;
      case A_MIN:
      case A_MAX:
        if (!n) {
          csv_put_null(w, last);
        } else {
          const char *s = csv_table_str(
              &t, aggs[k].fn == A_MIN ? ac[k].mn_row : ac[k].mx_row,
              aggs[k].col);
          csv_put(w, s, strlen(s), last);
        }
      }
    }
  }
  rc = 0;
out:
  if (w) {
    char werr[256];
    if (csv_wclose(w, werr, sizeof werr) != 0 && rc == 0)
      rc = cu_fail(err, errlen, "%s", werr);
  }
  free(g), free(aggs), free(first), free(slots), free(accs);
  csv_table_free(&t);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "a table"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_TABLE, "one row per group"}};
static const pipec_param_desc params[] = {
    {"group_by", PIPEC_T_LIST, "[]", "group columns; [] = the whole table"},
    {"aggregations", PIPEC_T_LIST, NULL,
     "e.g. [\"count\", \"sum:qty\", \"mean:price\", \"stddev:price\"]"},
};

const pipec_component_desc stdlib_table_aggregate = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.aggregate",
    .version = "2",
    .doc = "Group rows and aggregate: count, sum, mean, min, max, stddev "
           "(nulls skipped, as in SQL).",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 2,
    .run = aggregate_run,
};

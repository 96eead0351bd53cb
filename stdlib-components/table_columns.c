/*
 * table_columns.c — components that rewrite columns in place:
 *
 *   table.fill_missing(input, columns, strategy, value)
 *       replace nulls: "mean" or "median" of the column's values (numeric
 *       columns), or a given "value"; columns = [] means every column
 *       that has a null
 *   table.normalize(input, columns, method)
 *       "zscore": (x - mean) / std with the population std (n), as
 *       scikit-learn's StandardScaler; "minmax": (x - min) / (max - min);
 *       a constant column becomes 0; nulls stay null
 *   table.one_hot(input, columns)
 *       replace each column by one 0/1 column per distinct value, named
 *       COLUMN=VALUE, in sorted value order; a null is 0 everywhere
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

static int dbl_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int str_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The numbers of column c (nulls skipped); NULL after an error. */
static double *column_numbers(const csv_table *t, uint32_t c, size_t *n,
                              char *err, size_t errlen) {
  double *v = malloc((t->nrows + 1) * sizeof *v);
  *n = 0;
  for (size_t r = 0; v && r < t->nrows; r++) {
    const csv_cell *cell = csv_table_cell(t, r, c);
    if (cell->null)
      continue;
    if (!csv_parse_double(t->text + cell->off, cell->len, &v[*n])) {
      cu_fail(err, errlen, "row %zu: column '%s' is not a number ('%s')",
              r + 1, t->names[c], t->text + cell->off);
      free(v);
      return NULL;
    }
    (*n)++;
  }
  return v;
}

/* Write t with column values replaced: repl[c] non-NULL gives per-row
 * text (NULL entries: keep the cell). */
static int write_replaced(const csv_table *t, char ***repl, const char *path,
                          char *err, size_t errlen) {
  csv_writer *w;
  if (csv_wopen(path, &w, err, errlen) != 0)
    return -1;
  for (uint32_t c = 0; c < t->ncols; c++)
    csv_put(w, t->names[c], strlen(t->names[c]), c + 1 == t->ncols);
  for (size_t r = 0; r < t->nrows; r++)
    for (uint32_t c = 0; c < t->ncols; c++) {
      bool last = c + 1 == t->ncols;
      const char *s = repl[c] ? repl[c][r] : NULL;
      const csv_cell *cell = csv_table_cell(t, r, c);
      if (s)
        csv_put(w, s, strlen(s), last);
      else if (cell->null || (repl[c] && !s))
        csv_put_null(w, last);
      else
        csv_put(w, t->text + cell->off, cell->len, last);
    }
  return csv_wclose(w, err, errlen);
}

static void free_repl(char ***repl, const csv_table *t) {
  for (uint32_t c = 0; repl && c < t->ncols; c++) {
    for (size_t r = 0; repl[c] && r < t->nrows; r++)
      free(repl[c][r]);
    free(repl[c]);
  }
  free(repl);
}

static char *num_text(double v) {
  char buf[40];
  csv_format_double(v, buf, sizeof buf);
  return strdup(buf);
}

static int fill_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  const char *strategy = cu_str(ctx, "strategy");
  bool by_value = strcmp(strategy, "value") == 0;
  bool median = strcmp(strategy, "median") == 0;
  if (!by_value && !median && strcmp(strategy, "mean") != 0)
    return cu_fail(err, errlen, "strategy must be \"mean\", \"median\" or "
                                "\"value\", not \"%s\"",
                   strategy);
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  int rc = -1;
  uint32_t n;
  uint32_t *cols = cu_cols(ctx, "columns", t.names, t.ncols, true, &n, err,
                           errlen);
  char ***repl = calloc(t.ncols + 1, sizeof *repl);
  if (!cols || !repl)
    goto out;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t c = cols[k];
    bool has_null = false;
    for (size_t r = 0; r < t.nrows && !has_null; r++)
      has_null = csv_table_cell(&t, r, c)->null;
    if (!has_null)
      continue;
    char *fill;
    if (by_value) {
      fill = strdup(cu_str(ctx, "value"));
    } else {
      size_t m;
      double *v = column_numbers(&t, c, &m, err, errlen);
      if (!v)
        goto out;
      if (m == 0) {
        free(v);
        cu_fail(err, errlen, "column '%s' has no values to take the %s of",
                t.names[c], strategy);
        goto out;
      }
      double x = 0;
      if (median) {
        qsort(v, m, sizeof *v, dbl_cmp);
        x = m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
      } else {
        for (size_t i = 0; i < m; i++)
          x += v[i];
        x /= (double)m;
      }
      free(v);
      fill = num_text(x);
    }
    repl[c] = calloc(t.nrows + 1, sizeof *repl[c]);
    for (size_t r = 0; repl[c] && r < t.nrows; r++) {
      const csv_cell *cell = csv_table_cell(&t, r, c);
      repl[c][r] = strdup(cell->null ? fill : t.text + cell->off);
    }
    free(fill);
  }
  rc = write_replaced(&t, repl, pipec_ctx_output(ctx, "out"), err, errlen);
out:
  free_repl(repl, &t);
  free(cols);
  csv_table_free(&t);
  return rc;
}

static int normalize_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  const char *method = cu_str(ctx, "method");
  bool minmax = strcmp(method, "minmax") == 0;
  if (!minmax && strcmp(method, "zscore") != 0)
    return cu_fail(err, errlen, "method must be \"zscore\" or \"minmax\", "
                                "not \"%s\"",
                   method);
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  int rc = -1;
  uint32_t n;
  uint32_t *cols = cu_cols(ctx, "columns", t.names, t.ncols, false, &n, err,
                           errlen);
  char ***repl = calloc(t.ncols + 1, sizeof *repl);
  if (!cols || !repl)
    goto out;
  if (n == 0) {
    cu_fail(err, errlen, "columns is empty: name the columns to normalize");
    goto out;
  }
  for (uint32_t k = 0; k < n; k++) {
    uint32_t c = cols[k];
    size_t m;
    double *v = column_numbers(&t, c, &m, err, errlen);
    if (!v)
      goto out;
    double a = 0, b = 0; /* x' = (x - a) / b */
    if (minmax) {
      double mn = INFINITY, mx = -INFINITY;
      for (size_t i = 0; i < m; i++)
        mn = fmin(mn, v[i]), mx = fmax(mx, v[i]);
      a = mn, b = mx - mn;
    } else {
      for (size_t i = 0; i < m; i++)
        a += v[i];
      a = m ? a / (double)m : 0;
      for (size_t i = 0; i < m; i++)
        b += (v[i] - a) * (v[i] - a);
      b = m ? sqrt(b / (double)m) : 0;
    }
    free(v);
    repl[c] = calloc(t.nrows + 1, sizeof *repl[c]);
    for (size_t r = 0; repl[c] && r < t.nrows; r++) {
      const csv_cell *cell = csv_table_cell(&t, r, c);
      double x;
      if (cell->null || !csv_parse_double(t.text + cell->off, cell->len, &x))
        continue;
      repl[c][r] = num_text(b > 0 ? (x - a) / b : 0.0);
    }
  }
  rc = write_replaced(&t, repl, pipec_ctx_output(ctx, "out"), err, errlen);
out:
  free_repl(repl, &t);
  free(cols);
  csv_table_free(&t);
  return rc;
}

static int one_hot_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  int rc = -1;
  uint32_t n;
  uint32_t *cols = cu_cols(ctx, "columns", t.names, t.ncols, false, &n, err,
                           errlen);
  const char ***levels = calloc(t.ncols + 1, sizeof *levels);
  size_t *nlev = calloc(t.ncols + 1, sizeof *nlev);
  csv_writer *w = NULL;
  if (!cols || !levels || !nlev)
    goto out;
  for (uint32_t k = 0; k < n; k++) {
    uint32_t c = cols[k];
    const char **v = malloc((t.nrows + 1) * sizeof *v);
    size_t m = 0;
    for (size_t r = 0; v && r < t.nrows; r++)
      if (!csv_table_cell(&t, r, c)->null)
        v[m++] = csv_table_str(&t, r, c);
    qsort(v, m, sizeof *v, str_cmp);
    size_t d = 0;
    for (size_t i = 0; i < m; i++)
      if (d == 0 || strcmp(v[i], v[d - 1]) != 0)
        v[d++] = v[i];
    levels[c] = v;
    nlev[c] = d;
  }
  if (csv_wopen(pipec_ctx_output(ctx, "out"), &w, err, errlen) != 0)
    goto out;
  /* the header, then every row; a row ends after its last written cell */
  size_t total = 0;
  for (uint32_t c = 0; c < t.ncols; c++)
    total += levels[c] ? nlev[c] : 1;
  size_t at = 0;
  for (uint32_t c = 0; c < t.ncols; c++) {
    if (!levels[c]) {
      csv_put(w, t.names[c], strlen(t.names[c]), ++at == total);
      continue;
    }
    for (size_t l = 0; l < nlev[c]; l++) {
      char name[1024];
      snprintf(name, sizeof name, "%s=%s", t.names[c], levels[c][l]);
      csv_put(w, name, strlen(name), ++at == total);
    }
  }
  for (size_t r = 0; r < t.nrows; r++) {
    at = 0;
    for (uint32_t c = 0; c < t.ncols; c++) {
      const csv_cell *cell = csv_table_cell(&t, r, c);
      if (!levels[c]) {
        if (cell->null)
          csv_put_null(w, ++at == total);
        else
          csv_put(w, t.text + cell->off, cell->len, ++at == total);
        continue;
      }
      for (size_t l = 0; l < nlev[c]; l++) {
        bool on = !cell->null && strcmp(t.text + cell->off, levels[c][l]) == 0;
        csv_put(w, on ? "1" : "0", 1, ++at == total);
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
  for (uint32_t c = 0; levels && c < t.ncols; c++)
    free(levels[c]);
  free(levels), free(nlev), free(cols);
  csv_table_free(&t);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "a table"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_TABLE, "the table with the columns rewritten"}};

static const pipec_param_desc fill_params[] = {
    {"columns", PIPEC_T_LIST, "[]", "columns to fill; [] = every column with a null"},
    {"strategy", PIPEC_T_STRING, "\"mean\"", "\"mean\", \"median\" or \"value\""},
    {"value", PIPEC_T_STRING, "\"\"", "the fill value for strategy = \"value\""},
};

const pipec_component_desc stdlib_table_fill_missing = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.fill_missing",
    .version = "1",
    .doc = "Replace nulls by the column's mean or median, or by a value.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = fill_params, .n_params = 3,
    .run = fill_run,
};

static const pipec_param_desc normalize_params[] = {
    {"columns", PIPEC_T_LIST, NULL, "numeric columns to rescale"},
    {"method", PIPEC_T_STRING, "\"zscore\"", "\"zscore\" or \"minmax\""},
};

const pipec_component_desc stdlib_table_normalize = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.normalize",
    .version = "1",
    .doc = "Rescale numeric columns: z-score (population std, as "
           "StandardScaler) or min-max to [0, 1].",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = normalize_params, .n_params = 2,
    .run = normalize_run,
};

static const pipec_param_desc one_hot_params[] = {
    {"columns", PIPEC_T_LIST, NULL, "columns to encode"},
};

const pipec_component_desc stdlib_table_one_hot = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.one_hot",
    .version = "1",
    .doc = "Replace each column by 0/1 columns COLUMN=VALUE, one per "
           "distinct value (sorted).",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = one_hot_params, .n_params = 1,
    .run = one_hot_run,
};

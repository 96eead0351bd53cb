/*
 * table_fill_missing.c — `table.fill_missing(input, columns, strategy,
 * value)`: replace nulls by the "mean" or "median" of the column's values
 * (numeric columns), or by a given "value". columns = [] means every
 * column that has a null (every numeric one for mean and median); a column
 * without nulls is left as it is.
 */
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

static int dbl_cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int fill_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  const char *strategy = cu_str(ctx, "strategy");
  bool by_value = strcmp(strategy, "value") == 0;
  bool median = strcmp(strategy, "median") == 0;
  if (!by_value && !median && strcmp(strategy, "mean") != 0)
    return cu_fail(err, errlen, "strategy must be \"mean\", \"median\" or "
                                "\"value\", not \"%s\"",
                   strategy);
  if (by_value && !*cu_str(ctx, "value"))
    return cu_fail(err, errlen, "strategy \"value\" needs the fill value: "
                                "value = \"...\"");
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
  uint32_t named;
  free(cu_names(ctx, "columns", &named));
  for (uint32_t k = 0; k < n; k++) {
    uint32_t c = cols[k];
    if (named == 0 && !by_value && t.types[c] != CSV_INT &&
        t.types[c] != CSV_FLOAT)
      continue; /* columns = []: the mean of text makes no sense, skip it */
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
      double *v = cu_column_numbers(&t, c, &m, err, errlen);
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
      fill = cu_num_text(x);
    }
    repl[c] = calloc(t.nrows + 1, sizeof *repl[c]);
    for (size_t r = 0; repl[c] && r < t.nrows; r++) {
      const csv_cell *cell = csv_table_cell(&t, r, c);
      repl[c][r] = strdup(cell->null ? fill : t.text + cell->off);
    }
    free(fill);
  }
  rc = cu_write_replaced(&t, repl, pipec_ctx_output(ctx, "out"), err, errlen);
out:
  cu_free_replaced(repl, &t);
  free(cols);
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
    .version = "2",
    .doc = "Replace nulls by the column's mean or median, or by a value.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = fill_params, .n_params = 3,
    .run = fill_run,
};

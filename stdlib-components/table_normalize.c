/*
 * table_normalize.c — `table.normalize(input, columns, method)`: rescale
 * numeric columns. "zscore": (x - mean) / std with the population std (n),
 * as scikit-learn's StandardScaler; "minmax": (x - min) / (max - min). A
 * constant column becomes 0; nulls stay null.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

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
    double *v = cu_column_numbers(&t, c, &m, err, errlen);
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
      repl[c][r] = cu_num_text(b > 0 ? (x - a) / b : 0.0);
    }
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

static const pipec_param_desc normalize_params[] = {
    {"columns", PIPEC_T_LIST, NULL, "numeric columns to rescale"},
    {"method", PIPEC_T_STRING, "\"zscore\"", "\"zscore\" or \"minmax\""},
};

const pipec_component_desc stdlib_table_normalize = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.normalize",
    .version = "2",
    .doc = "Rescale numeric columns: z-score (population std, as "
           "StandardScaler) or min-max to [0, 1].",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = normalize_params, .n_params = 2,
    .run = normalize_run,
};


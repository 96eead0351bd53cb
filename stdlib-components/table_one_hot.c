/*
 * table_one_hot.c — `table.one_hot(input, columns)`: replace each column
 * by one 0/1 column per distinct value, named COLUMN=VALUE, in sorted
 * value order, where the column stood; a null is 0 everywhere.
 */
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

static int str_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
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
  if (n == 0) {
    cu_fail(err, errlen, "columns is empty: name the columns to encode");
    goto out;
  }
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

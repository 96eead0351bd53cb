/*
 * table_select.c — `table.select(input, columns)`: keep these columns, in
 * this order. Streams: memory does not grow with the table.
 */
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

static int select_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  csv_reader *r;
  if (csv_open(pipec_ctx_input(ctx, "input"), &r, err, errlen) != 0)
    return -1;
  uint32_t ncols = csv_ncols(r), n;
  char **names = malloc((ncols + 1) * sizeof *names);
  for (uint32_t i = 0; names && i < ncols; i++)
    names[i] = (char *)csv_colname(r, i);
  uint32_t *cols = names ? cu_cols(ctx, "columns", names, ncols, false, &n,
                                   err, errlen)
                         : NULL;
  free(names);
  csv_writer *w = NULL;
  int rc = -1;
  if (!cols)
    goto out;
  if (n == 0) {
    cu_fail(err, errlen, "columns is empty: name at least one column");
    goto out;
  }
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < i; j++)
      if (cols[i] == cols[j]) {
        cu_fail(err, errlen, "column '%s' is listed twice in columns",
                csv_colname(r, cols[i]));
        goto out;
      }
  if (csv_wopen(pipec_ctx_output(ctx, "out"), &w, err, errlen) != 0)
    goto out;
  for (uint32_t i = 0; i < n; i++) {
    const char *name = csv_colname(r, cols[i]);
    csv_put(w, name, strlen(name), i + 1 == n);
  }
  const csv_field *f;
  uint64_t rows = 0;
  while ((rc = csv_next(r, &f, err, errlen)) == 1) {
    if ((++rows & 0xffff) == 0 && *ctx->cancelled) {
      rc = cu_fail(err, errlen, "cancelled");
      break;
    }
    for (uint32_t i = 0; i < n; i++) {
      const csv_field *x = &f[cols[i]];
      if (x->null)
        csv_put_null(w, i + 1 == n);
      else
        csv_put(w, x->p, x->len, i + 1 == n);
    }
  }
out:
  if (w) {
    char werr[256];
    if (csv_wclose(w, werr, sizeof werr) != 0 && rc == 0)
      rc = cu_fail(err, errlen, "%s", werr);
  }
  free(cols);
  csv_close(r);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "a table"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_TABLE, "the chosen columns"}};
static const pipec_param_desc params[] = {
    {"columns", PIPEC_T_LIST, NULL, "column names, in the order wanted"},
};

const pipec_component_desc stdlib_table_select = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.select",
    .version = "1",
    .doc = "Keep the given columns, in the given order (streams).",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 1,
    .run = select_run,
};

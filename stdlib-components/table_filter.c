/*
 * table_filter.c — `table.filter(input, where)`: keep the rows where the
 * expression is true (expr.h). Streams, and copies a kept row's bytes as
 * they are (quoting kept, CRLF becomes LF). The expression is checked when
 * the pipeline compiles, so a typo is a `pipec check` error pointing
 * inside the string; unknown columns are found when the table is opened.
 */
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "expr.h"
#include "stdlib_components.h"

static int filter_check(const char *param, const pipec_value *v, char *err,
                        size_t errlen, long *offset) {
  if (strcmp(param, "where") != 0 || v->type != PIPEC_T_STRING)
    return 0;
  expr *e = expr_parse(v->u.s, err, errlen, offset);
  expr_free(e);
  return e ? 0 : -1;
}

static int filter_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  long off;
  char perr[256];
  expr *e = expr_parse(cu_str(ctx, "where"), perr, sizeof perr, &off);
  if (!e)
    return cu_fail(err, errlen, "where, at %ld: %s", off, perr);
  csv_reader *r = NULL;
  csv_writer *w = NULL;
  int rc = -1;
  if (csv_open(pipec_ctx_input(ctx, "input"), &r, err, errlen) != 0)
    goto out;
  uint32_t ncols = csv_ncols(r);
  char **names = malloc((ncols + 1) * sizeof *names);
  for (uint32_t i = 0; names && i < ncols; i++)
    names[i] = (char *)csv_colname(r, i);
  int bound = names ? expr_bind(e, names, ncols, err, errlen) : -1;
  free(names);
  if (bound != 0 ||
      csv_wopen(pipec_ctx_output(ctx, "out"), &w, err, errlen) != 0)
    goto out;
  for (uint32_t i = 0; i < ncols; i++) {
    const char *name = csv_colname(r, i);
    csv_put(w, name, strlen(name), i + 1 == ncols);
  }
  const csv_field *f;
  uint64_t rows = 0, kept = 0;
  while ((rc = csv_next(r, &f, err, errlen)) == 1) {
    if ((++rows & 0xffff) == 0 && *ctx->cancelled) {
      rc = cu_fail(err, errlen, "cancelled");
      break;
    }
    if (!expr_true(e, f))
      continue;
    kept++;
    const char *raw; /* a kept row goes out as it came in */
    size_t len;
    csv_raw(r, &raw, &len);
    csv_put_raw(w, raw, len);
    csv_put_raw(w, "\n", 1);
  }
  if (rc == 0)
    ctx->log(ctx, "kept %llu of %llu rows", (unsigned long long)kept,
             (unsigned long long)rows);
out:
  if (w) {
    char werr[256];
    if (csv_wclose(w, werr, sizeof werr) != 0 && rc == 0)
      rc = cu_fail(err, errlen, "%s", werr);
  }
  csv_close(r);
  expr_free(e);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "a table"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_TABLE, "the rows where `where` is true"}};
static const pipec_param_desc params[] = {
    {"where", PIPEC_T_STRING, NULL,
     "expression, e.g. age > 30 and country == \"DE\" (see docs/components.md)"},
};

const pipec_component_desc stdlib_table_filter = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.filter",
    .version = "2",
    .doc = "Keep the rows where an expression is true: comparisons, "
           "arithmetic, and/or/not, is null (streams).",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 1,
    .check = filter_check,
    .run = filter_run,
};

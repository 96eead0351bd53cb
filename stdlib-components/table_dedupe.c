/*
 * table_dedupe.c — `table.dedupe(input, columns)`: keep the first row of
 * each distinct combination of the columns ([] = every column), in order.
 */
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

/* Rows as keys: a hash set of row indices, comparing the key columns. */
typedef struct dd {
  const csv_table *t;
  const uint32_t *cols;
  uint32_t n;
} dd;

static uint64_t row_hash(const dd *d, size_t r) {
  uint64_t h = 1469598103934665603ull;
  for (uint32_t k = 0; k < d->n; k++) {
    const csv_cell *c = csv_table_cell(d->t, r, d->cols[k]);
    const unsigned char *s = (const unsigned char *)d->t->text + c->off;
    for (uint32_t i = 0; i < c->len; i++)
      h = (h ^ s[i]) * 1099511628211ull;
    h = (h ^ (c->null ? 0xff : 0xfe)) * 1099511628211ull;
  }
  return h;
}

static bool row_eq(const dd *d, size_t a, size_t b) {
  for (uint32_t k = 0; k < d->n; k++) {
    const csv_cell *x = csv_table_cell(d->t, a, d->cols[k]);
    const csv_cell *y = csv_table_cell(d->t, b, d->cols[k]);
    if (x->null != y->null || x->len != y->len ||
        memcmp(d->t->text + x->off, d->t->text + y->off, x->len) != 0)
      return false;
  }
  return true;
}

static int dedupe_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  uint32_t n;
  uint32_t *cols = cu_cols(ctx, "columns", t.names, t.ncols, true, &n, err,
                           errlen);
  size_t cap = 16;
  while (cap < t.nrows * 2)
    cap *= 2;
  size_t *slots = malloc(cap * sizeof *slots), *keep = malloc((t.nrows + 1) *
                                                              sizeof *keep);
  int rc = -1;
  if (cols && slots && keep) {
    dd d = {&t, cols, n};
    for (size_t i = 0; i < cap; i++)
      slots[i] = SIZE_MAX;
    size_t m = 0;
    for (size_t r = 0; r < t.nrows; r++) {
      size_t i = (size_t)row_hash(&d, r) & (cap - 1);
      while (slots[i] != SIZE_MAX && !row_eq(&d, slots[i], r))
        i = (i + 1) & (cap - 1);
      if (slots[i] == SIZE_MAX) {
        slots[i] = r;
        keep[m++] = r;
      }
    }
    rc = csv_table_write(&t, keep, m, pipec_ctx_output(ctx, "out"), err,
                         errlen);
  } else if (cols) {
    cu_fail(err, errlen, "out of memory");
  }
  free(cols), free(slots), free(keep);
  csv_table_free(&t);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "a table"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_TABLE, "first row of each distinct key"}};
static const pipec_param_desc params[] = {
    {"columns", PIPEC_T_LIST, "[]", "the key columns; [] means every column"},
};

const pipec_component_desc stdlib_table_dedupe = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.dedupe",
    .version = "1",
    .doc = "Drop repeated rows: keep the first row of each distinct value of "
           "the key columns.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 1,
    .run = dedupe_run,
};

/*
 * table_split.c — `table.split(input, ratio, seed)` -> train, test: a
 * seeded random split. round(ratio * rows) rows go to train; each part
 * keeps the rows in their original order.
 */
#include <math.h>
#include <stdlib.h>

#include "comp_util.h"
#include "rng.h"
#include "stdlib_components.h"

static int split_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  double ratio = cu_float(ctx, "ratio");
  if (!(ratio >= 0 && ratio <= 1))
    return cu_fail(err, errlen, "ratio must be between 0 and 1, not %g",
                   ratio);
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  size_t n = t.nrows, k = (size_t)llround(ratio * (double)n);
  size_t *order = malloc((n + 1) * sizeof *order);
  bool *train = calloc(n + 1, sizeof *train);
  size_t *tr = malloc((n + 1) * sizeof *tr), *te = malloc((n + 1) * sizeof *te);
  int rc = -1;
  if (!order || !train || !tr || !te) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    order[i] = i;
  rng r = {(uint64_t)cu_int(ctx, "seed")};
  rng_shuffle(&r, order, n);
  for (size_t i = 0; i < k; i++)
    train[order[i]] = true;
  size_t ntr = 0, nte = 0;
  for (size_t i = 0; i < n; i++)
    if (train[i])
      tr[ntr++] = i;
    else
      te[nte++] = i;
  if (csv_table_write(&t, tr, ntr, pipec_ctx_output(ctx, "train"), err,
                      errlen) == 0 &&
      csv_table_write(&t, te, nte, pipec_ctx_output(ctx, "test"), err,
                      errlen) == 0)
    rc = 0;
  ctx->log(ctx, "split %zu rows: %zu train, %zu test", n, ntr, nte);
out:
  free(order);
  free(train);
  free(tr);
  free(te);
  csv_table_free(&t);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "rows to split"}};
static const pipec_port_desc outputs[] = {
    {"train", PIPEC_PORT_TABLE, "round(ratio * rows) rows"},
    {"test", PIPEC_PORT_TABLE, "the other rows"},
};
static const pipec_param_desc params[] = {
    {"ratio", PIPEC_T_FLOAT, "0.8", "share of rows that go to train"},
    {"seed", PIPEC_T_INT, "0", "random seed: same seed, same split"},
};

const pipec_component_desc stdlib_table_split = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.split",
    .version = "1",
    .doc = "Split rows at random into train and test: a Fisher-Yates shuffle "
           "driven by splitmix64 from seed, the same on every machine; each "
           "part keeps the original row order.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 2,
    .params = params, .n_params = 2,
    .run = split_run,
};

/*
 * table_sample.c — `table.sample(input, n | fraction, seed)`: a seeded
 * random sample without replacement, rows kept in their original order.
 */
#include <math.h>
#include <stdlib.h>

#include "comp_util.h"
#include "rng.h"
#include "stdlib_components.h"

static int sample_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  int64_t want = cu_int(ctx, "n");
  double frac = cu_float(ctx, "fraction");
  if ((want > 0) == (frac > 0))
    return cu_fail(err, errlen, "give exactly one of n (> 0) or fraction "
                                "(between 0 and 1)");
  if (frac > 1 || want < 0)
    return cu_fail(err, errlen, "fraction must be at most 1 and n positive");
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  size_t n = t.nrows;
  size_t k = want > 0 ? (size_t)want : (size_t)llround(frac * (double)n);
  if (k > n)
    k = n;
  size_t *order = malloc((n + 1) * sizeof *order);
  bool *keep = calloc(n + 1, sizeof *keep);
  int rc = -1;
  if (order && keep) {
    for (size_t i = 0; i < n; i++)
      order[i] = i;
    rng r = {(uint64_t)cu_int(ctx, "seed")};
    rng_shuffle(&r, order, n);
    for (size_t i = 0; i < k; i++)
      keep[order[i]] = true;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (keep[i])
        order[m++] = i;
    rc = csv_table_write(&t, order, m, pipec_ctx_output(ctx, "out"), err,
                         errlen);
  } else {
    cu_fail(err, errlen, "out of memory");
  }
  free(order), free(keep);
  csv_table_free(&t);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "a table"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_TABLE, "the sampled rows"}};
static const pipec_param_desc params[] = {
    {"n", PIPEC_T_INT, "0", "number of rows (or give fraction)"},
    {"fraction", PIPEC_T_FLOAT, "0.0", "share of rows (or give n)"},
    {"seed", PIPEC_T_INT, "0", "random seed"},
};

const pipec_component_desc stdlib_table_sample = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.sample",
    .version = "1",
    .doc = "A random sample without replacement of n rows or a fraction of "
           "them (Fisher-Yates, splitmix64 from seed), in the original order.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 3,
    .run = sample_run,
};

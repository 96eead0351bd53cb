/*
 * ml_linear_regression.c — `ml.linear_regression(train, label, features)`
 * -> model: ordinary least squares with an intercept.
 *
 * Solved on centred columns (which removes the intercept from the system
 * and keeps it well conditioned) by a Cholesky factorisation of X'X; the
 * intercept is mean(y) - w.mean(x). This is scikit-learn's
 * LinearRegression for full-rank data.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "ml_common.h"
#include "stdlib_components.h"

static int linreg_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "train"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  int rc = -1;
  ml_model m = {.kind = ML_LINEAR};
  double *X = NULL, *y = NULL, *A = NULL, *b = NULL, *mean = NULL;
  uint32_t *cols = NULL, one;
  const char *label = cu_str(ctx, "label");
  int lc = cu_col(t.names, t.ncols, label, "label", err, errlen);
  if (lc < 0)
    goto out;
  one = (uint32_t)lc;
  if (!(cols = ml_feature_cols(ctx, &t, lc, &m.p, err, errlen)) ||
      !(X = ml_matrix(&t, cols, m.p, err, errlen)) ||
      !(y = ml_matrix(&t, &one, 1, err, errlen)))
    goto out;
  size_t n = t.nrows;
  uint32_t p = m.p;
  if (n <= p) {
    cu_fail(err, errlen, "%zu rows cannot fit %u features and an intercept",
            n, p);
    goto out;
  }
  mean = calloc(p + 1, sizeof *mean);
  A = calloc((size_t)p * p + 1, sizeof *A);
  b = calloc(p + 1, sizeof *b);
  if (!mean || !A || !b) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  double ymean = 0;
  for (size_t i = 0; i < n; i++) {
    ymean += y[i];
    for (uint32_t j = 0; j < p; j++)
      mean[j] += X[i * p + j];
  }
  ymean /= (double)n;
  for (uint32_t j = 0; j < p; j++)
    mean[j] /= (double)n;
  for (size_t i = 0; i < n; i++) {
    double *x = X + i * p, r = y[i] - ymean;
    for (uint32_t j = 0; j < p; j++)
      x[j] -= mean[j];
    for (uint32_t j = 0; j < p; j++) {
      b[j] += x[j] * r;
      for (uint32_t k = 0; k <= j; k++)
        A[(size_t)j * p + k] += x[j] * x[k];
    }
  }
  if (ml_cholesky_solve(A, b, p) != 0) {
    cu_fail(err, errlen, "the features are linearly dependent (a column is "
                         "constant or a combination of others)");
    goto out;
  }
  m.label = strdup(label);
  m.coef = b;
  b = NULL;
  m.intercept = ymean;
  m.features = calloc(p + 1, sizeof *m.features);
  for (uint32_t j = 0; j < p; j++) {
    m.intercept -= m.coef[j] * mean[j];
    m.features[j] = strdup(t.names[cols[j]]);
  }
  ctx->log(ctx, "linear regression: %zu rows, %u features", n, p);
  rc = ml_model_write(&m, pipec_ctx_output(ctx, "model"), err, errlen);
out:
  ml_model_free(&m);
  free(X), free(y), free(A), free(b), free(mean), free(cols);
  csv_table_free(&t);
  return rc;
}

static const pipec_port_desc inputs[] = {{"train", PIPEC_PORT_TABLE, "training rows"}};
static const pipec_port_desc outputs[] = {{"model", PIPEC_PORT_MODEL, "the fitted model"}};
static const pipec_param_desc params[] = {
    {"label", PIPEC_T_STRING, NULL, "the numeric column to predict"},
    {"features", PIPEC_T_LIST, "[]",
     "feature columns; [] means every numeric column but the label"},
};

const pipec_component_desc stdlib_ml_linear_regression = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "ml.linear_regression",
    .version = "1",
    .doc = "Ordinary least squares with an intercept (scikit-learn's "
           "LinearRegression).",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 2,
    .run = linreg_run,
};

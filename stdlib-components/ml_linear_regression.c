/*
 * ml_linear_regression.c — `ml.linear_regression(train, label, features)`
 * -> model: ordinary least squares with an intercept.
 *
 * The columns are centred (which takes the intercept out of the system and
 * improves its conditioning), then min |Xc w - yc| is solved by Householder
 * QR (ml_lstsq), never by forming X'X; the intercept is mean(y) - w.mean(x).
 * For full-rank data this is scikit-learn's LinearRegression to rounding.
 * Linearly dependent features (a constant column, a duplicate, a sum of
 * others) fail the node, naming the column, rather than giving
 * scikit-learn's minimum-norm answer.
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
  double *X = NULL, *y = NULL, *A = NULL, *mean = NULL;
  uint32_t *cols = NULL, one, bad = 0;
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
    cu_fail(err, errlen, "%zu rows cannot fit %u feature%s and an intercept "
                         "(at least %u rows are needed)",
            n, p, p == 1 ? "" : "s", p + 1);
    goto out;
  }
  mean = calloc(p + 1, sizeof *mean);
  A = malloc((n * p + 1) * sizeof *A); /* centred X, column-major */
  if (!mean || !A) {
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
    y[i] -= ymean;
    for (uint32_t j = 0; j < p; j++)
      A[(size_t)j * n + i] = X[i * p + j] - mean[j];
  }
  int solved = ml_lstsq(A, y, n, p, &bad, ctx->cancelled);
  if (solved == -2) {
    cu_fail(err, errlen, "cancelled");
    goto out;
  }
  if (solved != 0) {
    bool constant = true;
    for (size_t i = 0; i < n; i++)
      constant &= X[i * p + bad] == X[bad];
    cu_fail(err, errlen, "feature '%s' is %s; drop it from features",
            t.names[cols[bad]],
            constant ? "constant" : "a linear combination of the features "
                                    "before it");
    goto out;
  }
  m.label = strdup(label);
  m.coef = malloc((p + 1) * sizeof *m.coef);
  m.features = calloc(p + 1, sizeof *m.features);
  if (!m.label || !m.coef || !m.features) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  m.intercept = ymean;
  for (uint32_t j = 0; j < p; j++) {
    m.coef[j] = y[j];
    m.intercept -= m.coef[j] * mean[j];
    m.features[j] = strdup(t.names[cols[j]]);
  }
  ctx->log(ctx, "linear regression: %zu rows, %u features", n, p);
  rc = ml_model_write(&m, pipec_ctx_output(ctx, "model"), err, errlen);
out:
  ml_model_free(&m);
  free(X), free(y), free(A), free(mean), free(cols);
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
    .version = "2",
    .doc = "Ordinary least squares with an intercept (scikit-learn's "
           "LinearRegression).",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 2,
    .run = linreg_run,
};

/*
 * ml_logistic_regression.c — `ml.logistic_regression(train, label,
 * features, l2, max_iter)` -> model.
 *
 * Minimises  sum_i logloss(y_i, sigmoid(b + w.x_i)) + l2/2 * |w|^2  (the
 * intercept b is not penalised), which is scikit-learn's
 * LogisticRegression(C = 1/l2), by Newton's method with step halving.
 * Labels: two distinct values; class 1 is the larger number, `true`, or
 * the later string (see ml_common.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "ml_common.h"
#include "stdlib_components.h"

/* Penalised negative log-likelihood at w (w[0] the intercept). */
static double objective(const double *X, const double *y, size_t n,
                        uint32_t p, const double *w, double l2) {
  double f = 0;
  for (size_t i = 0; i < n; i++) {
    double z = w[0];
    for (uint32_t j = 0; j < p; j++)
      z += w[j + 1] * X[i * p + j];
    /* log(1 + e^z) - y z, computed without overflow */
    f += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - y[i] * z;
  }
  for (uint32_t j = 1; j <= p; j++)
    f += 0.5 * l2 * w[j] * w[j];
  return f;
}

static int fit(const double *X, const double *y, size_t n, uint32_t p,
               double l2, int max_iter, double *w, const volatile int *stop,
               int *iters) {
  uint32_t q = p + 1;
  double *H = malloc((size_t)q * q * sizeof *H), *g = malloc(q * sizeof *g);
  double *wn = malloc(q * sizeof *wn);
  if (!H || !g || !wn) {
    free(H), free(g), free(wn);
    return -1;
  }
  memset(w, 0, q * sizeof *w);
  double f = objective(X, y, n, p, w, l2);
  int it;
  for (it = 0; it < max_iter && !*stop; it++) {
    memset(H, 0, (size_t)q * q * sizeof *H);
    memset(g, 0, q * sizeof *g);
    for (size_t i = 0; i < n; i++) {
      const double *x = X + i * p;
      double z = w[0];
      for (uint32_t j = 0; j < p; j++)
        z += w[j + 1] * x[j];
      double pr = 1.0 / (1.0 + exp(-z)), r = pr - y[i],
             s = pr * (1 - pr);
      g[0] += r;
      H[0] += s;
      for (uint32_t j = 0; j < p; j++) {
        g[j + 1] += r * x[j];
        H[j + 1] += s * x[j];           /* row 0 */
        for (uint32_t k = 0; k <= j; k++)
          H[(size_t)(j + 1) * q + k + 1] += s * x[j] * x[k];
      }
    }
    for (uint32_t j = 1; j < q; j++) {
      H[(size_t)j * q] = H[j];
      g[j] += l2 * w[j];
      H[(size_t)j * q + j] += l2 > 0 ? l2 : 1e-10;
      for (uint32_t k = 1; k < j; k++)
        H[(size_t)k * q + j] = H[(size_t)j * q + k];
    }
    H[0] += 1e-12;
    double gnorm = 0;
    for (uint32_t j = 0; j < q; j++)
      gnorm = fmax(gnorm, fabs(g[j]));
    if (gnorm < 1e-9 * (double)n)
      break;
    if (ml_cholesky_solve(H, g, q) != 0)
      break;
    /* step halving until the objective goes down */
    double step = 1, fn = f;
    for (int h = 0; h < 40; h++, step /= 2) {
      for (uint32_t j = 0; j < q; j++)
        wn[j] = w[j] - step * g[j];
      fn = objective(X, y, n, p, wn, l2);
      if (fn <= f)
        break;
    }
    if (!(fn <= f))
      break;
    memcpy(w, wn, q * sizeof *w);
    double df = f - fn;
    f = fn;
    if (df < 1e-14 * (fabs(f) + 1))
      break;
  }
  *iters = it;
  free(H), free(g), free(wn);
  return 0;
}

static int logreg_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "train"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  int rc = -1;
  ml_model m = {.kind = ML_LOGISTIC};
  double *X = NULL, *y = NULL, *w = NULL;
  uint32_t *cols = NULL;
  const char *label = cu_str(ctx, "label");
  int lc = cu_col(t.names, t.ncols, label, "label", err, errlen);
  if (lc < 0)
    goto out;
  if (!(cols = ml_feature_cols(ctx, &t, lc, &m.p, err, errlen)) ||
      !(X = ml_matrix(&t, cols, m.p, err, errlen)) ||
      !(y = ml_binary_labels(&t, (uint32_t)lc, m.classes, err, errlen)))
    goto out;
  double l2 = cu_float(ctx, "l2");
  if (l2 < 0) {
    cu_fail(err, errlen, "l2 must be >= 0, not %g", l2);
    goto out;
  }
  w = calloc(m.p + 1, sizeof *w);
  int iters = 0;
  if (!w || fit(X, y, t.nrows, m.p, l2, (int)cu_int(ctx, "max_iter"), w,
                ctx->cancelled, &iters) != 0) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  if (*ctx->cancelled) {
    cu_fail(err, errlen, "cancelled");
    goto out;
  }
  m.label = strdup(label);
  m.intercept = w[0];
  m.coef = malloc((m.p + 1) * sizeof *m.coef);
  m.features = calloc(m.p + 1, sizeof *m.features);
  for (uint32_t j = 0; j < m.p; j++) {
    m.coef[j] = w[j + 1];
    m.features[j] = strdup(t.names[cols[j]]);
  }
  ctx->log(ctx, "logistic regression: %zu rows, %u features, %d Newton "
                "steps; class 1 is '%s'",
           t.nrows, m.p, iters, m.classes[1]);
  rc = ml_model_write(&m, pipec_ctx_output(ctx, "model"), err, errlen);
out:
  ml_model_free(&m);
  free(X), free(y), free(w), free(cols);
  csv_table_free(&t);
  return rc;
}

static const pipec_port_desc inputs[] = {{"train", PIPEC_PORT_TABLE, "training rows"}};
static const pipec_port_desc outputs[] = {{"model", PIPEC_PORT_MODEL, "the fitted model"}};
static const pipec_param_desc params[] = {
    {"label", PIPEC_T_STRING, NULL, "the column to predict (two values)"},
    {"features", PIPEC_T_LIST, "[]",
     "feature columns; [] means every numeric column but the label"},
    {"l2", PIPEC_T_FLOAT, "1.0",
     "L2 penalty on the coefficients (scikit-learn's 1/C)"},
    {"max_iter", PIPEC_T_INT, "100", "at most this many Newton steps"},
};

const pipec_component_desc stdlib_ml_logistic_regression = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "ml.logistic_regression",
    .version = "1",
    .doc = "Binary logistic regression with an L2 penalty (Newton's method); "
           "the same model as scikit-learn's LogisticRegression(C=1/l2).",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 4,
    .run = logreg_run,
};

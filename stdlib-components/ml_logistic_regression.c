/*
 * ml_logistic_regression.c — `ml.logistic_regression(train, label,
 * features, l2, max_iter)` -> model.
 *
 * Minimises  sum_i logloss(y_i, sigmoid(b + w.x_i)) + l2/2 * |w|^2  with the
 * intercept b not penalised: scikit-learn's LogisticRegression(C = 1/l2,
 * penalty="l2") solved to convergence. l2 = 0 is allowed (no penalty; on
 * separable data the coefficients then grow until max_iter).
 *
 * Method: Newton's method with step halving, on internally standardised
 * features (x - mean) / sd, with the penalty rescaled so that the problem is
 * the same (l2 / sd_j^2 on the standardised coefficient); coefficients and
 * intercept are mapped back to the original scale before they are written.
 * It stops when the Newton decrement is negligible.
 *
 * Labels: exactly two distinct values; class 1 (positive, the one whose
 * probability is reported) is the larger of two numbers ("0"/"1"), `true`
 * of true/false, or else the later of two strings in byte order, as
 * scikit-learn orders classes_ (see ml_binary_labels).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "ml_common.h"
#include "stdlib_components.h"

/* Penalised negative log-likelihood at v (v[0] the intercept); Z is n x p,
 * pen[j] the penalty of v[j + 1]. */
static double objective(const double *Z, const double *y, size_t n,
                        uint32_t p, const double *v, const double *pen) {
  double f = 0;
  for (size_t i = 0; i < n; i++) {
    double z = v[0];
    for (uint32_t j = 0; j < p; j++)
      z += v[j + 1] * Z[i * p + j];
    /* log(1 + e^z) - y z, computed without overflow */
    f += (z > 0 ? z + log1p(exp(-z)) : log1p(exp(z))) - y[i] * z;
  }
  for (uint32_t j = 0; j < p; j++)
    f += 0.5 * pen[j] * v[j + 1] * v[j + 1];
  return f;
}

/* Fit on X (n x p, original scale) into w (p + 1: intercept, then the
 * coefficients, original scale). Returns the Newton steps taken, or -1 if
 * out of memory; *converged says whether it stopped by the criterion. */
static int fit(const double *X, const double *y, size_t n, uint32_t p,
               double l2, int max_iter, double *w, const volatile int *stop,
               bool *converged) {
  uint32_t q = p + 1;
  double *Z = malloc((n * p + 1) * sizeof *Z);
  double *mean = calloc(q, sizeof *mean), *sd = calloc(q, sizeof *sd);
  double *pen = malloc(q * sizeof *pen), *v = calloc(q, sizeof *v);
  double *H = malloc((size_t)q * q * sizeof *H), *g = malloc(q * sizeof *g);
  double *d = malloc(q * sizeof *d), *vn = malloc(q * sizeof *vn);
  int it = -1;
  *converged = false;
  if (!Z || !mean || !sd || !pen || !v || !H || !g || !d || !vn)
    goto out;
  /* standardise: Z = (X - mean) / sd (sd 1 for a constant column) */
  for (size_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < p; j++)
      mean[j] += X[i * p + j];
  for (uint32_t j = 0; j < p; j++)
    mean[j] /= (double)n;
  for (size_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < p; j++) {
      double e = X[i * p + j] - mean[j];
      sd[j] += e * e;
    }
  for (uint32_t j = 0; j < p; j++) {
    sd[j] = sqrt(sd[j] / (double)n);
    if (!(sd[j] > 0))
      sd[j] = 1;
    pen[j] = l2 / (sd[j] * sd[j]);
  }
  for (size_t i = 0; i < n; i++)
    for (uint32_t j = 0; j < p; j++)
      Z[i * p + j] = (X[i * p + j] - mean[j]) / sd[j];

  double f = objective(Z, y, n, p, v, pen);
  for (it = 0; it < max_iter && !*stop; it++) {
    /* gradient g and Hessian H (lower triangle) of the objective */
    memset(H, 0, (size_t)q * q * sizeof *H);
    memset(g, 0, q * sizeof *g);
    for (size_t i = 0; i < n; i++) {
      const double *z = Z + i * p;
      double s = v[0];
      for (uint32_t j = 0; j < p; j++)
        s += v[j + 1] * z[j];
      double pr = 1.0 / (1.0 + exp(-s)), r = pr - y[i], h = pr * (1 - pr);
      g[0] += r;
      H[0] += h;
      for (uint32_t j = 0; j < p; j++) {
        double hz = h * z[j];
        double *row = H + (size_t)(j + 1) * q;
        g[j + 1] += r * z[j];
        row[0] += hz;
        for (uint32_t k = 0; k <= j; k++)
          row[k + 1] += hz * z[k];
      }
    }
    for (uint32_t j = 0; j < p; j++) {
      g[j + 1] += pen[j] * v[j + 1];
      /* a tiny ridge keeps H definite when l2 = 0 */
      H[(size_t)(j + 1) * q + j + 1] += pen[j] > 0 ? pen[j] : 1e-12;
    }
    H[0] += 1e-12;
    memcpy(d, g, q * sizeof *d);
    if (ml_cholesky_solve(H, d, q) != 0)
      break;
    double dec = 0; /* Newton decrement squared: g' H^-1 g */
    for (uint32_t j = 0; j < q; j++)
      dec += g[j] * d[j];
    /* step halving until the objective does not go up */
    double step = 1, fn = f;
    for (int h = 0; h < 50; h++, step /= 2) {
      for (uint32_t j = 0; j < q; j++)
        vn[j] = v[j] - step * d[j];
      fn = objective(Z, y, n, p, vn, pen);
      if (fn <= f)
        break;
    }
    if (fn <= f) {
      memcpy(v, vn, q * sizeof *v);
      f = fn;
    }
    if (dec < 1e-16 * (1 + f) || !(fn <= f)) {
      /* Newton converges quadratically: a step from this close lands on
       * the optimum to rounding (or no step decreased f at all) */
      *converged = true;
      it++;
      break;
    }
  }
  /* back to the original scale */
  w[0] = v[0];
  for (uint32_t j = 0; j < p; j++) {
    w[j + 1] = v[j + 1] / sd[j];
    w[0] -= w[j + 1] * mean[j];
  }
out:
  free(Z), free(mean), free(sd), free(pen), free(v), free(H), free(g);
  free(d), free(vn);
  return it;
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
  if (!(l2 >= 0) || isinf(l2)) {
    cu_fail(err, errlen, "l2 must be a finite number >= 0, not %g", l2);
    goto out;
  }
  if (cu_int(ctx, "max_iter") < 1) {
    cu_fail(err, errlen, "max_iter must be at least 1");
    goto out;
  }
  w = calloc(m.p + 1, sizeof *w);
  bool converged = false;
  int iters = w ? fit(X, y, t.nrows, m.p, l2, (int)cu_int(ctx, "max_iter"),
                      w, ctx->cancelled, &converged)
                : -1;
  if (iters < 0) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  if (*ctx->cancelled) {
    cu_fail(err, errlen, "cancelled");
    goto out;
  }
  if (!converged)
    ctx->log(ctx, "warning: not converged after max_iter = %d Newton steps "
                  "(separable classes? raise l2 or max_iter)",
             iters);
  m.label = strdup(label);
  m.intercept = w[0];
  m.coef = malloc((m.p + 1) * sizeof *m.coef);
  m.features = calloc(m.p + 1, sizeof *m.features);
  if (!m.label || !m.coef || !m.features) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
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
    .version = "2",
    .doc = "Binary logistic regression with an L2 penalty (Newton's method); "
           "the same model as scikit-learn's LogisticRegression(C=1/l2).",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 4,
    .run = logreg_run,
};

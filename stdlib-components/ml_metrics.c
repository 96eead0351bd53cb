/*
 * ml_metrics.c — `ml.metrics(model, input, label)` -> out (json): how well
 * the model does on these rows, computed as scikit-learn's metric functions
 * do on the same predictions (the e2e test holds them to 1e-9):
 *
 *   classifier  "kind": "classifier", accuracy, precision, recall, f1
 *               (class 1 positive, predicted when its probability > 0.5;
 *               0 when a ratio is 0/0, sklearn's zero_division default),
 *               roc_auc (Mann-Whitney rank sum, tied scores sharing their
 *               average rank: the same area as roc_auc_score's trapezoids;
 *               null when the rows hold one class), log_loss
 *               (probabilities clipped to [eps, 1 - eps], eps = 2^-52,
 *               log_loss's eps="auto" for float64), n
 *   regressor   "kind": "regressor", rmse, mae, r2 (r2_score: 1 when both
 *               sums of squares are 0, 0 when only the label's is), n
 *   kmeans      "kind": "kmeans", inertia (sum of squared distances to the
 *               nearest centre), n
 *
 * label names the true label column; "" (the default) uses the model's.
 * Label texts are matched to the model's classes exactly, then as numbers
 * or booleans ("1.0" is class "1").
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "ml_common.h"
#include "stdlib_components.h"

typedef struct scored {
  double score;
  double y;
} scored;

static int by_score(const void *a, const void *b) {
  double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
  return (x > y) - (x < y);
}

/* Area under the ROC curve by the rank-sum formula, ties averaged; NAN if
 * one class is missing. */
static double roc_auc(const double *y, const double *p, size_t n) {
  scored *s = malloc((n + 1) * sizeof *s);
  if (!s)
    return NAN;
  for (size_t i = 0; i < n; i++)
    s[i] = (scored){p[i], y[i]};
  qsort(s, n, sizeof *s, by_score);
  double pos = 0, rank_sum = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && s[j].score == s[i].score)
      j++;
    double avg = (double)(i + 1 + j) / 2.0; /* ranks i+1 .. j */
    for (size_t k = i; k < j; k++)
      if (s[k].y > 0.5) {
        rank_sum += avg;
        pos++;
      }
    i = j;
  }
  free(s);
  double neg = (double)n - pos;
  if (pos == 0 || neg == 0)
    return NAN;
  return (rank_sum - pos * (pos + 1) / 2.0) / (pos * neg);
}

static void put_num(FILE *f, const char *key, double v, bool last) {
  if (!isfinite(v))
    fprintf(f, "  \"%s\": null%s\n", key, last ? "" : ",");
  else
    fprintf(f, "  \"%s\": %.17g%s\n", key, v, last ? "" : ",");
}

static int metrics_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  ml_model m;
  if (ml_model_read(pipec_ctx_input(ctx, "model"), &m, err, errlen) != 0)
    return -1;
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0) {
    ml_model_free(&m);
    return -1;
  }
  int rc = -1;
  double *X = NULL, *pred = NULL, *y = NULL;
  uint32_t *cols = ml_cols_by_name(&t, m.features, m.p, err, errlen);
  FILE *f = NULL;
  size_t n = t.nrows;
  if (!cols || !(X = ml_matrix(&t, cols, m.p, err, errlen)))
    goto out;
  if (n == 0) {
    cu_fail(err, errlen, "the input has no rows");
    goto out;
  }
  pred = malloc((n + 1) * sizeof *pred);
  y = malloc((n + 1) * sizeof *y);
  if (!pred || !y) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  ml_predict(&m, X, n, pred);
  const char *label = cu_str(ctx, "label");
  int lc = -1;
  if (m.kind != ML_KMEANS &&
      (lc = cu_col(t.names, t.ncols, *label ? label : m.label, "label", err,
                   errlen)) < 0)
    goto out;
  f = fopen(pipec_ctx_output(ctx, "out"), "w");
  if (!f) {
    cu_fail(err, errlen, "cannot create the output");
    goto out;
  }
  fprintf(f, "{\n");
  if (m.kind == ML_LOGISTIC) {
    double tp = 0, fp = 0, tn = 0, fn = 0, ll = 0, eps = DBL_EPSILON;
    for (size_t i = 0; i < n; i++) {
      const char *v = csv_table_str(&t, i, (uint32_t)lc);
      int cls = csv_table_cell(&t, i, (uint32_t)lc)->null ? -1
                                                          : ml_class_of(&m, v);
      if (cls < 0) {
        fclose(f);
        f = NULL;
        cu_fail(err, errlen, "row %zu: label '%s' is neither '%s' nor '%s' "
                             "(the model's classes)",
                i + 1, v, m.classes[0], m.classes[1]);
        goto out;
      }
      y[i] = cls;
      bool hat = pred[i] > 0.5;
      tp += hat && y[i], fp += hat && !y[i];
      tn += !hat && !y[i], fn += !hat && y[i];
      double pr = fmin(fmax(pred[i], eps), 1 - eps);
      ll -= y[i] ? log(pr) : log(1 - pr);
    }
    double prec = tp + fp > 0 ? tp / (tp + fp) : 0;
    double rec = tp + fn > 0 ? tp / (tp + fn) : 0;
    fprintf(f, "  \"kind\": \"classifier\",\n");
    put_num(f, "accuracy", (tp + tn) / (double)n, false);
    put_num(f, "precision", prec, false);
    put_num(f, "recall", rec, false);
    put_num(f, "f1", tp > 0 ? 2 * tp / (2 * tp + fp + fn) : 0, false);
    put_num(f, "roc_auc", roc_auc(y, pred, n), false);
    put_num(f, "log_loss", ll / (double)n, false);
  } else if (m.kind == ML_LINEAR) {
    uint32_t one = (uint32_t)lc;
    double *yy = ml_matrix(&t, &one, 1, err, errlen);
    if (!yy) {
      fclose(f);
      f = NULL;
      goto out;
    }
    double se = 0, ae = 0, mean = 0, tot = 0;
    for (size_t i = 0; i < n; i++)
      mean += yy[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++) {
      double e = yy[i] - pred[i];
      se += e * e;
      ae += fabs(e);
      tot += (yy[i] - mean) * (yy[i] - mean);
    }
    free(yy);
    fprintf(f, "  \"kind\": \"regressor\",\n");
    put_num(f, "rmse", sqrt(se / (double)n), false);
    put_num(f, "mae", ae / (double)n, false);
    put_num(f, "r2", tot > 0 ? 1 - se / tot : se == 0 ? 1 : 0, false);
  } else {
    double inertia = 0;
    for (size_t i = 0; i < n; i++) {
      const double *c = m.centroids + (size_t)pred[i] * m.p;
      for (uint32_t j = 0; j < m.p; j++) {
        double e = X[i * m.p + j] - c[j];
        inertia += e * e;
      }
    }
    fprintf(f, "  \"kind\": \"kmeans\",\n");
    put_num(f, "inertia", inertia, false);
  }
  fprintf(f, "  \"n\": %zu\n}\n", n);
  rc = 0;
out:
  if (f && fclose(f) != 0 && rc == 0)
    rc = cu_fail(err, errlen, "writing the output failed");
  free(X), free(pred), free(y), free(cols);
  csv_table_free(&t);
  ml_model_free(&m);
  return rc;
}

static const pipec_port_desc inputs[] = {
    {"model", PIPEC_PORT_MODEL, "a model from ml.*"},
    {"input", PIPEC_PORT_TABLE, "rows to evaluate on (with the label)"},
};
static const pipec_port_desc outputs[] = {
    {"out", PIPEC_PORT_JSON, "the metrics as a JSON object"},
};
static const pipec_param_desc params[] = {
    {"label", PIPEC_T_STRING, "\"\"",
     "the true label column; \"\" means the model's label"},
};

const pipec_component_desc stdlib_ml_metrics = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "ml.metrics",
    .version = "2",
    .doc = "Evaluate a model on rows: accuracy, precision, recall, F1, ROC "
           "AUC and log loss for classifiers; RMSE, MAE and R2 for "
           "regressors; inertia for k-means.",
    .inputs = inputs, .n_inputs = 2,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 1,
    .run = metrics_run,
};

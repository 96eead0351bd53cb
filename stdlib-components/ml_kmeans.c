/*
 * ml_kmeans.c — `ml.kmeans(input, k, features, seed, max_iter, n_init)`
 * -> model, assignments: k-means++ seeding and Lloyd's iterations, the
 * best of n_init runs by inertia (scikit-learn's KMeans algorithm).
 * assignments is the input plus a `cluster` column (0 .. k-1).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "ml_common.h"
#include "rng.h"
#include "stdlib_components.h"

static double dist2(const double *a, const double *b, uint32_t p) {
  double d = 0;
  for (uint32_t j = 0; j < p; j++)
    d += (a[j] - b[j]) * (a[j] - b[j]);
  return d;
}

/* k-means++: each next centre drawn with probability ~ squared distance. */
static void seed_centres(const double *X, size_t n, uint32_t p, uint32_t k,
                         rng *r, double *C, double *d) {
  memcpy(C, X + rng_below(r, n) * p, p * sizeof *C);
  for (size_t i = 0; i < n; i++)
    d[i] = dist2(X + i * p, C, p);
  for (uint32_t c = 1; c < k; c++) {
    double total = 0;
    for (size_t i = 0; i < n; i++)
      total += d[i];
    double x = rng_unit(r) * total;
    size_t pick = n - 1;
    for (size_t i = 0; i < n; i++) {
      x -= d[i];
      if (x < 0) {
        pick = i;
        break;
      }
    }
    memcpy(C + (size_t)c * p, X + pick * p, p * sizeof *C);
    for (size_t i = 0; i < n; i++)
      d[i] = fmin(d[i], dist2(X + i * p, C + (size_t)c * p, p));
  }
}

/* Lloyd's iterations; returns the inertia, labels in lab. */
static double lloyd(const double *X, size_t n, uint32_t p, uint32_t k,
                    int max_iter, double *C, uint32_t *lab, double *sum,
                    size_t *cnt) {
  double inertia = 0;
  for (int it = 0; it < max_iter; it++) {
    bool moved = false;
    inertia = 0;
    for (size_t i = 0; i < n; i++) {
      double best = DBL_MAX;
      uint32_t arg = 0;
      for (uint32_t c = 0; c < k; c++) {
        double dd = dist2(X + i * p, C + (size_t)c * p, p);
        if (dd < best)
          best = dd, arg = c;
      }
      moved |= lab[i] != arg || it == 0;
      lab[i] = arg;
      inertia += best;
    }
    if (!moved)
      break;
    memset(sum, 0, (size_t)k * p * sizeof *sum);
    memset(cnt, 0, k * sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
      cnt[lab[i]]++;
      for (uint32_t j = 0; j < p; j++)
        sum[(size_t)lab[i] * p + j] += X[i * p + j];
    }
    double shift = 0;
    for (uint32_t c = 0; c < k; c++) {
      if (!cnt[c])
        continue; /* an empty cluster keeps its centre */
      for (uint32_t j = 0; j < p; j++) {
        double v = sum[(size_t)c * p + j] / (double)cnt[c];
        shift += fabs(v - C[(size_t)c * p + j]);
        C[(size_t)c * p + j] = v;
      }
    }
    if (shift == 0)
      break;
  }
  return inertia;
}

static int kmeans_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  int rc = -1;
  ml_model m = {.kind = ML_KMEANS};
  double *X = NULL, *C = NULL, *best = NULL, *d = NULL, *sum = NULL;
  uint32_t *lab = NULL, *best_lab = NULL, *cols = NULL;
  size_t *cnt = NULL;
  csv_writer *w = NULL;
  int64_t k = cu_int(ctx, "k"), n_init = cu_int(ctx, "n_init");
  size_t n = t.nrows;
  if (!(cols = ml_feature_cols(ctx, &t, -1, &m.p, err, errlen)) ||
      !(X = ml_matrix(&t, cols, m.p, err, errlen)))
    goto out;
  if (k < 1 || (size_t)k > n) {
    cu_fail(err, errlen, "k must be between 1 and the number of rows (%zu), "
                         "not %lld",
            n, (long long)k);
    goto out;
  }
  uint32_t p = m.p, K = (uint32_t)k;
  C = malloc((size_t)K * p * sizeof *C);
  best = malloc((size_t)K * p * sizeof *best);
  sum = malloc((size_t)K * p * sizeof *sum);
  cnt = malloc(K * sizeof *cnt);
  d = malloc(n * sizeof *d);
  lab = calloc(n, sizeof *lab);
  best_lab = calloc(n, sizeof *best_lab);
  if (!C || !best || !sum || !cnt || !d || !lab || !best_lab) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  rng r = {(uint64_t)cu_int(ctx, "seed")};
  double best_inertia = DBL_MAX;
  for (int64_t run = 0; run < (n_init > 0 ? n_init : 1); run++) {
    if (*ctx->cancelled) {
      cu_fail(err, errlen, "cancelled");
      goto out;
    }
    seed_centres(X, n, p, K, &r, C, d);
    double in = lloyd(X, n, p, K, (int)cu_int(ctx, "max_iter"), C, lab, sum,
                      cnt);
    if (in < best_inertia) {
      best_inertia = in;
      memcpy(best, C, (size_t)K * p * sizeof *C);
      memcpy(best_lab, lab, n * sizeof *lab);
    }
  }
  m.k = K;
  m.centroids = best;
  best = NULL;
  m.features = calloc(p + 1, sizeof *m.features);
  m.coef = calloc(p + 1, sizeof *m.coef);
  for (uint32_t j = 0; j < p; j++)
    m.features[j] = strdup(t.names[cols[j]]);
  ctx->log(ctx, "k-means: %zu rows, k = %u, inertia %.6g", n, K,
           best_inertia);
  if (ml_model_write(&m, pipec_ctx_output(ctx, "model"), err, errlen) != 0 ||
      csv_wopen(pipec_ctx_output(ctx, "assignments"), &w, err, errlen) != 0)
    goto out;
  for (uint32_t c = 0; c < t.ncols; c++)
    csv_put(w, t.names[c], strlen(t.names[c]), false);
  csv_put(w, "cluster", 7, true);
  for (size_t i = 0; i < n; i++) {
    for (uint32_t c = 0; c < t.ncols; c++) {
      const csv_cell *cell = csv_table_cell(&t, i, c);
      if (cell->null)
        csv_put_null(w, false);
      else
        csv_put(w, t.text + cell->off, cell->len, false);
    }
    csv_put_int(w, best_lab[i], true);
  }
  rc = 0;
out:
  if (w) {
    char werr[256];
    if (csv_wclose(w, werr, sizeof werr) != 0 && rc == 0)
      rc = cu_fail(err, errlen, "%s", werr);
  }
  ml_model_free(&m);
  free(X), free(C), free(best), free(d), free(sum), free(cnt), free(lab);
  free(best_lab), free(cols);
  csv_table_free(&t);
  return rc;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "rows to cluster"}};
static const pipec_port_desc outputs[] = {
    {"model", PIPEC_PORT_MODEL, "the centres"},
    {"assignments", PIPEC_PORT_TABLE, "the input plus a cluster column"},
};
static const pipec_param_desc params[] = {
    {"k", PIPEC_T_INT, NULL, "number of clusters"},
    {"features", PIPEC_T_LIST, "[]", "feature columns; [] = every numeric column"},
    {"seed", PIPEC_T_INT, "0", "random seed"},
    {"max_iter", PIPEC_T_INT, "300", "Lloyd iterations per run"},
    {"n_init", PIPEC_T_INT, "10", "runs from different seeds; the best is kept"},
};

const pipec_component_desc stdlib_ml_kmeans = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "ml.kmeans",
    .version = "1",
    .doc = "k-means clustering: k-means++ seeding, Lloyd's iterations, best of "
           "n_init runs.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 2,
    .params = params, .n_params = 5,
    .run = kmeans_run,
};

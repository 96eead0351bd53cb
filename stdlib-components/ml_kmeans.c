/*
 * ml_kmeans.c — `ml.kmeans(input, k, features, seed, max_iter, n_init)`
 * -> model, assignments: scikit-learn's KMeans algorithm ("lloyd"):
 *
 *   - greedy k-means++ seeding: the first centre is a random row; each next
 *     one is the best (lowest resulting inertia) of 2 + floor(ln k)
 *     candidates drawn with probability proportional to the squared
 *     distance to the nearest centre so far;
 *   - Lloyd's iterations until no row changes cluster (or max_iter); a
 *     cluster left empty is moved to the row farthest from its centre;
 *   - n_init runs, the one with the lowest inertia kept.
 *
 * Random numbers come from rng.h seeded with `seed`, so a seed gives the
 * same clusters everywhere (not the same as scikit-learn's for its
 * random_state). assignments is the input plus a `cluster` column
 * (0 .. k-1); the model holds the centres (see ml_common.h).
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

/* A row drawn with probability d[i] / total. */
static size_t draw(const double *d, size_t n, double total, rng *r) {
  double x = rng_unit(r) * total;
  for (size_t i = 0; i < n; i++) {
    x -= d[i];
    if (x < 0)
      return i;
  }
  /* rounding (or total = 0): the last row with weight, else the last row */
  for (size_t i = n; i-- > 0;)
    if (d[i] > 0)
      return i;
  return n - 1;
}

/* Greedy k-means++ into C (k x p). d (n) ends as the squared distance of
 * each row to its nearest centre; tmp (n) is scratch. */
static void seed_centres(const double *X, size_t n, uint32_t p, uint32_t k,
                         rng *r, double *C, double *d, double *tmp) {
  uint32_t trials = 2 + (uint32_t)log((double)k);
  memcpy(C, X + rng_below(r, n) * p, p * sizeof *C);
  double pot = 0;
  for (size_t i = 0; i < n; i++)
    pot += d[i] = dist2(X + i * p, C, p);
  for (uint32_t c = 1; c < k; c++) {
    size_t best = 0;
    double best_pot = DBL_MAX;
    for (uint32_t t = 0; t < trials; t++) {
      size_t cand = draw(d, n, pot, r);
      double cp = 0;
      for (size_t i = 0; i < n; i++)
        cp += fmin(d[i], dist2(X + i * p, X + cand * p, p));
      if (cp < best_pot)
        best_pot = cp, best = cand;
    }
    memcpy(C + (size_t)c * p, X + best * p, p * sizeof *C);
    pot = 0;
    for (size_t i = 0; i < n; i++) {
      tmp[i] = fmin(d[i], dist2(X + i * p, X + best * p, p));
      pot += tmp[i];
    }
    memcpy(d, tmp, n * sizeof *d);
  }
}

/* Scratch space of one Lloyd run. */
typedef struct lloyd_ws {
  uint32_t *lab; /* n: cluster of each row */
  double *d;     /* n: squared distance to its centre */
  double *sum;   /* k x p */
  size_t *cnt;   /* k */
} lloyd_ws;

/* Lloyd's iterations from the centres C; returns the inertia (labels in
 * ws->lab, consistent with the final C), or -1 if cancelled. */
static double lloyd(const double *X, size_t n, uint32_t p, uint32_t k,
                    int64_t max_iter, double *C, lloyd_ws *ws,
                    const volatile int *stop) {
  double inertia = 0;
  for (int64_t it = 0;; it++) {
    if (*stop)
      return -1;
    bool moved = false;
    inertia = 0;
    for (size_t i = 0; i < n; i++) { /* assign each row to its nearest */
      double best = DBL_MAX;
      uint32_t arg = 0;
      for (uint32_t c = 0; c < k; c++) {
        double dd = dist2(X + i * p, C + (size_t)c * p, p);
        if (dd < best)
          best = dd, arg = c;
      }
      moved |= ws->lab[i] != arg || it == 0;
      ws->lab[i] = arg;
      ws->d[i] = best;
      inertia += best;
    }
    if (!moved || it >= max_iter)
      break;
    memset(ws->sum, 0, (size_t)k * p * sizeof *ws->sum);
    memset(ws->cnt, 0, k * sizeof *ws->cnt);
    for (size_t i = 0; i < n; i++) { /* each centre to its rows' mean */
      ws->cnt[ws->lab[i]]++;
      for (uint32_t j = 0; j < p; j++)
        ws->sum[(size_t)ws->lab[i] * p + j] += X[i * p + j];
    }
    for (uint32_t c = 0; c < k; c++) {
      double *cc = C + (size_t)c * p;
      if (ws->cnt[c]) {
        for (uint32_t j = 0; j < p; j++)
          cc[j] = ws->sum[(size_t)c * p + j] / (double)ws->cnt[c];
        continue;
      }
      /* empty: take the row farthest from its centre */
      size_t far = 0;
      for (size_t i = 1; i < n; i++)
        if (ws->d[i] > ws->d[far])
          far = i;
      memcpy(cc, X + far * p, p * sizeof *cc);
      ws->d[far] = 0;
    }
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
  double *X = NULL, *C = NULL, *best = NULL, *tmp = NULL;
  uint32_t *best_lab = NULL, *cols = NULL;
  lloyd_ws ws = {0};
  csv_writer *w = NULL;
  int64_t k = cu_int(ctx, "k"), n_init = cu_int(ctx, "n_init");
  int64_t max_iter = cu_int(ctx, "max_iter");
  size_t n = t.nrows;
  if (!(cols = ml_feature_cols(ctx, &t, -1, &m.p, err, errlen)) ||
      !(X = ml_matrix(&t, cols, m.p, err, errlen)))
    goto out;
  if (csv_table_col(&t, "cluster") >= 0) {
    cu_fail(err, errlen, "the input already has a 'cluster' column; drop or "
                         "rename it first (table.select)");
    goto out;
  }
  if (k < 1 || (uint64_t)k > n) {
    cu_fail(err, errlen, "k = %lld: k must be between 1 and the number of "
                         "rows (%zu)",
            (long long)k, n);
    goto out;
  }
  if (n_init < 1 || max_iter < 1) {
    cu_fail(err, errlen, "n_init and max_iter must be at least 1");
    goto out;
  }
  uint32_t p = m.p, K = (uint32_t)k;
  C = malloc((size_t)K * p * sizeof *C);
  best = malloc((size_t)K * p * sizeof *best);
  tmp = malloc(n * sizeof *tmp);
  best_lab = calloc(n, sizeof *best_lab);
  ws.lab = calloc(n, sizeof *ws.lab);
  ws.d = malloc(n * sizeof *ws.d);
  ws.sum = malloc((size_t)K * p * sizeof *ws.sum);
  ws.cnt = malloc(K * sizeof *ws.cnt);
  if (!C || !best || !tmp || !best_lab || !ws.lab || !ws.d || !ws.sum ||
      !ws.cnt) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  rng r = {(uint64_t)cu_int(ctx, "seed")};
  double best_inertia = DBL_MAX;
  for (int64_t run = 0; run < n_init; run++) {
    seed_centres(X, n, p, K, &r, C, ws.d, tmp);
    double in = lloyd(X, n, p, K, max_iter, C, &ws, ctx->cancelled);
    if (in < 0) {
      cu_fail(err, errlen, "cancelled");
      goto out;
    }
    if (in < best_inertia) {
      best_inertia = in;
      memcpy(best, C, (size_t)K * p * sizeof *C);
      memcpy(best_lab, ws.lab, n * sizeof *ws.lab);
    }
  }
  m.k = K;
  m.centroids = best;
  best = NULL;
  m.features = calloc(p + 1, sizeof *m.features);
  m.coef = calloc(p + 1, sizeof *m.coef);
  if (!m.features || !m.coef) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
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
  free(X), free(C), free(best), free(tmp), free(best_lab), free(cols);
  free(ws.lab), free(ws.d), free(ws.sum), free(ws.cnt);
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
    .version = "2",
    .doc = "k-means clustering: k-means++ seeding, Lloyd's iterations, best of "
           "n_init runs.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 2,
    .params = params, .n_params = 5,
    .run = kmeans_run,
};

/*
 * ml_predict.c — `ml.predict(model, input)` -> out: the input rows plus a
 * `prediction` column (a number, the class label, or the cluster) and, for
 * logistic models, `probability` (of class 1; the label is class 1's when
 * it is > 0.5). The model file alone drives it (see ml_common.h): the input
 * needs the model's feature columns, numeric and without nulls; other
 * columns are copied through. An input that already has a `prediction`
 * (or `probability`) column is an error rather than a duplicate name.
 */
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "ml_common.h"
#include "stdlib_components.h"

static int predict_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
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
  double *X = NULL, *pred = NULL;
  uint32_t *cols = ml_cols_by_name(&t, m.features, m.p, err, errlen);
  csv_writer *w = NULL;
  bool logistic = m.kind == ML_LOGISTIC;
  if (!cols || !(X = ml_matrix(&t, cols, m.p, err, errlen)))
    goto out;
  if (csv_table_col(&t, "prediction") >= 0 ||
      (logistic && csv_table_col(&t, "probability") >= 0)) {
    cu_fail(err, errlen, "the input already has a '%s' column; drop or "
                         "rename it first (table.select)",
            csv_table_col(&t, "prediction") >= 0 ? "prediction"
                                                 : "probability");
    goto out;
  }
  pred = malloc((t.nrows + 1) * sizeof *pred);
  if (!pred) {
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  ml_predict(&m, X, t.nrows, pred);
  if (csv_wopen(pipec_ctx_output(ctx, "out"), &w, err, errlen) != 0)
    goto out;
  for (uint32_t c = 0; c < t.ncols; c++)
    csv_put(w, t.names[c], strlen(t.names[c]), false);
  csv_put(w, "prediction", 10, !logistic);
  if (logistic)
    csv_put(w, "probability", 11, true);
  for (size_t i = 0; i < t.nrows; i++) {
    for (uint32_t c = 0; c < t.ncols; c++) {
      const csv_cell *cell = csv_table_cell(&t, i, c);
      if (cell->null)
        csv_put_null(w, false);
      else
        csv_put(w, t.text + cell->off, cell->len, false);
    }
    if (logistic) {
      const char *cls = m.classes[pred[i] > 0.5];
      csv_put(w, cls, strlen(cls), false);
      csv_put_double(w, pred[i], true);
    } else if (m.kind == ML_KMEANS) {
      csv_put_int(w, (int64_t)pred[i], true);
    } else {
      csv_put_double(w, pred[i], true);
    }
  }
  rc = 0;
out:
  if (w) {
    char werr[256];
    if (csv_wclose(w, werr, sizeof werr) != 0 && rc == 0)
      rc = cu_fail(err, errlen, "%s", werr);
  }
  free(X), free(pred), free(cols);
  csv_table_free(&t);
  ml_model_free(&m);
  return rc;
}

static const pipec_port_desc inputs[] = {
    {"model", PIPEC_PORT_MODEL, "a model from ml.*"},
    {"input", PIPEC_PORT_TABLE, "rows with the model's feature columns"},
};
static const pipec_port_desc outputs[] = {
    {"out", PIPEC_PORT_TABLE, "the input plus prediction (and probability)"},
};

const pipec_component_desc stdlib_ml_predict = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "ml.predict",
    .version = "3", /* whole numbers are written as 50, not 5e+01 */
    .doc = "Apply a model to rows: adds a prediction column (and probability "
           "of class 1 for a logistic model).",
    .inputs = inputs, .n_inputs = 2,
    .outputs = outputs, .n_outputs = 1,
    .run = predict_run,
};

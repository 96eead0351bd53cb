/*
 * test_ml.c — the ml.* built-in components (stdlib-components/ml_*.c) on
 * small hand-checkable data: the least-squares and Cholesky solvers, the
 * model file, an exact OLS fit, logistic regression (optimality conditions,
 * scikit-learn reference values, label handling), obvious clusters,
 * predict, metrics on known predictions, and the run-time errors.
 *
 * Components are run through their descriptors with a hand-made run
 * context (every declared param present, defaults parsed from their
 * literals), on CSV files in a temporary directory.
 */
#define _GNU_SOURCE
#include "check.h"

#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ml_common.h"
#include "stdlib_components.h"

#define CHECK_NEAR(a, b, tol)                                              \
  do {                                                                     \
    double a__ = (a), b__ = (b);                                           \
    if (!(fabs(a__ - b__) <= (tol))) {                                     \
      fprintf(stderr, "%s:%d: check failed: %s ~ %s (%.17g vs %.17g)\n",   \
              __FILE__, __LINE__, #a, #b, a__, b__);                       \
      abort();                                                             \
    }                                                                      \
  } while (0)

#define CHECK_CONTAINS(hay, needle)                                        \
  do {                                                                     \
    if (!strstr((hay), (needle))) {                                        \
      fprintf(stderr, "%s:%d: check failed: \"%s\" contains \"%s\"\n",     \
              __FILE__, __LINE__, (hay), (needle));                        \
      abort();                                                             \
    }                                                                      \
  } while (0)

/* ---- a temporary directory ---------------------------------------------- */

static char root[256];

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static const char *at(const char *name) {
  static char bufs[8][512];
  static int next;
  char *b = bufs[next++ % 8];
  snprintf(b, 512, "%s/%s", root, name);
  return b;
}

static void write_text(const char *name, const char *text) {
  FILE *f = fopen(at(name), "w");
  CHECK(f != NULL);
  fputs(text, f);
  CHECK(fclose(f) == 0);
}

static char *read_text(const char *name) {
  FILE *f = fopen(at(name), "r");
  CHECK(f != NULL);
  static char buf[1 << 16];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

/* ---- running a component ------------------------------------------------ */

static void test_log(const pipec_run_ctx *ctx, const char *fmt, ...) {
  (void)ctx;
  va_list ap;
  va_start(ap, fmt);
  fputs("   log: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static volatile int cancelled;
static char err[1024];

static pipec_named_value P_STR(const char *name, const char *s) {
  return (pipec_named_value){name, {.type = PIPEC_T_STRING, .u.s = s}};
}
static pipec_named_value P_INT(const char *name, int64_t i) {
  return (pipec_named_value){name, {.type = PIPEC_T_INT, .u.i = i}};
}
static pipec_named_value P_FLT(const char *name, double f) {
  return (pipec_named_value){name, {.type = PIPEC_T_FLOAT, .u.f = f}};
}
/* A list of column names (up to 8 lists alive at once). */
static pipec_named_value P_LIST(const char *name, int n, ...) {
  static pipec_value items[8][16];
  static int next;
  pipec_value *it = items[next++ % 8];
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++)
    it[i] = (pipec_value){.type = PIPEC_T_STRING, .u.s = va_arg(ap, char *)};
  va_end(ap);
  return (pipec_named_value){
      name, {.type = PIPEC_T_LIST, .u.list = {it, (uint32_t)n}}};
}

/* The value of a default literal: "[]", "1.0", "100", "\"\"". */
static pipec_value default_value(const pipec_param_desc *pd) {
  const char *lit = pd->default_literal;
  pipec_value v = {.type = pd->type};
  switch (pd->type) {
  case PIPEC_T_INT:
    v.u.i = strtoll(lit, NULL, 10);
    break;
  case PIPEC_T_FLOAT:
    v.u.f = strtod(lit, NULL);
    break;
  case PIPEC_T_BOOL:
    v.u.b = strcmp(lit, "true") == 0;
    break;
  case PIPEC_T_LIST:
    CHECK_STREQ(lit, "[]");
    break;
  default:
    CHECK_STREQ(lit, "\"\"");
    v.u.s = "";
  }
  return v;
}

/* Run component `name` with ports "port=file" (inputs then outputs, as
 * declared) and the given params; 0 or non-zero with err set. */
static int run(const char *name, const char *const *ports,
               const pipec_named_value *given, uint32_t n_given) {
  const pipec_component_desc *d = NULL;
  if (strcmp(name, "ml.linear_regression") == 0)
    d = &stdlib_ml_linear_regression;
  else if (strcmp(name, "ml.logistic_regression") == 0)
    d = &stdlib_ml_logistic_regression;
  else if (strcmp(name, "ml.kmeans") == 0)
    d = &stdlib_ml_kmeans;
  else if (strcmp(name, "ml.predict") == 0)
    d = &stdlib_ml_predict;
  else if (strcmp(name, "ml.metrics") == 0)
    d = &stdlib_ml_metrics;
  CHECK(d != NULL);
  pipec_named_path in[4], out[4];
  for (uint32_t i = 0; i < d->n_inputs; i++)
    in[i] = (pipec_named_path){d->inputs[i].name, at(ports[i])};
  for (uint32_t i = 0; i < d->n_outputs; i++)
    out[i] = (pipec_named_path){d->outputs[i].name,
                                at(ports[d->n_inputs + i])};
  pipec_named_value params[8];
  for (uint32_t i = 0; i < d->n_params; i++) {
    const pipec_param_desc *pd = &d->params[i];
    params[i].name = pd->name;
    bool found = false;
    for (uint32_t j = 0; j < n_given; j++)
      if (strcmp(given[j].name, pd->name) == 0)
        params[i].value = given[j].value, found = true;
    if (!found) {
      CHECK(pd->default_literal != NULL); /* a required param is missing */
      params[i].value = default_value(pd);
    }
  }
  pipec_run_ctx ctx = {
      .inputs = in, .n_inputs = d->n_inputs,
      .outputs = out, .n_outputs = d->n_outputs,
      .params = params, .n_params = d->n_params,
      .workdir = root, .log = test_log,
      .cancelled = (const volatile int *)&cancelled,
  };
  err[0] = 0;
  int rc = d->run(&ctx, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "   error: %s\n", err);
  return rc;
}

#define NP(a) (uint32_t)(sizeof(a) / sizeof(a)[0])

static ml_model load_model(const char *name) {
  ml_model m;
  char e[512] = "";
  if (ml_model_read(at(name), &m, e, sizeof e) != 0) {
    fprintf(stderr, "model: %s\n", e);
    CHECK(0);
  }
  return m;
}

/* Coefficient of feature `name` in m. */
static double coef(const ml_model *m, const char *name) {
  for (uint32_t j = 0; j < m->p; j++)
    if (strcmp(m->features[j], name) == 0)
      return m->coef[j];
  CHECK(0);
  return 0;
}

/* The number after "key": in a JSON text. */
static double json_num(const char *json, const char *key) {
  char pat[64];
  snprintf(pat, sizeof pat, "\"%s\": ", key);
  const char *p = strstr(json, pat);
  CHECK(p != NULL);
  return strtod(p + strlen(pat), NULL);
}

/* Field `col` (0-based) of data row `row` (0-based) of a simple CSV. */
static double csv_num(const char *text, int row, int col) {
  const char *p = strchr(text, '\n') + 1;
  for (int r = 0; r < row; r++)
    p = strchr(p, '\n') + 1;
  for (int c = 0; c < col; c++)
    p = strchr(p, ',') + 1;
  return strtod(p, NULL);
}

/* ---- numeric helpers ---------------------------------------------------- */

static void test_cholesky(void) {
  /* A = L L' with L = [2 0 0; 1 3 0; -1 2 1], x = (1, -2, 3) */
  double A[9] = {4, 2, -2, 2, 10, 5, -2, 5, 6};
  double b[3] = {4 * 1 + 2 * -2 + -2 * 3, 2 * 1 + 10 * -2 + 5 * 3,
                 -2 * 1 + 5 * -2 + 6 * 3};
  CHECK(ml_cholesky_solve(A, b, 3) == 0);
  CHECK_NEAR(b[0], 1, 1e-12);
  CHECK_NEAR(b[1], -2, 1e-12);
  CHECK_NEAR(b[2], 3, 1e-12);
  double S[4] = {1, 2, 2, 4}, c[2] = {1, 1}; /* singular */
  CHECK(ml_cholesky_solve(S, c, 2) != 0);
}

static void test_lstsq(void) {
  /* column-major 4 x 2; b = 2 a0 - a1 exactly */
  double A[8] = {1, 2, 3, 4, 1, -1, 2, 0.5};
  double b[4] = {2 - 1, 4 + 1, 6 - 2, 8 - 0.5};
  uint32_t bad = 99;
  CHECK(ml_lstsq(A, b, 4, 2, &bad, NULL) == 0);
  CHECK_NEAR(b[0], 2, 1e-13);
  CHECK_NEAR(b[1], -1, 1e-13);
  /* a line through (0,1), (1,3), (2,2), (3,5): slope 1.1, intercept 1.1 */
  double L[8] = {1, 1, 1, 1, 0, 1, 2, 3}, y[4] = {1, 3, 2, 5};
  CHECK(ml_lstsq(L, y, 4, 2, &bad, NULL) == 0);
  CHECK_NEAR(y[0], 1.1, 1e-13);
  CHECK_NEAR(y[1], 1.1, 1e-13);
  /* the third column is the sum of the first two */
  double D[9] = {1, 0, 2, 0, 1, 1, 1, 1, 3}, e[3] = {1, 2, 3};
  CHECK(ml_lstsq(D, e, 3, 3, &bad, NULL) != 0);
  CHECK_EQ(bad, 2);
}

static void test_model_file(void) {
  char *names[2] = {"plan b", "100%"};
  double coefs[2] = {0.25, -1.0 / 3.0};
  ml_model m = {.kind = ML_LOGISTIC, .label = "churned", .p = 2,
                .features = names, .coef = coefs, .intercept = 1e-300,
                .classes = {"no way", "yes"}};
  char e[512] = "";
  CHECK(ml_model_write(&m, at("m.model"), e, sizeof e) == 0);
  CHECK_CONTAINS(read_text("m.model"), "feature plan%20b 0.25\n");
  CHECK_CONTAINS(read_text("m.model"), "classes no%20way yes\n");
  ml_model r = load_model("m.model");
  CHECK(r.kind == ML_LOGISTIC);
  CHECK_STREQ(r.label, "churned");
  CHECK_STREQ(r.classes[0], "no way");
  CHECK_STREQ(r.classes[1], "yes");
  CHECK_EQ(r.p, 2);
  CHECK_STREQ(r.features[0], "plan b");
  CHECK_STREQ(r.features[1], "100%");
  CHECK(r.coef[1] == -1.0 / 3.0); /* %.17g reads back exactly */
  CHECK(r.intercept == 1e-300);
  CHECK_EQ(ml_class_of(&r, "yes"), 1);
  CHECK_EQ(ml_class_of(&r, "maybe"), -1);
  ml_model_free(&r);

  double cents[4] = {0, 1, 2.5, -3};
  ml_model k = {.kind = ML_KMEANS, .p = 2, .features = names, .coef = coefs,
                .k = 2, .centroids = cents};
  CHECK(ml_model_write(&k, at("k.model"), e, sizeof e) == 0);
  r = load_model("k.model");
  CHECK(r.kind == ML_KMEANS);
  CHECK_EQ(r.k, 2);
  CHECK(r.centroids[2] == 2.5 && r.centroids[3] == -3);
  ml_model_free(&r);

  /* strict reading */
  write_text("bad1.model", "pipec-model 1\nkind forest\n");
  CHECK(ml_model_read(at("bad1.model"), &r, e, sizeof e) != 0);
  CHECK_CONTAINS(e, "unknown model kind 'forest'");
  write_text("bad2.model", "pipec-model 1\nkind linear\nfeature x 1\n");
  CHECK(ml_model_read(at("bad2.model"), &r, e, sizeof e) != 0);
  CHECK_CONTAINS(e, "incomplete");
  write_text("bad3.model",
             "pipec-model 1\nkind linear\nintercept 1\nfeature x abc\n");
  CHECK(ml_model_read(at("bad3.model"), &r, e, sizeof e) != 0);
  CHECK_CONTAINS(e, ":4: malformed");
  write_text("bad4.model", "x,y\n1,2\n");
  CHECK(ml_model_read(at("bad4.model"), &r, e, sizeof e) != 0);
  CHECK_CONTAINS(e, "not a pipec model");
  /* a huge k is refused before its centres are allocated (fuzz_model) */
  write_text("bad5.model",
             "pipec-model 1\nkind kmeans\nfeature x 0\nk 4000000000\n");
  CHECK(ml_model_read(at("bad5.model"), &r, e, sizeof e) != 0);
  CHECK_CONTAINS(e, ":4: k 4000000000: the file cannot hold that many centres");
}

/* ---- linear regression -------------------------------------------------- */

static void test_linear_exact(void) {
  /* y = 1 + 2 a - 3 b exactly; `name` is skipped (not numeric) */
  write_text("lin.csv", "name,a,b,y\n"
                        "p,0,0,1\nq,1,0,3\nr,0,1,-2\ns,2,3,-4\nt,5,-1,14\n");
  const char *ports[] = {"lin.csv", "lin.model"};
  pipec_named_value ps[] = {P_STR("label", "y")};
  CHECK(run("ml.linear_regression", ports, ps, NP(ps)) == 0);
  ml_model m = load_model("lin.model");
  CHECK(m.kind == ML_LINEAR);
  CHECK_STREQ(m.label, "y");
  CHECK_EQ(m.p, 2);
  CHECK_STREQ(m.features[0], "a");
  CHECK_STREQ(m.features[1], "b");
  CHECK_NEAR(m.intercept, 1, 1e-12);
  CHECK_NEAR(coef(&m, "a"), 2, 1e-12);
  CHECK_NEAR(coef(&m, "b"), -3, 1e-12);
  ml_model_free(&m);
}

static void test_linear_reference(void) {
  /* scikit-learn 1.2.1 LinearRegression().fit(X, y) on these rows */
  write_text("lin2.csv", "x1,x2,y\n1,2,3.1\n2,1,2.9\n3,5,8.2\n4,2,5.1\n"
                         "5,7,12.3\n6,3,7.4\n");
  const char *ports[] = {"lin2.csv", "lin2.model"};
  pipec_named_value ps[] = {P_STR("label", "y"), P_LIST("features", 2, "x2",
                                                        "x1")};
  CHECK(run("ml.linear_regression", ports, ps, NP(ps)) == 0);
  ml_model m = load_model("lin2.model");
  CHECK_STREQ(m.features[0], "x2"); /* the order given */
  CHECK_NEAR(m.intercept, 0.1215533980582526, 1e-12);
  CHECK_NEAR(coef(&m, "x1"), 0.5949514563106799, 1e-12);
  CHECK_NEAR(coef(&m, "x2"), 1.2888349514563102, 1e-12);
  ml_model_free(&m);

  /* badly scaled and nearly collinear columns: still the exact solution
   * of y = 3 + 1e6 u - 2e-3 v */
  char buf[4096] = "u,v,y\n";
  for (int i = 0; i < 20; i++) {
    double u = 1e-3 * i, v = 1e4 * (i * 0.5 + (i % 3) * 1e-3);
    char row[128];
    snprintf(row, sizeof row, "%.17g,%.17g,%.17g\n", u, v,
             3 + 1e6 * u - 2e-3 * v);
    strcat(buf, row);
  }
  write_text("lin3.csv", buf);
  const char *ports3[] = {"lin3.csv", "lin3.model"};
  pipec_named_value ps3[] = {P_STR("label", "y")};
  CHECK(run("ml.linear_regression", ports3, ps3, NP(ps3)) == 0);
  m = load_model("lin3.model");
  CHECK_NEAR(coef(&m, "u") / 1e6, 1, 1e-7);
  CHECK_NEAR(coef(&m, "v") / -2e-3, 1, 1e-7);
  CHECK_NEAR(m.intercept, 3, 1e-6);
  ml_model_free(&m);
}

static void test_linear_errors(void) {
  write_text("e.csv", "a,b,c,y\n1,2,5,1\n2,4,5,2\n3,6,5,4\n4,8,5,3\n");
  const char *ports[] = {"e.csv", "e.model"};
  pipec_named_value unknown[] = {P_STR("label", "z")};
  CHECK(run("ml.linear_regression", ports, unknown, 1) != 0);
  CHECK_CONTAINS(err, "unknown column 'z'");
  CHECK_CONTAINS(err, "columns are a, b, c, y");
  pipec_named_value badfeat[] = {P_STR("label", "y"),
                                 P_LIST("features", 1, "q")};
  CHECK(run("ml.linear_regression", ports, badfeat, 2) != 0);
  CHECK_CONTAINS(err, "unknown column 'q'");
  pipec_named_value dup[] = {P_STR("label", "y"),
                             P_LIST("features", 2, "a", "b")};
  CHECK(run("ml.linear_regression", ports, dup, 2) != 0);
  CHECK_CONTAINS(err, "feature 'b' is a linear combination");
  pipec_named_value cons[] = {P_STR("label", "y"),
                              P_LIST("features", 2, "a", "c")};
  CHECK(run("ml.linear_regression", ports, cons, 2) != 0);
  CHECK_CONTAINS(err, "feature 'c' is constant");
  pipec_named_value self[] = {P_STR("label", "y"),
                              P_LIST("features", 1, "y")};
  CHECK(run("ml.linear_regression", ports, self, 2) != 0);
  CHECK_CONTAINS(err, "cannot also be a feature");

  write_text("nn.csv", "a,y\n1,2\n2,x3\n3,4\n");
  const char *ports2[] = {"nn.csv", "nn.model"};
  pipec_named_value ps[] = {P_STR("label", "y"), P_LIST("features", 1, "a")};
  CHECK(run("ml.linear_regression", ports2, ps, 2) != 0);
  CHECK_CONTAINS(err, "row 2: column 'y' is not a number ('x3'");
  write_text("null.csv", "a,y\n1,2\n,3\n3,4\n");
  const char *ports3[] = {"null.csv", "null.model"};
  CHECK(run("ml.linear_regression", ports3, ps, 2) != 0);
  CHECK_CONTAINS(err, "row 2: column 'a' is empty");
  write_text("few.csv", "a,y\n1,2\n");
  const char *ports4[] = {"few.csv", "few.model"};
  CHECK(run("ml.linear_regression", ports4, ps, 2) != 0);
  CHECK_CONTAINS(err, "1 rows cannot fit 1 feature");
}

/* ---- logistic regression ------------------------------------------------ */

static const char *logit_rows = "x1,x2,y\n"
                                "0.5,1.0,0\n1.5,-0.5,0\n2.0,0.3,1\n"
                                "3.0,1.2,0\n3.5,-1.0,1\n4.0,0.8,1\n"
                                "5.0,0.0,1\n1.0,2.0,0\n2.5,-2.0,0\n"
                                "4.5,1.5,1\n";

/* The gradient of the objective at m's solution is zero:
 *   sum (p_i - y_i) = 0,  sum (p_i - y_i) x_ij + l2 w_j = 0. */
static void check_optimal(const ml_model *m, const double *X, const double *y,
                          int n, double l2, double tol) {
  double g[3] = {0, 0, 0};
  for (int i = 0; i < n; i++) {
    double p;
    ml_predict(m, X + 2 * i, 1, &p);
    g[0] += p - y[i];
    g[1] += (p - y[i]) * X[2 * i];
    g[2] += (p - y[i]) * X[2 * i + 1];
  }
  CHECK_NEAR(g[0], 0, tol);
  CHECK_NEAR(g[1] + l2 * m->coef[0], 0, tol);
  CHECK_NEAR(g[2] + l2 * m->coef[1], 0, tol);
}

static void test_logistic_fit(void) {
  write_text("lg.csv", logit_rows);
  static const double X[20] = {0.5, 1.0, 1.5, -0.5, 2.0, 0.3, 3.0, 1.2,
                               3.5, -1.0, 4.0, 0.8, 5.0, 0.0, 1.0, 2.0,
                               2.5, -2.0, 4.5, 1.5};
  static const double y[10] = {0, 0, 1, 0, 1, 1, 1, 0, 0, 1};
  const char *ports[] = {"lg.csv", "lg.model"};
  /* defaults: every numeric column but the label, l2 = 1 (sklearn C = 1) */
  pipec_named_value ps[] = {P_STR("label", "y")};
  CHECK(run("ml.logistic_regression", ports, ps, NP(ps)) == 0);
  ml_model m = load_model("lg.model");
  CHECK(m.kind == ML_LOGISTIC);
  CHECK_STREQ(m.classes[0], "0");
  CHECK_STREQ(m.classes[1], "1");
  check_optimal(&m, X, y, 10, 1.0, 1e-12);
  /* the exact optimum (Newton's method in numpy to a zero gradient);
   * scikit-learn 1.2.1's LogisticRegression(C=1) agrees to ~1e-6, its
   * lbfgs stops at -2.925959933646113, 1.0614405363301385 */
  CHECK_NEAR(m.intercept, -2.9259609280016314, 1e-10);
  CHECK_NEAR(coef(&m, "x1"), 1.0614402711732134, 1e-10);
  CHECK_NEAR(coef(&m, "x2"), 0.05874509152063882, 1e-10);
  CHECK_NEAR(m.intercept, -2.925959933646113, 1e-5);
  ml_model_free(&m);

  pipec_named_value ps2[] = {P_STR("label", "y"), P_FLT("l2", 2.0)};
  CHECK(run("ml.logistic_regression", ports, ps2, NP(ps2)) == 0);
  m = load_model("lg.model");
  check_optimal(&m, X, y, 10, 2.0, 1e-12);
  CHECK_NEAR(m.intercept, -2.2973977737394145, 1e-10); /* C = 0.5 */
  CHECK_NEAR(coef(&m, "x1"), 0.832619890986011, 1e-10);
  ml_model_free(&m);

  /* the same data with x1 in thousandths: the penalty is on the original
   * scale, so this is a different problem; it must still be optimal */
  char buf[1024] = "x1,x2,y\n";
  double Xs[20];
  for (int i = 0; i < 10; i++) {
    Xs[2 * i] = X[2 * i] * 1000, Xs[2 * i + 1] = X[2 * i + 1];
    char row[64];
    snprintf(row, sizeof row, "%g,%g,%d\n", Xs[2 * i], Xs[2 * i + 1],
             (int)y[i]);
    strcat(buf, row);
  }
  write_text("lgs.csv", buf);
  const char *ports3[] = {"lgs.csv", "lgs.model"};
  CHECK(run("ml.logistic_regression", ports3, ps, NP(ps)) == 0);
  m = load_model("lgs.model");
  check_optimal(&m, Xs, y, 10, 1.0, 1e-9); /* x1 ~ 5000 */
  ml_model_free(&m);
}

static void test_logistic_labels(void) {
  /* separable, symmetric: x < 0 is "no", x > 0 "yes" ("yes" > "no") */
  write_text("sep.csv", "x,answer\n-2,no\n-1,no\n-0.5,no\n0.5,yes\n1,yes\n"
                        "2,yes\n");
  const char *ports[] = {"sep.csv", "sep.model"};
  pipec_named_value ps[] = {P_STR("label", "answer")};
  CHECK(run("ml.logistic_regression", ports, ps, NP(ps)) == 0);
  ml_model m = load_model("sep.model");
  CHECK_STREQ(m.classes[0], "no");
  CHECK_STREQ(m.classes[1], "yes");
  CHECK_NEAR(m.intercept, 0, 1e-12); /* by symmetry */
  CHECK(coef(&m, "x") > 0);
  ml_model_free(&m);
  /* predict on the training rows: every row right */
  const char *pports[] = {"sep.model", "sep.csv", "sep.pred.csv"};
  CHECK(run("ml.predict", pports, NULL, 0) == 0);
  const char *out = read_text("sep.pred.csv");
  CHECK(strncmp(out, "x,answer,prediction,probability\n", 32) == 0);
  CHECK_CONTAINS(out, "\n-2,no,no,");
  CHECK_CONTAINS(out, "\n-0.5,no,no,");
  CHECK_CONTAINS(out, "\n0.5,yes,yes,");
  CHECK_CONTAINS(out, "\n2,yes,yes,");
  CHECK(csv_num(out, 5, 3) > 0.5 && csv_num(out, 0, 3) < 0.5);
  CHECK_NEAR(csv_num(out, 0, 3) + csv_num(out, 5, 3), 1, 1e-12);

  /* true/false: true is class 1 whatever comes first */
  write_text("tf.csv", "x,ok\n3,true\n1,false\n2,false\n4,true\n");
  const char *tports[] = {"tf.csv", "tf.model"};
  pipec_named_value tps[] = {P_STR("label", "ok")};
  CHECK(run("ml.logistic_regression", tports, tps, NP(tps)) == 0);
  m = load_model("tf.model");
  CHECK_STREQ(m.classes[1], "true");
  CHECK(coef(&m, "x") > 0);
  ml_model_free(&m);
  /* numbers: the larger is class 1 (by value, not text: 10 > 9) */
  write_text("num.csv", "x,c\n3,10\n1,9\n2,9\n4,10\n");
  const char *nports[] = {"num.csv", "num.model"};
  pipec_named_value nps[] = {P_STR("label", "c")};
  CHECK(run("ml.logistic_regression", nports, nps, NP(nps)) == 0);
  m = load_model("num.model");
  CHECK_STREQ(m.classes[1], "10");
  ml_model_free(&m);

  write_text("one.csv", "x,c\n1,a\n2,a\n");
  const char *oports[] = {"one.csv", "one.model"};
  CHECK(run("ml.logistic_regression", oports, nps, NP(nps)) != 0);
  CHECK_CONTAINS(err, "single value ('a')");
  write_text("three.csv", "x,c\n1,a\n2,b\n3,c\n");
  const char *t3[] = {"three.csv", "three.model"};
  CHECK(run("ml.logistic_regression", t3, nps, NP(nps)) != 0);
  CHECK_CONTAINS(err, "more than two values");
  pipec_named_value neg[] = {P_STR("label", "c"), P_FLT("l2", -1)};
  CHECK(run("ml.logistic_regression", nports, neg, NP(neg)) != 0);
  CHECK_CONTAINS(err, "l2 must be");
}

/* ---- k-means ------------------------------------------------------------ */

static void test_kmeans(void) {
  /* three obvious groups (and a text column that is not a feature) */
  write_text("pts.csv", "id,x,y\n"
                        "a,0,0\nb,1,0\nc,0,1\n"           /* mean 1/3,1/3 */
                        "d,10,10\ne,11,10\nf,10,11\ng,11,11\n" /* 10.5 */
                        "h,-10,20\ni,-10,22\n");          /* -10, 21 */
  const char *ports[] = {"pts.csv", "km.model", "km.csv"};
  pipec_named_value ps[] = {P_INT("k", 3), P_INT("seed", 7)};
  CHECK(run("ml.kmeans", ports, ps, NP(ps)) == 0);
  const char *out = read_text("km.csv");
  CHECK(strncmp(out, "id,x,y,cluster\na,0,0,", 21) == 0);
  int cl[9];
  for (int i = 0; i < 9; i++)
    cl[i] = (int)csv_num(out, i, 3);
  CHECK(cl[0] == cl[1] && cl[1] == cl[2]);
  CHECK(cl[3] == cl[4] && cl[4] == cl[5] && cl[5] == cl[6]);
  CHECK(cl[7] == cl[8]);
  CHECK(cl[0] != cl[3] && cl[0] != cl[7] && cl[3] != cl[7]);
  ml_model m = load_model("km.model");
  CHECK(m.kind == ML_KMEANS);
  CHECK_EQ(m.k, 3);
  CHECK_EQ(m.p, 2);
  CHECK_NEAR(m.centroids[cl[0] * 2], 1.0 / 3, 1e-12);
  CHECK_NEAR(m.centroids[cl[3] * 2 + 1], 10.5, 1e-12);
  CHECK_NEAR(m.centroids[cl[7] * 2 + 1], 21, 1e-12);
  ml_model_free(&m);
  /* inertia: 4/3 + 4 * 0.5 + 2 */
  const char *mports[] = {"km.model", "pts.csv", "km.json"};
  CHECK(run("ml.metrics", mports, NULL, 0) == 0);
  const char *js = read_text("km.json");
  CHECK_CONTAINS(js, "\"kind\": \"kmeans\"");
  CHECK_NEAR(json_num(js, "inertia"), 4.0 / 3 + 2 + 2, 1e-12);
  CHECK_NEAR(json_num(js, "n"), 9, 0);
  /* predict gives the same clusters */
  const char *pports[] = {"km.model", "pts.csv", "kmp.csv"};
  CHECK(run("ml.predict", pports, NULL, 0) == 0);
  out = read_text("kmp.csv");
  for (int i = 0; i < 9; i++)
    CHECK_EQ((int)csv_num(out, i, 3), cl[i]);

  /* the same seed gives the same file */
  char first[4096];
  snprintf(first, sizeof first, "%s", read_text("km.csv"));
  CHECK(run("ml.kmeans", ports, ps, NP(ps)) == 0);
  CHECK_STREQ(read_text("km.csv"), first);

  pipec_named_value big[] = {P_INT("k", 10)};
  CHECK(run("ml.kmeans", ports, big, 1) != 0);
  CHECK_CONTAINS(err, "number of rows (9)");
  pipec_named_value nofeat[] = {P_INT("k", 2), P_LIST("features", 1, "id")};
  CHECK(run("ml.kmeans", ports, nofeat, 2) != 0);
  CHECK_CONTAINS(err, "row 1: column 'id' is not a number ('a'");
  const char *again[] = {"km.csv", "km2.model", "km2.csv"};
  CHECK(run("ml.kmeans", again, ps, NP(ps)) != 0);
  CHECK_CONTAINS(err, "already has a 'cluster' column");
  cancelled = 1;
  CHECK(run("ml.kmeans", ports, ps, NP(ps)) != 0);
  cancelled = 0;
}

/* ---- predict and metrics on known predictions ---------------------------- */

static void test_metrics_regressor(void) {
  /* prediction 1 + 2x: 1, 3, 5, 7 against 1, 4, 4, 8 */
  write_text("r.model", "pipec-model 1\nkind linear\nlabel y\nintercept 1\n"
                        "feature x 2\n");
  write_text("r.csv", "x,y\n0,1\n1,4\n2,4\n3,8\n");
  const char *ports[] = {"r.model", "r.csv", "r.json"};
  CHECK(run("ml.metrics", ports, NULL, 0) == 0);
  const char *js = read_text("r.json");
  CHECK_CONTAINS(js, "\"kind\": \"regressor\"");
  CHECK_NEAR(json_num(js, "rmse"), sqrt(0.75), 1e-15);
  CHECK_NEAR(json_num(js, "mae"), 0.75, 1e-15);
  CHECK_NEAR(json_num(js, "r2"), 1 - 3 / 24.75, 1e-15);
  CHECK_NEAR(json_num(js, "n"), 4, 0);
  const char *pports[] = {"r.model", "r.csv", "r.pred.csv"};
  CHECK(run("ml.predict", pports, NULL, 0) == 0);
  CHECK_STREQ(read_text("r.pred.csv"),
              "x,y,prediction\n0,1,1\n1,4,3\n2,4,5\n3,8,7\n");
  /* another label column, and a missing feature */
  write_text("r2.csv", "x,truth\n0,1\n1,3\n");
  const char *ports2[] = {"r.model", "r2.csv", "r2.json"};
  pipec_named_value lab[] = {P_STR("label", "truth")};
  CHECK(run("ml.metrics", ports2, lab, 1) == 0);
  CHECK_NEAR(json_num(read_text("r2.json"), "r2"), 1, 0);
  write_text("r3.csv", "z,y\n0,1\n");
  const char *ports3[] = {"r.model", "r3.csv", "r3.json"};
  CHECK(run("ml.metrics", ports3, NULL, 0) != 0);
  CHECK_CONTAINS(err, "unknown column 'x'");
  CHECK_CONTAINS(err, "columns are z, y");
}

static void test_metrics_classifier(void) {
  /* probability sigmoid(z); scores tie across classes at -0.5 and 0.4 */
  write_text("c.model", "pipec-model 1\nkind logistic\nlabel y\n"
                        "classes 0 1\nintercept 0\nfeature z 1\n");
  write_text("c.csv", "z,y\n-2,0\n1.5,1\n-0.5,1\n-0.5,0\n2,1\n0.4,0\n0.4,1\n"
                      "5,1\n");
  const char *ports[] = {"c.model", "c.csv", "c.json"};
  CHECK(run("ml.metrics", ports, NULL, 0) == 0);
  const char *js = read_text("c.json");
  CHECK_CONTAINS(js, "\"kind\": \"classifier\"");
  /* tp 4, fp 1, fn 1, tn 2 */
  CHECK_NEAR(json_num(js, "accuracy"), 0.75, 1e-15);
  CHECK_NEAR(json_num(js, "precision"), 0.8, 1e-15);
  CHECK_NEAR(json_num(js, "recall"), 0.8, 1e-15);
  CHECK_NEAR(json_num(js, "f1"), 0.8, 1e-15);
  /* 13 of 15 positive-negative pairs ordered, ties counting 1/2 */
  CHECK_NEAR(json_num(js, "roc_auc"), 13.0 / 15, 1e-15);
  /* sklearn.metrics.log_loss(y, p) */
  CHECK_NEAR(json_num(js, "log_loss"), 0.41702114021474174, 1e-12);
  CHECK_NEAR(json_num(js, "n"), 8, 0);

  /* a certain wrong prediction: log loss clipped at eps = 2^-52 */
  write_text("w.csv", "z,y\n-1000,1\n1000,0\n");
  const char *wports[] = {"c.model", "w.csv", "w.json"};
  CHECK(run("ml.metrics", wports, NULL, 0) == 0);
  js = read_text("w.json");
  CHECK_NEAR(json_num(js, "log_loss"), -log(2.220446049250313e-16), 1e-9);
  CHECK_NEAR(json_num(js, "accuracy"), 0, 0);
  CHECK_NEAR(json_num(js, "precision"), 0, 0); /* zero_division = 0 */
  CHECK_NEAR(json_num(js, "roc_auc"), 0, 0);

  /* labels written differently still match the classes */
  write_text("f.csv", "z,y\n-1,0.0\n1,1.0\n");
  const char *fports[] = {"c.model", "f.csv", "f.json"};
  CHECK(run("ml.metrics", fports, NULL, 0) == 0);
  CHECK_NEAR(json_num(read_text("f.json"), "accuracy"), 1, 0);
  write_text("u.csv", "z,y\n-1,0\n1,maybe\n");
  const char *uports[] = {"c.model", "u.csv", "u.json"};
  CHECK(run("ml.metrics", uports, NULL, 0) != 0);
  CHECK_CONTAINS(err, "row 2: label 'maybe' is neither '0' nor '1'");
  /* one class only: roc_auc is undefined (null) */
  write_text("o.csv", "z,y\n-1,0\n1,0\n");
  const char *oports[] = {"c.model", "o.csv", "o.json"};
  CHECK(run("ml.metrics", oports, NULL, 0) == 0);
  CHECK_CONTAINS(read_text("o.json"), "\"roc_auc\": null");
  /* predict's columns must be new */
  write_text("p.csv", "z,prediction\n1,2\n");
  const char *pports[] = {"c.model", "p.csv", "p.out.csv"};
  CHECK(run("ml.predict", pports, NULL, 0) != 0);
  CHECK_CONTAINS(err, "already has a 'prediction' column");
}

/* The declared ports and params (the language sees these). */
static void test_descriptors(void) {
  const pipec_component_desc *all[] = {
      &stdlib_ml_kmeans, &stdlib_ml_linear_regression,
      &stdlib_ml_logistic_regression, &stdlib_ml_metrics, &stdlib_ml_predict};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
    CHECK_EQ(all[i]->abi_version, PIPEC_ABI_VERSION);
    CHECK(all[i]->run != NULL);
    CHECK(strncmp(all[i]->name, "ml.", 3) == 0);
  }
  CHECK_STREQ(stdlib_ml_logistic_regression.params[2].name, "l2");
  CHECK_STREQ(stdlib_ml_logistic_regression.params[2].default_literal, "1.0");
  CHECK_STREQ(stdlib_ml_logistic_regression.params[3].default_literal, "100");
  CHECK(stdlib_ml_kmeans.params[0].default_literal == NULL); /* k */
  CHECK_STREQ(stdlib_ml_kmeans.params[4].name, "n_init");
  CHECK_STREQ(stdlib_ml_kmeans.outputs[1].name, "assignments");
}

int main(void) {
  const char *t = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/pipec-ml-XXXXXX", t && *t ? t : "/tmp");
  CHECK(mkdtemp(root) != NULL);
  RUN(test_cholesky);
  RUN(test_lstsq);
  RUN(test_model_file);
  RUN(test_linear_exact);
  RUN(test_linear_reference);
  RUN(test_linear_errors);
  RUN(test_logistic_fit);
  RUN(test_logistic_labels);
  RUN(test_kmeans);
  RUN(test_metrics_regressor);
  RUN(test_metrics_classifier);
  RUN(test_descriptors);
  nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}

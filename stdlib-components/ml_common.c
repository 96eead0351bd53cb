/*
 * ml_common.c — matrices, labels, model files and prediction for the ml.*
 * components (ml_common.h).
 */
#include "ml_common.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "comp_util.h"

void ml_model_free(ml_model *m) {
  for (uint32_t i = 0; m->features && i < m->p; i++)
    free(m->features[i]);
  free(m->features);
  free(m->label);
  free(m->classes[0]);
  free(m->classes[1]);
  free(m->coef);
  free(m->centroids);
  memset(m, 0, sizeof *m);
}

/* Names without blanks: ' ' -> %20, '%' -> %25, newline -> %0A. */
static void put_name(FILE *f, const char *s) {
  for (; *s; s++)
    if (*s == ' ')
      fputs("%20", f);
    else if (*s == '%')
      fputs("%25", f);
    else if (*s == '\n')
      fputs("%0A", f);
    else
      fputc(*s, f);
}

static char *get_name(const char *s) {
  char *out = malloc(strlen(s) + 1), *o = out;
  if (!out)
    return NULL;
  for (; *s; s++) {
    if (*s == '%' && s[1] && s[2]) {
      char hex[3] = {s[1], s[2], 0};
      *o++ = (char)strtol(hex, NULL, 16);
      s += 2;
    } else {
      *o++ = *s;
    }
  }
  *o = 0;
  return out;
}

int ml_model_write(const ml_model *m, const char *path, char *err,
                   size_t errlen) {
  FILE *f = fopen(path, "w");
  if (!f)
    return cu_fail(err, errlen, "cannot create %s: %s", path,
                   strerror(errno));
  static const char *const kinds[] = {"linear", "logistic", "kmeans"};
  fprintf(f, "pipec-model 1\nkind %s\n", kinds[m->kind]);
  if (m->label) {
    fputs("label ", f);
    put_name(f, m->label);
    fputc('\n', f);
  }
  if (m->kind == ML_LOGISTIC) {
    fputs("classes ", f);
    put_name(f, m->classes[0]);
    fputc(' ', f);
    put_name(f, m->classes[1]);
    fputc('\n', f);
  }
  if (m->kind != ML_KMEANS)
    fprintf(f, "intercept %.17g\n", m->intercept);
  for (uint32_t j = 0; j < m->p; j++) {
    fputs("feature ", f);
    put_name(f, m->features[j]);
    fprintf(f, " %.17g\n", m->kind == ML_KMEANS ? 0.0 : m->coef[j]);
  }
  if (m->kind == ML_KMEANS) {
    fprintf(f, "k %u\n", m->k);
    for (uint32_t c = 0; c < m->k; c++) {
      fprintf(f, "centroid %u", c);
      for (uint32_t j = 0; j < m->p; j++)
        fprintf(f, " %.17g", m->centroids[(size_t)c * m->p + j]);
      fputc('\n', f);
    }
  }
  if (fclose(f) != 0)
    return cu_fail(err, errlen, "writing %s: %s", path, strerror(errno));
  return 0;
}

/* A number filling all of s (after blanks), into *out. */
static bool parse_num(const char *s, double *out) {
  char *end;
  errno = 0;
  *out = strtod(s, &end);
  return end != s && *end == 0 && errno != ERANGE;
}

int ml_model_read(const char *path, ml_model *m, char *err, size_t errlen) {
  memset(m, 0, sizeof *m);
  FILE *f = fopen(path, "r");
  if (!f)
    return cu_fail(err, errlen, "cannot open the model %s: %s", path,
                   strerror(errno));
  /* every centroid value takes at least 2 bytes of the file: that bounds
   * k before its centroids are allocated */
  struct stat st;
  uint64_t max_values = fstat(fileno(f), &st) == 0 ? (uint64_t)st.st_size / 2 : 0;
  char *line = NULL;
  size_t cap_line = 0;
  int lineno = 0, rc = 0, kind = -1;
  uint32_t cap = 0, ncentroids = 0;
  bool have_intercept = false, said = false; /* said: err is written */
  while (rc == 0 && getline(&line, &cap_line, f) >= 0) {
    lineno++;
    line[strcspn(line, "\r\n")] = 0;
    char *sp = strchr(line, ' ');
    char *rest = sp ? sp + 1 : line + strlen(line);
    if (sp)
      *sp = 0;
    if (lineno == 1) {
      if (strcmp(line, "pipec-model") != 0 || strcmp(rest, "1") != 0)
        rc = cu_fail(err, errlen, "%s is not a pipec model (version 1)",
                     path), said = true;
    } else if (strcmp(line, "kind") == 0) {
      kind = strcmp(rest, "linear") == 0     ? ML_LINEAR
             : strcmp(rest, "logistic") == 0 ? ML_LOGISTIC
             : strcmp(rest, "kmeans") == 0   ? ML_KMEANS
                                             : -1;
      if (kind < 0)
        rc = cu_fail(err, errlen, "%s:%d: unknown model kind '%s'", path,
                     lineno, rest), said = true;
      else
        m->kind = (ml_kind)kind;
    } else if (strcmp(line, "label") == 0) {
      free(m->label);
      m->label = get_name(rest);
    } else if (strcmp(line, "classes") == 0) {
      char *b = strchr(rest, ' ');
      if (!b || m->classes[0])
        rc = -1;
      else {
        *b = 0;
        m->classes[0] = get_name(rest);
        m->classes[1] = get_name(b + 1);
      }
    } else if (strcmp(line, "intercept") == 0) {
      rc = parse_num(rest, &m->intercept) ? 0 : -1;
      have_intercept = true;
    } else if (strcmp(line, "feature") == 0) {
      char *b = strrchr(rest, ' ');
      if (!b || m->centroids) {
        rc = -1;
        break;
      }
      *b = 0;
      if (m->p == cap) {
        cap = cap ? cap * 2 : 8;
        m->features = realloc(m->features, cap * sizeof *m->features);
        m->coef = realloc(m->coef, cap * sizeof *m->coef);
        if (!m->features || !m->coef)
          abort();
      }
      m->features[m->p] = get_name(rest);
      if (!parse_num(b + 1, &m->coef[m->p++]))
        rc = -1;
    } else if (strcmp(line, "k") == 0) {
      char *end;
      unsigned long k = strtoul(rest, &end, 10);
      if (m->centroids || m->p == 0 || end == rest || *end || k == 0 ||
          k > UINT32_MAX)
        rc = -1;
      else if ((uint64_t)k * m->p > max_values)
        rc = cu_fail(err, errlen, "%s:%d: k %lu: the file cannot hold that "
                     "many centres", path, lineno, k), said = true;
      else {
        m->k = (uint32_t)k;
        m->centroids = calloc((size_t)m->k * m->p, sizeof(double));
        if (!m->centroids)
          abort();
      }
    } else if (strcmp(line, "centroid") == 0) {
      char *q = rest;
      unsigned long c = strtoul(q, &q, 10);
      if (!m->centroids || c != ncentroids || c >= m->k) {
        rc = -1;
        break;
      }
      for (uint32_t j = 0; j < m->p && rc == 0; j++) {
        char *end;
        m->centroids[c * m->p + j] = strtod(q, &end);
        if (end == q)
          rc = -1;
        q = end;
      }
      if (*q)
        rc = -1;
      ncentroids++;
    } else if (line[0]) {
      rc = cu_fail(err, errlen, "%s:%d: unknown model line '%s'", path,
                   lineno, line), said = true;
    }
  }
  free(line);
  fclose(f);
  if (rc == 0) {
    /* everything its kind needs */
    bool ok = kind >= 0 && m->p > 0;
    if (ok && m->kind == ML_KMEANS)
      ok = m->k > 0 && ncentroids == m->k;
    else if (ok)
      ok = have_intercept && (m->kind != ML_LOGISTIC || m->classes[0]);
    if (!ok)
      rc = cu_fail(err, errlen, "%s: incomplete model file", path),
      said = true;
  }
  if (rc != 0) {
    if (!said)
      cu_fail(err, errlen, "%s:%d: malformed model file", path, lineno);
    ml_model_free(m);
    return -1;
  }
  return 0;
}

static bool numeric(csv_type t) {
  return t == CSV_INT || t == CSV_FLOAT || t == CSV_BOOL;
}

uint32_t *ml_feature_cols(const pipec_run_ctx *ctx, const csv_table *t,
                          int skip, uint32_t *p, char *err, size_t errlen) {
  uint32_t n;
  uint32_t *cols = cu_cols(ctx, "features", t->names, t->ncols, false, &n,
                           err, errlen);
  if (!cols)
    return NULL;
  if (n == 0) {
    for (uint32_t c = 0; c < t->ncols; c++)
      if ((int)c != skip && numeric(t->types[c]))
        cols[n++] = c;
    if (n == 0) {
      free(cols);
      cu_fail(err, errlen, "no numeric column to use as a feature; give "
                           "features = [...]");
      return NULL;
    }
  }
  for (uint32_t i = 0; i < n; i++)
    if ((int)cols[i] == skip) {
      cu_fail(err, errlen, "the label '%s' cannot also be a feature",
              t->names[skip]);
      free(cols);
      return NULL;
    }
  *p = n;
  return cols;
}

uint32_t *ml_cols_by_name(const csv_table *t, char *const *names, uint32_t p,
                          char *err, size_t errlen) {
  uint32_t *cols = calloc(p + 1, sizeof *cols);
  for (uint32_t j = 0; cols && j < p; j++) {
    int c = cu_col(t->names, t->ncols, names[j], "the input (the model needs it)",
                   err, errlen);
    if (c < 0) {
      free(cols);
      return NULL;
    }
    cols[j] = (uint32_t)c;
  }
  return cols;
}

double *ml_matrix(const csv_table *t, const uint32_t *cols, uint32_t p,
                  char *err, size_t errlen) {
  double *X = malloc((t->nrows * p + 1) * sizeof *X);
  if (!X) {
    cu_fail(err, errlen, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < t->nrows; i++)
    for (uint32_t j = 0; j < p; j++) {
      const csv_cell *c = csv_table_cell(t, i, cols[j]);
      const char *s = t->text + c->off;
      double v;
      bool b;
      if (c->null) {
        cu_fail(err, errlen, "row %zu: column '%s' is empty (fill it with "
                             "table.fill_missing first)",
                i + 1, t->names[cols[j]]);
        free(X);
        return NULL;
      }
      if (csv_parse_double(s, c->len, &v))
        X[i * p + j] = v;
      else if (csv_parse_bool(s, c->len, &b))
        X[i * p + j] = b;
      else {
        cu_fail(err, errlen, "row %zu: column '%s' is not a number ('%.40s'"
                             "; encode it with table.one_hot first)",
                i + 1, t->names[cols[j]], s);
        free(X);
        return NULL;
      }
    }
  return X;
}

double *ml_binary_labels(const csv_table *t, uint32_t c, char *classes[2],
                         char *err, size_t errlen) {
  const char *a = NULL, *b = NULL;
  for (size_t i = 0; i < t->nrows; i++) {
    const csv_cell *cell = csv_table_cell(t, i, c);
    const char *s = t->text + cell->off;
    if (cell->null) {
      cu_fail(err, errlen, "row %zu: the label '%s' is empty", i + 1,
              t->names[c]);
      return NULL;
    }
    if (!a || strcmp(a, s) == 0)
      a = s;
    else if (!b || strcmp(b, s) == 0)
      b = s;
    else {
      cu_fail(err, errlen, "the label '%s' has more than two values ('%s', "
                           "'%s', '%s'); logistic regression is binary",
              t->names[c], a, b, s);
      return NULL;
    }
  }
  if (!b) {
    cu_fail(err, errlen, "the label '%s' has a single value%s%s%s; a "
                         "classifier needs two",
            t->names[c], a ? " ('" : "", a ? a : "", a ? "')" : "");
    return NULL;
  }
  /* class 1: the larger number, true, or the later string */
  double da, db;
  bool ba, bb, a_first;
  if (csv_parse_double(a, strlen(a), &da) &&
      csv_parse_double(b, strlen(b), &db))
    a_first = da < db;
  else if (csv_parse_bool(a, strlen(a), &ba) &&
           csv_parse_bool(b, strlen(b), &bb))
    a_first = !ba;
  else
    a_first = strcmp(a, b) < 0;
  classes[0] = strdup(a_first ? a : b);
  classes[1] = strdup(a_first ? b : a);
  double *y = malloc((t->nrows + 1) * sizeof *y);
  if (!y)
    abort();
  for (size_t i = 0; i < t->nrows; i++)
    y[i] = strcmp(csv_table_str(t, i, c), classes[1]) == 0;
  return y;
}

int ml_class_of(const ml_model *m, const char *s) {
  for (int c = 0; c < 2; c++)
    if (strcmp(s, m->classes[c]) == 0)
      return c;
  double v, cv;
  bool b, cb;
  size_t n = strlen(s);
  for (int c = 0; c < 2; c++) {
    const char *k = m->classes[c];
    if (csv_parse_double(s, n, &v) && csv_parse_double(k, strlen(k), &cv) &&
        v == cv)
      return c;
    if (csv_parse_bool(s, n, &b) && csv_parse_bool(k, strlen(k), &cb) &&
        b == cb)
      return c;
  }
  return -1;
}

int ml_cholesky_solve(double *A, double *b, uint32_t n) {
  for (uint32_t j = 0; j < n; j++) {
    double d = A[(size_t)j * n + j];
    for (uint32_t k = 0; k < j; k++)
      d -= A[(size_t)j * n + k] * A[(size_t)j * n + k];
    if (!(d > 0))
      return -1;
    d = sqrt(d);
    A[(size_t)j * n + j] = d;
    for (uint32_t i = j + 1; i < n; i++) {
      double s = A[(size_t)i * n + j];
      for (uint32_t k = 0; k < j; k++)
        s -= A[(size_t)i * n + k] * A[(size_t)j * n + k];
      A[(size_t)i * n + j] = s / d;
    }
  }
  for (uint32_t i = 0; i < n; i++) { /* L y = b */
    double s = b[i];
    for (uint32_t k = 0; k < i; k++)
      s -= A[(size_t)i * n + k] * b[k];
    b[i] = s / A[(size_t)i * n + i];
  }
  for (uint32_t i = n; i-- > 0;) { /* L^T x = y */
    double s = b[i];
    for (uint32_t k = i + 1; k < n; k++)
      s -= A[(size_t)k * n + i] * b[k];
    b[i] = s / A[(size_t)i * n + i];
  }
  return 0;
}

int ml_lstsq(double *A, double *b, size_t n, uint32_t p, uint32_t *bad,
             const volatile int *stop) {
  double *diag = malloc((p + 1) * sizeof *diag);
  if (!diag)
    abort();
  for (uint32_t j = 0; j < p; j++) {
    if (stop && *stop) {
      free(diag);
      return -2;
    }
    double *a = A + (size_t)j * n;
    /* norms scaled by the largest entry, so squares cannot overflow */
    double scale = 0, orig = 0, norm = 0;
    for (size_t i = 0; i < n; i++)
      scale = fmax(scale, fabs(a[i]));
    if (scale > 0) {
      for (size_t i = 0; i < n; i++)
        orig += (a[i] / scale) * (a[i] / scale);
      for (size_t i = j; i < n; i++)
        norm += (a[i] / scale) * (a[i] / scale);
    }
    orig = sqrt(orig) * scale;
    norm = sqrt(norm) * scale;
    /* what is left of column j after removing the earlier columns */
    if (!(norm > 1e-10 * orig)) {
      *bad = j;
      free(diag);
      return -1;
    }
    /* Householder vector v = a[j..n) - alpha e1, reflecting onto alpha e1 */
    double alpha = a[j] > 0 ? -norm : norm;
    a[j] -= alpha;
    double vtv = 0;
    for (size_t i = j; i < n; i++)
      vtv += a[i] * a[i];
    for (uint32_t k = j + 1; k <= p; k++) { /* k == p: b */
      double *c = k < p ? A + (size_t)k * n : b, s = 0;
      for (size_t i = j; i < n; i++)
        s += a[i] * c[i];
      s = 2 * s / vtv;
      for (size_t i = j; i < n; i++)
        c[i] -= s * a[i];
    }
    diag[j] = alpha;
  }
  /* R x = (Q'b)[0..p): R's diagonal in diag, above it in A */
  for (uint32_t j = p; j-- > 0;) {
    double s = b[j];
    for (uint32_t k = j + 1; k < p; k++)
      s -= A[(size_t)k * n + j] * b[k];
    b[j] = s / diag[j];
  }
  free(diag);
  return 0;
}

void ml_predict(const ml_model *m, const double *X, size_t n, double *out) {
  for (size_t i = 0; i < n; i++) {
    const double *x = X + i * m->p;
    if (m->kind == ML_KMEANS) {
      double best = INFINITY;
      uint32_t arg = 0;
      for (uint32_t c = 0; c < m->k; c++) {
        double d = 0;
        for (uint32_t j = 0; j < m->p; j++) {
          double e = x[j] - m->centroids[(size_t)c * m->p + j];
          d += e * e;
        }
        if (d < best)
          best = d, arg = c;
      }
      out[i] = arg;
      continue;
    }
    double z = m->intercept;
    for (uint32_t j = 0; j < m->p; j++)
      z += m->coef[j] * x[j];
    out[i] = m->kind == ML_LOGISTIC ? 1.0 / (1.0 + exp(-z)) : z;
  }
}

/*
 * ml_common.h — what the ml.* components share: turning table columns into
 * a numeric matrix, the model file, prediction, and small dense linear
 * algebra.
 *
 * Model file (text, one "key value" per line, numbers as %.17g):
 *
 *   pipec-model 1
 *   kind logistic            linear | logistic | kmeans
 *   label churned            (linear, logistic)
 *   classes 0 1              (logistic: negative then positive label text)
 *   intercept -1.25          (linear, logistic)
 *   feature tenure 0.031     one line per feature: name, coefficient
 *   k 3                      (kmeans; then per centroid:)
 *   centroid 0 1.5 2.25      index, one value per feature
 *
 * Feature lists and names never contain blanks in a model file: a blank in
 * a column name is written as %20 (and % as %25).
 */
#ifndef PIPEC_ML_COMMON_H
#define PIPEC_ML_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "csv.h"
#include "pipec/component.h"

typedef enum ml_kind { ML_LINEAR, ML_LOGISTIC, ML_KMEANS } ml_kind;

typedef struct ml_model {
  ml_kind kind;
  char *label;
  char *classes[2];          /* logistic: label text of class 0 and 1 */
  uint32_t p;                /* features */
  char **features;
  double intercept;
  double *coef;              /* p */
  uint32_t k;                /* kmeans */
  double *centroids;         /* k * p */
} ml_model;

void ml_model_free(ml_model *m);
int ml_model_write(const ml_model *m, const char *path, char *err,
                   size_t errlen);
int ml_model_read(const char *path, ml_model *m, char *err, size_t errlen);

/* Feature columns: the `features` param, or (empty) every numeric column
 * but skip (the label). */
uint32_t *ml_feature_cols(const pipec_run_ctx *ctx, const csv_table *t,
                          int skip, uint32_t *p, char *err, size_t errlen);
/* Feature columns by name (from a model) in t. */
uint32_t *ml_cols_by_name(const csv_table *t, char *const *names, uint32_t p,
                          char *err, size_t errlen);
/* The n x p matrix of those columns (row-major, malloc'd); NULL after an
 * error naming the row and column of a null or non-numeric value. */
double *ml_matrix(const csv_table *t, const uint32_t *cols, uint32_t p,
                  char *err, size_t errlen);

/* Binary labels of column c: y[i] in {0, 1}; classes get the label texts
 * (class 1 is the larger of two numbers, `true`, or the later of two
 * strings in byte order, as scikit-learn sorts classes). */
double *ml_binary_labels(const csv_table *t, uint32_t c, char *classes[2],
                         char *err, size_t errlen);

/* Solve A x = b for symmetric positive definite A (n x n, only the lower
 * triangle is read; overwritten by its factor), x into b: 0, or -1 if A is
 * not positive definite. */
int ml_cholesky_solve(double *A, double *b, uint32_t n);

/* Least squares min |A x - b| by Householder QR. A is n x p COLUMN-major
 * (column j at A + j*n), n >= p; A and b are overwritten, x (p values) goes
 * to b[0..p). Returns 0, or -1 if A is rank deficient (a column is, to
 * rounding, a combination of the earlier ones), with *bad set to it. */
int ml_lstsq(double *A, double *b, size_t n, uint32_t p, uint32_t *bad);

/* Predictions of m for the rows of X (n x m->p): linear value, logistic
 * probability of class 1, or kmeans cluster index. */
void ml_predict(const ml_model *m, const double *X, size_t n, double *out);

#endif

/*
 * ml_common.h — what the ml.* components share: turning table columns into
 * a numeric matrix, binary labels, the model file, prediction, and small
 * dense linear algebra (Cholesky, Householder QR least squares).
 *
 * Model file: text, one "key value" line each, in this order; numbers are
 * written with %.17g so they read back bit for bit. For example:
 *
 *   pipec-model 1            format and its version (first line)
 *   kind logistic            linear | logistic | kmeans
 *   label churned            the label column (linear, logistic)
 *   classes no yes           logistic: label text of class 0, then of
 *                            class 1 (the positive class, whose probability
 *                            the model gives)
 *   intercept -1.25          (linear, logistic)
 *   feature tenure 0.031     one line per feature in order: name and its
 *   feature plan%20b -2      coefficient (kmeans: 0)
 *   k 3                      kmeans: number of centres, then per centre
 *   centroid 0 1.5 2.25      its index and one value per feature
 *
 * A linear model predicts intercept + sum coef_j x_j; a logistic one the
 * probability of class 1, 1 / (1 + exp(-(intercept + sum coef_j x_j))),
 * and class 1 when that is > 0.5; kmeans the index of the nearest centre
 * (squared Euclidean distance, the lowest index on a tie).
 *
 * Names (label, classes, features) never contain blanks in the file: ' ',
 * '%' and newline are written as %20, %25 and %0A. Reading is strict: an
 * unknown key or kind, a bad number or a missing part fails with the line.
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

/* Which class of a logistic model the label text s is: 0, 1, or -1 for
 * neither. Exact text first, then as numbers ("1.0" is "1"), then as
 * booleans ("TRUE" is "true"). */
int ml_class_of(const ml_model *m, const char *s);

/* Solve A x = b for symmetric positive definite A (n x n, only the lower
 * triangle is read; overwritten by its factor), x into b: 0, or -1 if A is
 * not positive definite. */
int ml_cholesky_solve(double *A, double *b, uint32_t n);

/* Least squares min |A x - b| by Householder QR. A is n x p COLUMN-major
 * (column j at A + j*n), n >= p; A and b are overwritten, x (p values) goes
 * to b[0..p). Returns 0; -1 if A is rank deficient (a column is, to
 * rounding, a combination of the earlier ones), with *bad set to it; -2 if
 * *stop became non-zero (polled once per column; stop may be NULL). */
int ml_lstsq(double *A, double *b, size_t n, uint32_t p, uint32_t *bad,
             const volatile int *stop);

/* Predictions of m for the rows of X (n x m->p): linear value, logistic
 * probability of class 1, or kmeans cluster index. */
void ml_predict(const ml_model *m, const double *X, size_t n, double *out);

#endif

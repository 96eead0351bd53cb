/*
 * comp_util.h — what every table and ML component needs: typed params,
 * column lookups with helpful errors, and a list of column names.
 */
#ifndef PIPEC_COMP_UTIL_H
#define PIPEC_COMP_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "csv.h"
#include "pipec/component.h"

const char *cu_str(const pipec_run_ctx *ctx, const char *name);
double cu_float(const pipec_run_ctx *ctx, const char *name);
int64_t cu_int(const pipec_run_ctx *ctx, const char *name);
bool cu_bool(const pipec_run_ctx *ctx, const char *name);
/* A list param's items as strings (ints and floats as their text). The
 * array is malloc'd, the strings point into ctx or a static buffer pool
 * owned by the array (free with free()). */
const char **cu_names(const pipec_run_ctx *ctx, const char *name,
                      uint32_t *n);

/* Index of column `name` among names[0..n), or -1 after writing
 * "unknown column 'x' in <what>; columns are a, b, c" into err. */
int cu_col(char *const *names, uint32_t n, const char *name, const char *what,
           char *err, size_t errlen);

/* Column indices of a list param; NULL after an error. An empty list gives
 * every column when all_if_empty. */
uint32_t *cu_cols(const pipec_run_ctx *ctx, const char *param,
                  char *const *names, uint32_t ncols, bool all_if_empty,
                  uint32_t *n, char *err, size_t errlen);

/* The numbers of column c, nulls skipped (count in *n); NULL after
 * "row R: column 'x' is not a number ('v')" in err. Free with free(). */
double *cu_column_numbers(const csv_table *t, uint32_t c, size_t *n,
                          char *err, size_t errlen);
/* Write t to path with some columns replaced: repl[c], when not NULL,
 * holds one malloc'd string per row (NULL: a null cell). */
int cu_write_replaced(const csv_table *t, char ***repl, const char *path,
                      char *err, size_t errlen);
void cu_free_replaced(char ***repl, const csv_table *t);
/* The shortest text of v that reads back as v, malloc'd. */
char *cu_num_text(double v);

int cu_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif

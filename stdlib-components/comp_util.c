/*
 * comp_util.c — helpers shared by the components (comp_util.h).
 */
#include "comp_util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *cu_str(const pipec_run_ctx *ctx, const char *name) {
  const pipec_value *v = pipec_ctx_param(ctx, name);
  return v && (v->type == PIPEC_T_STRING || v->type == PIPEC_T_PATH) ? v->u.s
                                                                     : "";
}

double cu_float(const pipec_run_ctx *ctx, const char *name) {
  const pipec_value *v = pipec_ctx_param(ctx, name);
  if (!v)
    return 0;
  return v->type == PIPEC_T_INT ? (double)v->u.i : v->u.f;
}

int64_t cu_int(const pipec_run_ctx *ctx, const char *name) {
  const pipec_value *v = pipec_ctx_param(ctx, name);
  return v && v->type == PIPEC_T_INT ? v->u.i : 0;
}

bool cu_bool(const pipec_run_ctx *ctx, const char *name) {
  const pipec_value *v = pipec_ctx_param(ctx, name);
  return v && v->type == PIPEC_T_BOOL && v->u.b;
}

const char **cu_names(const pipec_run_ctx *ctx, const char *name,
                      uint32_t *n) {
  const pipec_value *v = pipec_ctx_param(ctx, name);
  *n = 0;
  if (!v)
    return calloc(1, sizeof(char *));
  if (v->type != PIPEC_T_LIST) { /* a single name given as a string */
    const char **one = calloc(2, sizeof *one);
    if (one && v->u.s && *v->u.s)
      one[(*n)++] = v->u.s;
    return one;
  }
  /* items and the text of numbers, in one block */
  size_t size = (v->u.list.n + 1) * sizeof(char *) + v->u.list.n * 32;
  const char **out = calloc(1, size);
  if (!out)
    return NULL;
  char *text = (char *)(out + v->u.list.n + 1);
  for (uint32_t i = 0; i < v->u.list.n; i++) {
    const pipec_value *it = &v->u.list.items[i];
    char *slot = text + (size_t)i * 32;
    if (it->type == PIPEC_T_STRING || it->type == PIPEC_T_PATH)
      out[i] = it->u.s;
    else if (it->type == PIPEC_T_INT)
      snprintf(slot, 32, "%lld", (long long)it->u.i), out[i] = slot;
    else if (it->type == PIPEC_T_FLOAT)
      csv_format_double(it->u.f, slot, 32), out[i] = slot;
    else
      out[i] = it->u.b ? "true" : "false";
  }
  *n = v->u.list.n;
  return out;
}

int cu_fail(char *err, size_t errlen, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, errlen, fmt, ap);
  va_end(ap);
  return -1;
}

int cu_col(char *const *names, uint32_t n, const char *name, const char *what,
           char *err, size_t errlen) {
  for (uint32_t i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0)
      return (int)i;
  size_t w = (size_t)snprintf(err, errlen,
                              "unknown column '%s' in %s; columns are ", name,
                              what);
  for (uint32_t i = 0; i < n && w < errlen; i++)
    w += (size_t)snprintf(err + w, errlen - w, "%s%s", i ? ", " : "",
                          names[i]);
  return -1;
}

uint32_t *cu_cols(const pipec_run_ctx *ctx, const char *param,
                  char *const *names, uint32_t ncols, bool all_if_empty,
                  uint32_t *n, char *err, size_t errlen) {
  uint32_t k;
  const char **want = cu_names(ctx, param, &k);
  uint32_t *idx = calloc((k ? k : ncols) + 1, sizeof *idx);
  if (!want || !idx) {
    free(want);
    free(idx);
    cu_fail(err, errlen, "out of memory");
    return NULL;
  }
  if (k == 0 && all_if_empty) {
    for (uint32_t i = 0; i < ncols; i++)
      idx[i] = i;
    *n = ncols;
    free(want);
    return idx;
  }
  for (uint32_t i = 0; i < k; i++) {
    int c = cu_col(names, ncols, want[i], param, err, errlen);
    if (c < 0) {
      free(want);
      free(idx);
      return NULL;
    }
    idx[i] = (uint32_t)c;
  }
  *n = k;
  free(want);
  return idx;
}

/* ---- rewriting columns (fill_missing, normalize) ------------------------- */

double *cu_column_numbers(const csv_table *t, uint32_t c, size_t *n,
                          char *err, size_t errlen) {
  double *v = malloc((t->nrows + 1) * sizeof *v);
  *n = 0;
  if (!v)
    cu_fail(err, errlen, "out of memory");
  for (size_t r = 0; v && r < t->nrows; r++) {
    const csv_cell *cell = csv_table_cell(t, r, c);
    if (cell->null)
      continue;
    if (!csv_parse_double(t->text + cell->off, cell->len, &v[*n])) {
      cu_fail(err, errlen, "row %zu: column '%s' is not a number ('%s')",
              r + 1, t->names[c], t->text + cell->off);
      free(v);
      return NULL;
    }
    (*n)++;
  }
  return v;
}

int cu_write_replaced(const csv_table *t, char ***repl, const char *path,
                      char *err, size_t errlen) {
  csv_writer *w;
  if (csv_wopen(path, &w, err, errlen) != 0)
    return -1;
  for (uint32_t c = 0; c < t->ncols; c++)
    csv_put(w, t->names[c], strlen(t->names[c]), c + 1 == t->ncols);
  for (size_t r = 0; r < t->nrows; r++)
    for (uint32_t c = 0; c < t->ncols; c++) {
      bool last = c + 1 == t->ncols;
      const char *s = repl[c] ? repl[c][r] : NULL;
      const csv_cell *cell = csv_table_cell(t, r, c);
      if (s)
        csv_put(w, s, strlen(s), last);
      else if (cell->null || (repl[c] && !s))
        csv_put_null(w, last);
      else
        csv_put(w, t->text + cell->off, cell->len, last);
    }
  return csv_wclose(w, err, errlen);
}

void cu_free_replaced(char ***repl, const csv_table *t) {
  for (uint32_t c = 0; repl && c < t->ncols; c++) {
    for (size_t r = 0; repl[c] && r < t->nrows; r++)
      free(repl[c][r]);
    free(repl[c]);
  }
  free(repl);
}

char *cu_num_text(double v) {
  char buf[40];
  csv_format_double(v, buf, sizeof buf);
  return strdup(buf);
}

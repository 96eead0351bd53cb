/*
 * table_join.c — `table.join(left, right, on, how)`: rows of left joined
 * with the rows of right whose `on` columns are equal (byte-wise; nulls
 * never match). how = "inner" keeps matches only; "left" keeps every left
 * row, with nulls where nothing matched. Output: every left column, then
 * right's other columns (a name that clashes gets the suffix "_right").
 * Order: left's rows in order, each followed by its matches in right's
 * order.
 */
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

typedef struct side {
  const csv_table *t;
  uint32_t *cols;
} side;

static uint64_t key_hash(const side *s, uint32_t n, size_t r, bool *null) {
  uint64_t h = 1469598103934665603ull;
  *null = false;
  for (uint32_t k = 0; k < n; k++) {
    const csv_cell *c = csv_table_cell(s->t, r, s->cols[k]);
    *null |= c->null;
    const unsigned char *p = (const unsigned char *)s->t->text + c->off;
    for (uint32_t i = 0; i < c->len; i++)
      h = (h ^ p[i]) * 1099511628211ull;
    h = (h ^ 0x1f) * 1099511628211ull;
  }
  return h;
}

static bool key_eq(const side *a, size_t ra, const side *b, size_t rb,
                   uint32_t n) {
  for (uint32_t k = 0; k < n; k++) {
    const csv_cell *x = csv_table_cell(a->t, ra, a->cols[k]);
    const csv_cell *y = csv_table_cell(b->t, rb, b->cols[k]);
    if (x->len != y->len ||
        memcmp(a->t->text + x->off, b->t->text + y->off, x->len) != 0)
      return false;
  }
  return true;
}

static void put_cell(csv_writer *w, const csv_table *t, size_t r, uint32_t c,
                     bool last) {
  const csv_cell *cell = csv_table_cell(t, r, c);
  if (cell->null)
    csv_put_null(w, last);
  else
    csv_put(w, t->text + cell->off, cell->len, last);
}

static int join_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  const char *how = cu_str(ctx, "how");
  bool left_join = strcmp(how, "left") == 0;
  if (!left_join && strcmp(how, "inner") != 0)
    return cu_fail(err, errlen, "how must be \"inner\" or \"left\", not \"%s\"",
                   how);
  csv_table L, R;
  if (csv_table_load(pipec_ctx_input(ctx, "left"), &L, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  if (csv_table_load(pipec_ctx_input(ctx, "right"), &R, ctx->cancelled, err,
                     errlen) != 0) {
    csv_table_free(&L);
    return -1;
  }
  int rc = -1;
  uint32_t n, n2;
  side l = {&L, cu_cols(ctx, "on", L.names, L.ncols, false, &n, err, errlen)};
  side r = {&R, l.cols ? cu_cols(ctx, "on", R.names, R.ncols, false, &n2, err,
                                 errlen)
                       : NULL};
  size_t cap = 16, *slots = NULL, *next = NULL;
  bool *is_key = NULL;
  csv_writer *w = NULL;
  if (!l.cols || !r.cols)
    goto out;
  if (n == 0) {
    cu_fail(err, errlen, "on is empty: name the key columns");
    goto out;
  }
  while (cap < R.nrows * 2)
    cap *= 2;
  /* chained hash of right's rows; chains keep right's order */
  slots = malloc(cap * sizeof *slots);
  next = malloc((R.nrows + 1) * sizeof *next);
  size_t *tail = malloc(cap * sizeof *tail);
  is_key = calloc(R.ncols + 1, sizeof *is_key);
  if (!slots || !next || !tail || !is_key) {
    free(tail);
    cu_fail(err, errlen, "out of memory");
    goto out;
  }
  for (size_t i = 0; i < cap; i++)
    slots[i] = SIZE_MAX;
  for (size_t i = 0; i < R.nrows; i++) {
    bool null;
    size_t h = (size_t)key_hash(&r, n, i, &null) & (cap - 1);
    next[i] = SIZE_MAX;
    if (null)
      continue;
    if (slots[h] == SIZE_MAX)
      slots[h] = i;
    else
      next[tail[h]] = i;
    tail[h] = i;
  }
  free(tail);
  for (uint32_t k = 0; k < n; k++)
    is_key[r.cols[k]] = true;
  if (csv_wopen(pipec_ctx_output(ctx, "out"), &w, err, errlen) != 0)
    goto out;
  uint32_t extra = 0;
  for (uint32_t c = 0; c < R.ncols; c++)
    extra += !is_key[c];
  for (uint32_t c = 0; c < L.ncols; c++)
    csv_put(w, L.names[c], strlen(L.names[c]), extra == 0 && c + 1 == L.ncols);
  for (uint32_t c = 0, k = 0; c < R.ncols; c++) {
    if (is_key[c])
      continue;
    k++;
    char name[1024];
    snprintf(name, sizeof name, "%s%s", R.names[c],
             csv_table_col(&L, R.names[c]) >= 0 ? "_right" : "");
    csv_put(w, name, strlen(name), k == extra);
  }
  for (size_t i = 0; i < L.nrows; i++) {
    if ((i & 0xffff) == 0xffff && *ctx->cancelled) {
      cu_fail(err, errlen, "cancelled");
      goto out;
    }
    bool null, matched = false;
    size_t h = (size_t)key_hash(&l, n, i, &null) & (cap - 1);
    for (size_t j = null ? SIZE_MAX : slots[h]; j != SIZE_MAX; j = next[j]) {
      if (!key_eq(&l, i, &r, j, n))
        continue;
      matched = true;
      for (uint32_t c = 0; c < L.ncols; c++)
        put_cell(w, &L, i, c, extra == 0 && c + 1 == L.ncols);
      for (uint32_t c = 0, k = 0; c < R.ncols; c++)
        if (!is_key[c])
          put_cell(w, &R, j, c, ++k == extra);
    }
    if (!matched && left_join) {
      for (uint32_t c = 0; c < L.ncols; c++)
        put_cell(w, &L, i, c, extra == 0 && c + 1 == L.ncols);
      for (uint32_t k = 1; k <= extra; k++)
        csv_put_null(w, k == extra);
    }
  }
  rc = 0;
out:
  if (w) {
    char werr[256];
    if (csv_wclose(w, werr, sizeof werr) != 0 && rc == 0)
      rc = cu_fail(err, errlen, "%s", werr);
  }
  free(l.cols), free(r.cols), free(slots), free(next), free(is_key);
  csv_table_free(&L);
  csv_table_free(&R);
  return rc;
}

static const pipec_port_desc inputs[] = {
    {"left", PIPEC_PORT_TABLE, "every row is kept with how = \"left\""},
    {"right", PIPEC_PORT_TABLE, "rows looked up by the key"},
};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_TABLE, "the joined rows"}};
static const pipec_param_desc params[] = {
    {"on", PIPEC_T_LIST, NULL, "key columns, present in both tables"},
    {"how", PIPEC_T_STRING, "\"inner\"", "\"inner\" or \"left\""},
};

const pipec_component_desc stdlib_table_join = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.join",
    .version = "1",
    .doc = "Join two tables on equal key columns (inner or left join, hash "
           "join on the right table).",
    .inputs = inputs, .n_inputs = 2,
    .outputs = outputs, .n_outputs = 1,
    .params = params, .n_params = 2,
    .run = join_run,
};

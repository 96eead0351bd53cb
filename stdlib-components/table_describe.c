/*
 * table_describe.c — `table.describe(input)` -> out (json): per column its
 * type, count of values, nulls, distinct values, and for numeric columns
 * mean, std (sample, n - 1), min and max.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "comp_util.h"
#include "stdlib_components.h"

static void json_string(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

/* The shortest text that reads back as v (a valid JSON number). */
static void json_num(FILE *f, double v) {
  char buf[40];
  csv_format_double(v, buf, sizeof buf);
  fputs(buf, f);
}

/* Distinct non-null values of column c: a hash set of row indices in
 * slots (cap a power of two above twice the rows), linear probing. */
static size_t count_distinct(const csv_table *t, uint32_t c, size_t *slots,
                             size_t cap) {
  for (size_t i = 0; i < cap; i++)
    slots[i] = SIZE_MAX;
  size_t d = 0;
  for (size_t r = 0; r < t->nrows; r++) {
    const csv_cell *x = csv_table_cell(t, r, c);
    if (x->null)
      continue;
    const unsigned char *p = (const unsigned char *)t->text + x->off;
    uint64_t h = 1469598103934665603ull;
    for (uint32_t i = 0; i < x->len; i++)
      h = (h ^ p[i]) * 1099511628211ull;
    size_t at = (size_t)(h ^ (h >> 32)) & (cap - 1);
    for (; slots[at] != SIZE_MAX; at = (at + 1) & (cap - 1)) {
      const csv_cell *y = csv_table_cell(t, slots[at], c);
      if (y->len == x->len && memcmp(t->text + y->off, p, x->len) == 0)
        break;
    }
    if (slots[at] == SIZE_MAX) {
      slots[at] = r;
      d++;
    }
  }
  return d;
}

static int describe_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  FILE *f = fopen(pipec_ctx_output(ctx, "out"), "w");
  size_t cap = 16;
  while (cap < t.nrows * 2)
    cap *= 2;
  size_t *slots = malloc(cap * sizeof *slots);
  if (!f || !slots) {
    if (f)
      fclose(f);
    free(slots);
    csv_table_free(&t);
    return cu_fail(err, errlen, "cannot write the output");
  }
  fprintf(f, "{\n  \"rows\": %zu,\n  \"columns\": [", t.nrows);
  for (uint32_t c = 0; c < t.ncols && !*ctx->cancelled; c++) {
    size_t count = 0, nulls = 0;
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    bool numeric = t.types[c] == CSV_INT || t.types[c] == CSV_FLOAT;
    for (size_t i = 0; i < t.nrows; i++) {
      const csv_cell *cell = csv_table_cell(&t, i, c);
      if (cell->null) {
        nulls++;
        continue;
      }
      count++;
      double v;
      if (numeric && csv_parse_double(t.text + cell->off, cell->len, &v)) {
        sum += v;
        mn = fmin(mn, v);
        mx = fmax(mx, v);
      }
    }
    size_t distinct = count_distinct(&t, c, slots, cap);
    fprintf(f, "%s\n    {\"name\": ", c ? "," : "");
    json_string(f, t.names[c]);
    fprintf(f, ", \"type\": \"%s\", \"count\": %zu, \"nulls\": %zu, "
               "\"distinct\": %zu",
            csv_type_name(t.types[c]), count, nulls, distinct);
    if (numeric && count) {
      double mean = sum / (double)count, ss = 0, v;
      for (size_t i = 0; i < t.nrows; i++) {
        const csv_cell *cell = csv_table_cell(&t, i, c);
        if (!cell->null && csv_parse_double(t.text + cell->off, cell->len, &v))
          ss += (v - mean) * (v - mean);
      }
      fputs(", \"mean\": ", f);
      json_num(f, mean);
      fputs(", \"std\": ", f);
      if (count > 1)
        json_num(f, sqrt(ss / (double)(count - 1)));
      else
        fputs("null", f);
      fputs(", \"min\": ", f);
      json_num(f, mn);
      fputs(", \"max\": ", f);
      json_num(f, mx);
    }
    fputc('}', f);
  }
  fprintf(f, "\n  ]\n}\n");
  free(slots);
  csv_table_free(&t);
  if (fclose(f) != 0)
    return cu_fail(err, errlen, "writing the output failed");
  return *ctx->cancelled ? cu_fail(err, errlen, "cancelled") : 0;
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "a table"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_JSON, "a summary of every column"}};

const pipec_component_desc stdlib_table_describe = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.describe",
    .version = "2",
    .doc = "Summarise every column as JSON: type, count, nulls, distinct, "
           "and mean, std, min, max for numbers.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .run = describe_run,
};

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

static int str_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int describe_run(const pipec_run_ctx *ctx, char *err, size_t errlen) {
  csv_table t;
  if (csv_table_load(pipec_ctx_input(ctx, "input"), &t, ctx->cancelled, err,
                     errlen) != 0)
    return -1;
  FILE *f = fopen(pipec_ctx_output(ctx, "out"), "w");
  const char **vals = malloc((t.nrows + 1) * sizeof *vals);
  if (!f || !vals) {
    if (f)
      fclose(f);
    free(vals);
    csv_table_free(&t);
    return cu_fail(err, errlen, "cannot write the output");
  }
  fprintf(f, "{\n  \"rows\": %zu,\n  \"columns\": [", t.nrows);
  for (uint32_t c = 0; c < t.ncols; c++) {
    size_t count = 0, nulls = 0, distinct = 0;
    double sum = 0, mn = INFINITY, mx = -INFINITY;
    bool numeric = t.types[c] == CSV_INT || t.types[c] == CSV_FLOAT;
    for (size_t i = 0; i < t.nrows; i++) {
      const csv_cell *cell = csv_table_cell(&t, i, c);
      if (cell->null) {
        nulls++;
        continue;
      }
      vals[count++] = t.text + cell->off;
      double v;
      if (numeric && csv_parse_double(t.text + cell->off, cell->len, &v)) {
        sum += v;
        mn = fmin(mn, v);
        mx = fmax(mx, v);
      }
    }
    qsort(vals, count, sizeof *vals, str_cmp);
    for (size_t i = 0; i < count; i++)
      distinct += i == 0 || strcmp(vals[i], vals[i - 1]) != 0;
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
      fprintf(f, ", \"mean\": %.17g, \"std\": ", mean);
      if (count > 1)
        fprintf(f, "%.17g", sqrt(ss / (double)(count - 1)));
      else
        fprintf(f, "null");
      fprintf(f, ", \"min\": %.17g, \"max\": %.17g", mn, mx);
    }
    fputc('}', f);
  }
  fprintf(f, "\n  ]\n}\n");
  free(vals);
  csv_table_free(&t);
  return fclose(f) == 0 ? 0 : cu_fail(err, errlen, "writing the output failed");
}

static const pipec_port_desc inputs[] = {{"input", PIPEC_PORT_TABLE, "a table"}};
static const pipec_port_desc outputs[] = {{"out", PIPEC_PORT_JSON, "a summary of every column"}};

const pipec_component_desc stdlib_table_describe = {
    .abi_version = PIPEC_ABI_VERSION,
    .struct_size = sizeof(pipec_component_desc),
    .name = "table.describe",
    .version = "1",
    .doc = "Summarise every column as JSON: type, count, nulls, distinct, "
           "and mean, std, min, max for numbers.",
    .inputs = inputs, .n_inputs = 1,
    .outputs = outputs, .n_outputs = 1,
    .run = describe_run,
};

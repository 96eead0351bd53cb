/*
 * fuzz_expr.c — libFuzzer target for table.filter's expression language
 * (expr.h): parse arbitrary text; when it parses, bind it to a fixed
 * header and evaluate it on a few rows.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *src = malloc(size + 1);
  if (!src)
    return 0;
  memcpy(src, data, size);
  src[size] = 0;
  char err[256];
  long off;
  expr *e = expr_parse(src, err, sizeof err, &off);
  if (e) {
    char *names[] = {"a", "b", "name", "first name"};
    if (expr_bind(e, names, 4, err, sizeof err) == 0) {
      csv_field rows[3][4] = {
          {{"1", 1, false}, {"2.5", 3, false}, {"x", 1, false}, {"", 0, true}},
          {{"", 0, true}, {"-3", 2, false}, {"true", 4, false}, {"y", 1, false}},
          {{"0", 1, false}, {"0", 1, false}, {"", 0, false}, {"1e308", 5, false}}};
      for (int i = 0; i < 3; i++)
        (void)expr_true(e, rows[i]);
    }
    expr_free(e);
  }
  free(src);
  return 0;
}

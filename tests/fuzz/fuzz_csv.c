/*
 * fuzz_csv.c — libFuzzer target for the CSV reader (csv.h): streaming and
 * whole-table loading of arbitrary bytes must end in rows or a clear
 * error, never a crash or a hang.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[] = "/tmp/pipec-fuzz-csv-XXXXXX";
  if (fuzz_write_file(path, data, size) != 0)
    return 0;
  char err[512];
  csv_reader *r;
  if (csv_open(path, &r, err, sizeof err) == 0) {
    const csv_field *f;
    while (csv_next(r, &f, err, sizeof err) == 1)
      ;
    csv_close(r);
  }
  csv_table t;
  if (csv_table_load(path, &t, NULL, err, sizeof err) == 0)
    csv_table_free(&t);
  unlink(path);
  return 0;
}

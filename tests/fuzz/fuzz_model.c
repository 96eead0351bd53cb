/*
 * fuzz_model.c — libFuzzer target for the model file reader (ml_common.h):
 * a model port can carry any file (a command's output, a hand-written
 * one), so arbitrary bytes must end in a model or a clear error, never a
 * crash, a hang or a huge allocation. A model that reads is also used to
 * predict one row, which checks that what the reader accepts is whole.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_file.h"
#include "ml_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char path[] = "/tmp/pipec-fuzz-model-XXXXXX";
  if (fuzz_write_file(path, data, size) != 0)
    return 0;
  char err[512];
  ml_model m;
  if (ml_model_read(path, &m, err, sizeof err) == 0) {
    double *x = calloc(m.p, sizeof *x), y;
    if (x)
      ml_predict(&m, x, 1, &y);
    free(x);
    ml_model_free(&m);
  }
  unlink(path);
  return 0;
}

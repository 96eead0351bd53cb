/*
 * fuzz_file.h — for fuzz targets whose code under test reads a file: the
 * input bytes written to a fresh temporary file.
 */
#ifndef PIPEC_FUZZ_FILE_H
#define PIPEC_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Write data to a new file named from path (a mkstemp template, rewritten
 * in place). 0, or -1 with nothing left behind. The caller unlinks it. */
static inline int fuzz_write_file(char *path, const uint8_t *data,
                                  size_t size) {
  int fd = mkstemp(path);
  if (fd < 0)
    return -1;
  ssize_t n = write(fd, data, size);
  close(fd);
  if (n != (ssize_t)size) {
    unlink(path);
    return -1;
  }
  return 0;
}

#endif

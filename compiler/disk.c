/*
 * disk.c — the default reader, stat and list of the compiler
 * (pipec/compiler.h): the disk. The only place the compiler touches the
 * file system; everything else goes through pipec_compile_opts.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipec/compiler.h"

int pipec_read_disk(void *ctx, const char *path, char **text, size_t *len) {
  (void)ctx;
  FILE *f = fopen(path, "rb");
  if (!f)
    return errno;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  if (!buf) {
    fclose(f);
    return ENOMEM;
  }
  for (;;) {
    if (cap - n < 2) {
      char *nb = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        fclose(f);
        return ENOMEM;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n - 1, f);
    n += got;
    if (got == 0)
      break;
  }
  int err = ferror(f) ? EIO : 0;
  fclose(f);
  if (err) {
    free(buf);
    return err;
  }
  buf[n] = 0;
  *text = buf;
  *len = n;
  return 0;
}

static pipec_file_kind kind_of(mode_t m) {
  return S_ISREG(m) ? PIPEC_FILE_REGULAR
         : S_ISDIR(m) ? PIPEC_FILE_DIR
                      : PIPEC_FILE_OTHER;
}

int pipec_stat_disk(void *ctx, const char *path, pipec_file_kind *kind,
                    char **real) {
  (void)ctx;
  struct stat sb;
  if (stat(path, &sb) != 0)
    return errno;
  *kind = kind_of(sb.st_mode);
  if (real) {
    *real = realpath(path, NULL);
    if (!*real)
      return errno;
  }
  return 0;
}

int pipec_list_disk(void *ctx, const char *dir, char ***names,
                    pipec_file_kind **kinds, uint32_t *n) {
  (void)ctx;
  *names = NULL;
  *kinds = NULL;
  *n = 0;
  DIR *d = opendir(dir);
  if (!d)
    return errno;
  uint32_t cap = 0;
  int err = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (*n == cap) {
      uint32_t ncap = cap ? cap * 2 : 32;
      char **nn = ncap > cap ? realloc(*names, ncap * sizeof *nn) : NULL;
      if (nn)
        *names = nn;
      pipec_file_kind *nk = nn ? realloc(*kinds, ncap * sizeof *nk) : NULL;
      if (nk)
        *kinds = nk;
      if (!nn || !nk) {
        err = ENOMEM;
        break;
      }
      cap = ncap;
    }
    char *full = NULL;
    size_t dl = strlen(dir), fl = strlen(e->d_name);
    char *name = malloc(fl + 1);
    if (name)
      full = malloc(dl + fl + 2);
    if (!full) {
      free(name);
      err = ENOMEM;
      break;
    }
    memcpy(name, e->d_name, fl + 1);
    memcpy(full, dir, dl);
    full[dl] = '/';
    memcpy(full + dl + 1, e->d_name, fl + 1);
    struct stat sb;
    (*kinds)[*n] = stat(full, &sb) == 0 ? kind_of(sb.st_mode)
                                        : PIPEC_FILE_OTHER;
    free(full);
    (*names)[(*n)++] = name;
  }
  closedir(d);
  if (err) {
    for (uint32_t i = 0; i < *n; i++)
      free((*names)[i]);
    free(*names);
    free(*kinds);
    *names = NULL;
    *kinds = NULL;
    *n = 0;
  }
  return err;
}

const pipec_fs *pipec_fs_disk(void) {
  static const pipec_fs disk = {pipec_stat_disk, pipec_list_disk, NULL};
  return &disk;
}

/*
 * fs.c — the disk answers to the compiler's file-system questions
 * (pipec_fs in compiler.h). The rest of the compiler asks through a
 * pipec_fs, so a snapshot can be compiled against other answers.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipec/compiler.h"

static int disk_stat(void *ctx, const char *path, pipec_fs_kind *kind,
                     char **real) {
  (void)ctx;
  struct stat sb;
  if (stat(path, &sb) != 0)
    return errno;
  *kind = S_ISREG(sb.st_mode)   ? PIPEC_FS_FILE
          : S_ISDIR(sb.st_mode) ? PIPEC_FS_DIR
                                : PIPEC_FS_OTHER;
  if (real) {
    *real = realpath(path, NULL);
    if (!*real)
      return errno ? errno : ENOMEM;
  }
  return 0;
}

static int disk_list(void *ctx, const char *path, char ***names,
                     uint32_t *n) {
  (void)ctx;
  DIR *d = opendir(path);
  if (!d)
    return errno;
  uint32_t cap = 16, k = 0;
  char **v = malloc(cap * sizeof *v);
  int err = v ? 0 : ENOMEM;
  struct dirent *e;
  while (!err && (errno = 0, e = readdir(d))) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (k == cap) {
      char **nv = cap < UINT32_MAX / 2 ? realloc(v, 2 * (size_t)cap * sizeof *v)
                                       : NULL;
      if (!nv) {
        err = ENOMEM;
        break;
      }
      v = nv;
      cap *= 2;
    }
    if (!(v[k] = strdup(e->d_name)))
      err = ENOMEM;
    else
      k++;
  }
  if (!err && errno)
    err = errno;
  closedir(d);
  if (err) {
    for (uint32_t i = 0; i < k; i++)
      free(v[i]);
    free(v);
    return err;
  }
  *names = v;
  *n = k;
  return 0;
}

const pipec_fs *pipec_fs_disk(void) {
  static const pipec_fs disk = {disk_stat, disk_list, NULL};
  return &disk;
}

/*
 * fsutil.c — mkdir -p, rm -rf and reading a whole file (fsutil.h).
 */
#define _GNU_SOURCE /* nftw */
#include "fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Make every directory named by a prefix of path ending at a '/'; with
 * whole, path itself too. */
static int make_dirs(const char *path, int whole) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
    return -ENAMETOOLONG;
  for (char *q = buf + 1; *q; q++)
    if (*q == '/') {
      *q = 0;
      if (mkdir(buf, 0755) != 0 && errno != EEXIST)
        return -errno;
      *q = '/';
    }
  if (whole && mkdir(buf, 0755) != 0 && errno != EEXIST)
    return -errno;
  return 0;
}

int fs_mkdir_p(const char *path) { return make_dirs(path, 1); }

int fs_mkdirs_for(const char *path) { return make_dirs(path, 0); }

static int rm_entry(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

/* Directories first made writable: a materialized tree is read-only, and
 * without write permission its entries cannot be removed (unless root). */
static int open_dir(const char *path, const struct stat *sb, int flag,
                    struct FTW *ftw) {
  (void)ftw;
  if (flag == FTW_D && (sb->st_mode & 0700) != 0700)
    chmod(path, (sb->st_mode & 07777) | 0700);
  return 0;
}

void fs_rm_rf(const char *path) {
  struct stat sb;
  if (lstat(path, &sb) != 0)
    return;
  if (S_ISDIR(sb.st_mode))
    nftw(path, open_dir, 16, FTW_PHYS);
  nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

char *fs_read_all(const char *path, size_t *len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  int saved = ENOMEM;
  for (;;) {
    if (!buf)
      break;
    if (n == cap) {
      char *nb = realloc(buf, (cap *= 2) + 1);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
    }
    ssize_t got = read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0) {
      saved = errno;
      free(buf);
      buf = NULL;
      break;
    }
    if (got == 0)
      break;
    n += (size_t)got;
  }
  close(fd);
  if (!buf) {
    errno = saved;
    return NULL;
  }
  buf[n] = 0;
  *len = n;
  return buf;
}

void fs_hostname(char *out, size_t len) {
  if (!len)
    return;
  if (gethostname(out, len) != 0)
    snprintf(out, len, "host");
  out[len - 1] = 0;
  for (char *q = out; *q; q++)
    if (*q == '/')
      *q = '_';
}

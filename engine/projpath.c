/*
 * projpath.c — the project and real paths (projpath.h).
 */
#include "projpath.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINKS 40 /* as the kernel's ELOOP limit */

static bool exists(const char *path) {
  struct stat sb;
  return lstat(path, &sb) == 0;
}

static bool is_dir(const char *path) {
  struct stat sb;
  return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int projpath_root(const char *file, char *out, size_t len) {
  char dir[PATH_MAX], probe[PATH_MAX + 16];
  snprintf(dir, sizeof dir, "%s", file);
  char *slash = strrchr(dir, '/');
  if (slash == dir)
    dir[1] = 0; /* "/x.pipe" */
  else if (slash)
    *slash = 0;
  else
    snprintf(dir, sizeof dir, ".");
  char real[PATH_MAX];
  if (!realpath(dir, real))
    return -errno;
  snprintf(dir, sizeof dir, "%s", real);
  for (;;) {
    bool top = strcmp(dir, "/") == 0;
    snprintf(probe, sizeof probe, "%s/.git", top ? "" : dir);
    bool found = exists(probe);
    snprintf(probe, sizeof probe, "%s/.pipec", top ? "" : dir);
    if (found || is_dir(probe)) {
      if ((size_t)snprintf(out, len, "%s", dir) >= len)
        return -ENAMETOOLONG;
      return 0;
    }
    char *up = strrchr(dir, '/');
    if (top || !up)
      break;
    up[up == dir] = 0; /* "/a" -> "/" */
  }
  /* none: the file's directory */
  if ((size_t)snprintf(out, len, "%s", real) >= len)
    return -ENAMETOOLONG;
  return 0;
}

/* projpath_real with a count of the links followed so far. */
static int real_path(const char *path, char *out, size_t len, int links) {
  if (links > MAX_LINKS)
    return -ELOOP;
  char buf[PATH_MAX];
  if (realpath(path, buf)) {
    if ((size_t)snprintf(out, len, "%s", buf) >= len)
      return -ENAMETOOLONG;
    return 0;
  }
  if (errno != ENOENT)
    return -errno;
  /* split off the last component, resolve the rest */
  char head[PATH_MAX];
  if ((size_t)snprintf(head, sizeof head, "%s", path) >= sizeof head)
    return -ENAMETOOLONG;
  size_t n = strlen(head);
  while (n > 1 && head[n - 1] == '/')
    head[--n] = 0;
  char *slash = strrchr(head, '/');
  const char *last = slash ? slash + 1 : head;
  char name[NAME_MAX + 1];
  if ((size_t)snprintf(name, sizeof name, "%s", last) >= sizeof name)
    return -ENAMETOOLONG;
  if (strcmp(name, "..") == 0 || strcmp(name, ".") == 0)
    return -ENOENT; /* below a directory that does not exist */
  if (slash == head)
    head[1] = 0;
  else if (slash)
    *slash = 0;
  else
    snprintf(head, sizeof head, ".");
  /* a dangling link: where it points is where a write would land */
  char target[PATH_MAX];
  ssize_t tl = readlink(path, target, sizeof target - 1);
  if (tl >= 0) {
    target[tl] = 0;
    char next[PATH_MAX * 2 + 2];
    if (target[0] == '/')
      snprintf(next, sizeof next, "%s", target);
    else
      snprintf(next, sizeof next, "%s/%s", head, target);
    return real_path(next, out, len, links + 1);
  }
  char base[PATH_MAX];
  int rc = real_path(head, base, sizeof base, links);
  if (rc < 0)
    return rc;
  bool root = strcmp(base, "/") == 0;
  if ((size_t)snprintf(out, len, "%s/%s", root ? "" : base, name) >= len)
    return -ENAMETOOLONG;
  return 0;
}

int projpath_real(const char *path, char *out, size_t len) {
  if (!*path)
    return -ENOENT;
  return real_path(path, out, len, 0);
}

int projpath_inside(const char *root, const char *path, char *real,
                    size_t reallen) {
  char buf[PATH_MAX];
  int rc = projpath_real(path, buf, sizeof buf);
  if (real && reallen)
    snprintf(real, reallen, "%s", rc == 0 ? buf : path);
  if (rc < 0)
    return rc;
  size_t n = strlen(root);
  while (n > 1 && root[n - 1] == '/')
    n--;
  if (n == 1 && root[0] == '/')
    return 1;
  return strncmp(buf, root, n) == 0 && (buf[n] == '/' || buf[n] == 0);
}

/*
 * path.c — lexical path arithmetic (path.h). Nothing here touches the disk,
 * so it works the same for files on disk and for a snapshot's stored files.
 */
#include "path.h"

#include <stdbool.h>
#include <string.h>
#include <unistd.h>

/* Normalise a relative or absolute path lexically: drop "." and empty
 * components, resolve "x/.." pairs; leading ".." of a relative path stay. */
const char *path_normalize(arena *a, const char *path) {
  size_t n = strlen(path), slashes = 0;
  for (const char *q = path; *q; q++)
    slashes += *q == '/';
  char *out = arena_alloc(a, n + 2);
  const char **parts = arena_alloc(a, (slashes + 1) * sizeof *parts);
  size_t *lens = arena_alloc(a, (slashes + 1) * sizeof *lens);
  size_t np = 0;
  bool abs = path[0] == '/';
  const char *p = path;
  while (*p) {
    while (*p == '/')
      p++;
    const char *s = p;
    while (*p && *p != '/')
      p++;
    size_t l = (size_t)(p - s);
    if (l == 0 || (l == 1 && s[0] == '.'))
      continue;
    if (l == 2 && s[0] == '.' && s[1] == '.' && np > 0 &&
        !(lens[np - 1] == 2 && memcmp(parts[np - 1], "..", 2) == 0)) {
      np--;
      continue;
    }
    if (l == 2 && s[0] == '.' && s[1] == '.' && abs && np == 0)
      continue; /* "/.." is "/" */
    parts[np] = s;
    lens[np++] = l;
  }
  size_t o = 0;
  if (abs)
    out[o++] = '/';
  for (size_t i = 0; i < np; i++) {
    if (i)
      out[o++] = '/';
    memcpy(out + o, parts[i], lens[i]);
    o += lens[i];
  }
  if (o == 0)
    out[o++] = '.';
  return arena_intern(a, out, o);
}

/* The directory part of a path: "a/b.pipe" -> "a", "b.pipe" -> ".". */
const char *path_dir(arena *a, const char *path) {
  const char *slash = strrchr(path, '/');
  if (!slash)
    return ".";
  if (slash == path)
    return "/";
  return arena_strndup(a, path, (size_t)(slash - path));
}

const char *path_join(arena *a, const char *dir, const char *rel) {
  if (rel[0] == '/' || strcmp(dir, ".") == 0)
    return path_normalize(a, rel);
  return path_normalize(a, arena_printf(a, "%s/%s", dir, rel));
}

const char *path_relative(arena *a, const char *dir, const char *path) {
  if (strcmp(dir, ".") == 0 || (path[0] == '/') != (dir[0] == '/'))
    return path;
  /* drop the common leading components, climb out of the rest of dir */
  size_t common = 0, i = 0;
  for (;; i++) {
    bool dend = dir[i] == 0 || dir[i] == '/';
    bool pend = path[i] == 0 || path[i] == '/';
    if (dend && pend) {
      common = i;
      if (dir[i] == 0 || path[i] == 0)
        break;
      continue;
    }
    if (dir[i] != path[i] || dend || pend)
      break;
  }
  const char *rest = path + common;
  if (*rest == '/')
    rest++;
  const char *up = "";
  if (dir[common]) {
    up = "../";
    for (const char *q = dir + common + 1; *q; q++)
      if (*q == '/')
        up = arena_printf(a, "%s../", up);
  }
  return path_normalize(a, arena_printf(a, "%s%s", up, rest));
}

bool path_inside(arena *a, const char *root, const char *path) {
  const char *abs = path;
  if (path[0] != '/') {
    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd))
      return true; /* cannot tell: do not refuse */
    abs = path_normalize(a, arena_printf(a, "%s/%s", cwd, path));
  }
  size_t n = strlen(root);
  if (n == 1 && root[0] == '/')
    return true;
  return strncmp(abs, root, n) == 0 && (abs[n] == '/' || abs[n] == 0);
}

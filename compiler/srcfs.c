/*
 * srcfs.c — looking source paths up and checking them (srcfs.h).
 */
#include "srcfs.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "editdist.h"
#include "path.h"

/* What one lookup of a path found. */
typedef struct entry {
  const char *path;        /* interned: the key */
  int err;                 /* 0, or the stat callback's errno */
  pipec_file_kind kind;
  const char *real;        /* in the arena */
} entry;

struct srcfs {
  arena *a;
  pipec_reader_fn read;
  pipec_stat_fn stat;
  pipec_list_fn list;
  void *rctx;              /* the reader's */
  void *ctx;               /* stat's and list's */
  const char *root;        /* the project, or NULL */
  entry *entries;          /* open addressing on the path pointer */
  uint32_t n_entries, cap_entries;
  uint64_t *seen;          /* reported places: src << 32 | off, + 1 */
  uint32_t n_seen, cap_seen;
};

srcfs *srcfs_new(arena *a, const pipec_compile_opts *o) {
  srcfs *fs = arena_alloc(a, sizeof *fs);
  fs->a = a;
  fs->root = o->project_root;
  fs->read = o->reader ? o->reader : pipec_read_disk;
  fs->rctx = o->reader_ctx;
  const pipec_fs *q = o->fs ? o->fs : o->reader ? NULL : pipec_fs_disk();
  fs->stat = q ? q->stat : NULL;
  fs->list = q ? q->list : NULL;
  fs->ctx = q ? q->ctx : NULL;
  return fs;
}

int srcfs_read(srcfs *fs, const char *path, char **text, size_t *len) {
  return fs->read(fs->rctx, path, text, len);
}

bool srcfs_can_stat(const srcfs *fs) { return fs->stat != NULL; }
bool srcfs_can_list(const srcfs *fs) { return fs->list != NULL; }

static uint64_t mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h;
}

/* The entry of interned path p, looked up on first use. */
static const entry *lookup(srcfs *fs, const char *p) {
  if ((fs->n_entries + 1) * 2 > fs->cap_entries) {
    uint32_t cap = fs->cap_entries ? fs->cap_entries * 2 : 64;
    entry *bigger = arena_alloc(fs->a, cap * sizeof *bigger);
    for (uint32_t i = 0; i < fs->cap_entries; i++) {
      const entry *e = &fs->entries[i];
      if (!e->path)
        continue;
      uint32_t k = (uint32_t)mix((uintptr_t)e->path) & (cap - 1);
      while (bigger[k].path)
        k = (k + 1) & (cap - 1);
      bigger[k] = *e;
    }
    arena_release(fs->a, fs->entries, fs->cap_entries * sizeof *fs->entries);
    fs->entries = bigger;
    fs->cap_entries = cap;
  }
  uint32_t k = (uint32_t)mix((uintptr_t)p) & (fs->cap_entries - 1);
  while (fs->entries[k].path && fs->entries[k].path != p)
    k = (k + 1) & (fs->cap_entries - 1);
  entry *e = &fs->entries[k];
  if (e->path)
    return e;
  e->path = p;
  fs->n_entries++;
  char *real = NULL;
  e->err = fs->stat(fs->ctx, p, &e->kind, fs->root ? &real : NULL);
  if (real) {
    e->real = arena_strdup(fs->a, real);
    free(real);
  }
  if (!e->err && fs->root && !e->real)
    e->err = EIO; /* a stat callback that gave no real path */
  return e;
}

bool srcfs_seen(srcfs *fs, int32_t src, uint32_t off) {
  uint64_t key = ((uint64_t)(uint32_t)src << 32 | off) + 1;
  if ((fs->n_seen + 1) * 2 > fs->cap_seen) {
    uint32_t cap = fs->cap_seen ? fs->cap_seen * 2 : 64;
    uint64_t *bigger = arena_alloc(fs->a, cap * sizeof *bigger);
    for (uint32_t i = 0; i < fs->cap_seen; i++) {
      if (!fs->seen[i])
        continue;
      uint32_t k = (uint32_t)mix(fs->seen[i]) & (cap - 1);
      while (bigger[k])
        k = (k + 1) & (cap - 1);
      bigger[k] = fs->seen[i];
    }
    arena_release(fs->a, fs->seen, fs->cap_seen * sizeof *fs->seen);
    fs->seen = bigger;
    fs->cap_seen = cap;
  }
  uint32_t k = (uint32_t)mix(key) & (fs->cap_seen - 1);
  while (fs->seen[k] && fs->seen[k] != key)
    k = (k + 1) & (fs->cap_seen - 1);
  if (fs->seen[k])
    return true;
  fs->seen[k] = key;
  fs->n_seen++;
  return false;
}

static const char *hint_outside =
    "set PIPEC_ALLOW_OUTSIDE=1 to allow files outside the project";

static const char *kind_text(pipec_file_kind k) {
  return k == PIPEC_FILE_REGULAR ? "a file"
         : k == PIPEC_FILE_DIR   ? "a directory"
                                 : "a device, FIFO or socket";
}

static const char *wanted_text(unsigned kinds) {
  return kinds == SRCFS_FILE  ? "a file"
         : kinds == SRCFS_DIR ? "a directory"
                              : "a file or a directory";
}

srcfs_status srcfs_check(srcfs *fs, pipec_diags *d, int32_t src, uint32_t off,
                         uint32_t len, const char *what, const char *path,
                         unsigned kinds) {
  if (!fs->stat) {
    if (!fs->root || path_inside(fs->a, fs->root, path))
      return SRCFS_OK;
    if (!srcfs_seen(fs, src, off)) {
      pipec_diag *g = pipec_diag_add(d, PIPEC_SEV_ERROR, "outside-project",
                                     src, off, len,
                                     "%s '%s' is outside the project (%s)",
                                     what, path, fs->root);
      pipec_diag_hint(g, "%s", hint_outside);
    }
    return SRCFS_REPORTED;
  }
  const entry *e = lookup(fs, arena_intern_cstr(fs->a, path));
  if (e->err == ENOENT || e->err == ENOTDIR)
    return SRCFS_MISSING;
  if (e->err) {
    if (!srcfs_seen(fs, src, off))
      pipec_diag_add(d, PIPEC_SEV_ERROR, "no-file", src, off, len,
                     "%s '%s' cannot be looked up: %s", what, path,
                     strerror(e->err));
    return SRCFS_REPORTED;
  }
  if (fs->root && !path_inside(fs->a, fs->root, e->real)) {
    if (!srcfs_seen(fs, src, off)) {
      pipec_diag *g = pipec_diag_add(
          d, PIPEC_SEV_ERROR, "outside-project", src, off, len,
          "%s '%s' is outside the project (%s): its real path is %s", what,
          path, fs->root, e->real);
      pipec_diag_hint(g, "%s", hint_outside);
    }
    return SRCFS_REPORTED;
  }
  unsigned have = e->kind == PIPEC_FILE_REGULAR ? SRCFS_FILE
                  : e->kind == PIPEC_FILE_DIR   ? SRCFS_DIR
                                                : 0;
  if (!(have & kinds)) {
    if (!srcfs_seen(fs, src, off))
      pipec_diag_add(d, PIPEC_SEV_ERROR, "not-a-file", src, off, len,
                     "%s '%s' is %s, not %s", what, path, kind_text(e->kind),
                     wanted_text(kinds));
    return SRCFS_REPORTED;
  }
  return SRCFS_OK;
}

/* The listing of dir, or an errno value. */
static int list_dir(srcfs *fs, const char *dir, char ***names,
                    pipec_file_kind **kinds, uint32_t *n) {
  *names = NULL;
  *kinds = NULL;
  *n = 0;
  if (!fs->list)
    return ENOSYS;
  return fs->list(fs->ctx, dir, names, kinds, n);
}

static void free_list(char **names, pipec_file_kind *kinds, uint32_t n) {
  for (uint32_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  free(kinds);
}

void srcfs_suggest(srcfs *fs, pipec_diag *g, const char *path,
                   const char *written) {
  const char *dir = path_dir(fs->a, path);
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  char **names;
  pipec_file_kind *kinds;
  uint32_t n;
  if (!*base)
    return;
  int err = list_dir(fs, dir, &names, &kinds, &n);
  if (err == ENOENT && strcmp(dir, ".") != 0)
    pipec_diag_hint(g, "there is no directory '%s'", dir);
  if (err)
    return;
  const char *best = editdist_suggest(base, (const char *const *)names, n);
  if (best) {
    const char *ws = strrchr(written, '/');
    pipec_diag_hint(g, "did you mean '%.*s%s'?",
                    ws ? (int)(ws - written + 1) : 0, written, best);
  }
  free_list(names, kinds, n);
}

bool srcfs_is_glob(const char *s) { return strpbrk(s, "*?[") != NULL; }

typedef VEC(const char *) strvec;

static const char *join(srcfs *fs, const char *prefix, const char *name,
                        size_t len) {
  if (!*prefix)
    return arena_strndup(fs->a, name, len);
  if (strcmp(prefix, "/") == 0)
    return arena_printf(fs->a, "/%.*s", (int)len, name);
  return arena_printf(fs->a, "%s/%.*s", prefix, (int)len, name);
}

/* Is path a regular file? Looked up, or (without a stat callback) found
 * in its directory's listing. */
static bool is_regular(srcfs *fs, const char *path) {
  if (fs->stat) {
    const entry *e = lookup(fs, arena_intern_cstr(fs->a, path));
    return !e->err && e->kind == PIPEC_FILE_REGULAR;
  }
  const char *slash = strrchr(path, '/');
  const char *base = slash ? slash + 1 : path;
  char **names;
  pipec_file_kind *kinds;
  uint32_t n;
  bool found = false;
  if (list_dir(fs, path_dir(fs->a, path), &names, &kinds, &n) != 0)
    return false;
  for (uint32_t i = 0; i < n && !found; i++)
    found = strcmp(names[i], base) == 0 && kinds[i] == PIPEC_FILE_REGULAR;
  free_list(names, kinds, n);
  return found;
}

/* Expand the components of rest (a pattern's tail) below prefix; listed:
 * prefix came from a listing that said it is a regular file. */
static int expand(srcfs *fs, const char *prefix, const char *rest,
                  bool listed, strvec *out) {
  while (*rest == '/')
    rest++;
  if (!*rest) {
    /* a whole path: keep it if it is a regular file */
    if ((listed && !fs->stat) || is_regular(fs, prefix))
      VEC_PUSH(fs->a, *out, arena_intern_cstr(fs->a, prefix));
    return 0;
  }
  const char *end = strchr(rest, '/');
  size_t len = end ? (size_t)(end - rest) : strlen(rest);
  const char *next = rest + len;
  char *comp = arena_strndup(fs->a, rest, len);
  if (!srcfs_is_glob(comp))
    return expand(fs, join(fs, prefix, comp, len), next, false, out);
  char **names;
  pipec_file_kind *kinds;
  uint32_t n;
  int err = list_dir(fs, *prefix ? prefix : ".", &names, &kinds, &n);
  if (err)
    return err == ENOENT || err == ENOTDIR ? 0 : err;
  for (uint32_t i = 0; i < n && !err; i++) {
    if (fnmatch(comp, names[i], FNM_PERIOD) != 0)
      continue;
    bool more = strspn(next, "/") < strlen(next);
    if (more ? kinds[i] != PIPEC_FILE_DIR : kinds[i] != PIPEC_FILE_REGULAR)
      continue;
    err = expand(fs, join(fs, prefix, names[i], strlen(names[i])), next, true,
                 out);
  }
  free_list(names, kinds, n);
  return err;
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int srcfs_glob(srcfs *fs, const char *pattern, const char ***out,
               uint32_t *n) {
  strvec v = {0};
  *out = NULL;
  *n = 0;
  if (!fs->list)
    return ENOSYS;
  int err = expand(fs, pattern[0] == '/' ? "/" : "", pattern, false, &v);
  if (err)
    return err;
  if (v.n > 1)
    qsort(v.items, v.n, sizeof *v.items, cmp_str);
  *out = v.items;
  *n = v.n;
  return 0;
}

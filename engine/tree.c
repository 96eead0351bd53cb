/*
 * tree.c — tree objects (tree.h).
 *
 * Storing a directory walks it depth first: the entries of each directory
 * are read, sorted, stored (files) or walked (subdirectories), and only
 * then is the directory's own tree object written, so a tree never names
 * an object that is not whole in the store. Walks keep one PATH_MAX
 * buffer and append to it level by level.
 */
#define _GNU_SOURCE /* mkostemp */
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"

/* A growing text buffer for one tree object. */
typedef struct tbuf {
  char *p;
  size_t n, cap;
} tbuf;

static int tbuf_add(tbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    while (cap < b->n + n + 1)
      cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
      return -ENOMEM;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = '\0';
  return 0;
}

static int tbuf_entry(tbuf *b, char kind, const hash128 *h,
                      const char *name) {
  char head[HASH_HEX_LEN + 4];
  head[0] = kind;
  head[1] = ' ';
  hash_hex(h, head + 2);
  head[2 + HASH_HEX_LEN] = ' ';
  if (tbuf_add(b, head, HASH_HEX_LEN + 3) < 0 ||
      tbuf_add(b, name, strlen(name)) < 0 || tbuf_add(b, "\n", 1) < 0)
    return -ENOMEM;
  return 0;
}

static int name_cmp(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The sorted names in directory path (malloc'd). */
static int list_dir(const char *path, char ***out, size_t *n, char *err,
                    size_t errlen) {
  DIR *d = opendir(path);
  if (!d) {
    int e = errno;
    snprintf(err, errlen, "cannot read directory %s: %s", path, strerror(e));
    return -e;
  }
  char **names = NULL;
  size_t len = 0, cap = 0;
  struct dirent *de;
  int rc = 0;
  while ((de = readdir(d)) != NULL) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
      continue;
    if (len == cap) {
      cap = cap ? cap * 2 : 16;
      char **nn = realloc(names, cap * sizeof *nn);
      if (!nn) {
        rc = -ENOMEM;
        break;
      }
      names = nn;
    }
    if (!(names[len] = strdup(de->d_name))) {
      rc = -ENOMEM;
      break;
    }
    len++;
  }
  closedir(d);
  if (rc < 0) {
    for (size_t i = 0; i < len; i++)
      free(names[i]);
    free(names);
    snprintf(err, errlen, "cannot read directory %s: out of memory", path);
    return rc;
  }
  if (len > 1)
    qsort(names, len, sizeof *names, name_cmp);
  *out = names;
  *n = len;
  return 0;
}

/* Store buf as an object (through a temp file moved in). */
static int put_text(obj_store *s, const tbuf *b, hash128 *h, char *err,
                    size_t errlen) {
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s/tmp/%d.tree.XXXXXX", obj_dir(s),
           (int)getpid());
  int fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(e));
    return -e;
  }
  size_t off = 0;
  while (off < b->n) {
    ssize_t w = write(fd, b->p + off, b->n - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0) {
      int e = w < 0 ? errno : EIO;
      close(fd);
      unlink(tmp);
      snprintf(err, errlen, "cannot write %s: %s", tmp, strerror(e));
      return -e;
    }
    off += (size_t)w;
  }
  close(fd);
  int rc = obj_put_move(s, tmp, h, NULL, err, errlen);
  if (rc != 0)
    unlink(tmp);
  return rc;
}

typedef struct walk {
  obj_store *s;             /* NULL: only hash */
  const hash_index *idx;
  unsigned flags;
  tree_stats *stats;
  char *err;
  size_t errlen;
} walk;

/* Store or hash the directory in path (path[0..len) is its name; the
 * buffer is PATH_MAX long). */
static int walk_dir(walk *w, char *path, size_t len, int depth, hash128 *h) {
  if (depth >= TREE_MAX_DEPTH) {
    snprintf(w->err, w->errlen, "%s: more than %d directory levels", path,
             TREE_MAX_DEPTH);
    return -ELOOP;
  }
  char **names = NULL;
  size_t n = 0;
  int rc = list_dir(path, &names, &n, w->err, w->errlen);
  if (rc < 0)
    return rc;
  tbuf b = {0};
  rc = tbuf_add(&b, TREE_MAGIC, strlen(TREE_MAGIC));
  for (size_t i = 0; rc == 0 && i < n; i++) {
    size_t nl = strlen(names[i]);
    if (len + 1 + nl >= PATH_MAX) {
      snprintf(w->err, w->errlen, "%s/%s: path too long", path, names[i]);
      rc = -ENAMETOOLONG;
      break;
    }
    path[len] = '/';
    memcpy(path + len + 1, names[i], nl + 1);
    if (strchr(names[i], '\n')) {
      snprintf(w->err, w->errlen, "%s: a file name with a line break cannot "
                                  "be stored", path);
      rc = -EINVAL;
      break;
    }
    struct stat st;
    int src = (w->flags & TREE_FOLLOW) ? stat(path, &st) : lstat(path, &st);
    if (src != 0) {
      rc = -errno;
      snprintf(w->err, w->errlen, "cannot read %s: %s", path, strerror(errno));
      break;
    }
    hash128 eh;
    char kind;
    if (S_ISDIR(st.st_mode)) {
      kind = 'd';
      rc = walk_dir(w, path, len + 1 + nl, depth + 1, &eh);
      if (rc == 0 && w->stats)
        w->stats->dirs++;
    } else if (S_ISREG(st.st_mode)) {
      kind = (st.st_mode & 0111) ? 'x' : 'f';
      if (!w->s)
        rc = hash_file_cached(path, w->idx, &eh, w->err, w->errlen);
      else if (w->flags & TREE_MOVE)
        rc = obj_put_move(w->s, path, &eh, NULL, w->err, w->errlen);
      else
        rc = obj_put_file(w->s, path, &eh, NULL, w->err, w->errlen);
      if (rc == 0 && w->stats) {
        w->stats->files++;
        w->stats->bytes += (uint64_t)st.st_size;
      }
    } else {
      snprintf(w->err, w->errlen, "%s is %s; a directory artifact holds "
                                  "only files and directories%s",
               path, S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file",
               S_ISLNK(st.st_mode) ? " (copy the file itself: cp -L)" : "");
      rc = S_ISLNK(st.st_mode) ? -ELOOP : -EINVAL;
      break;
    }
    if (rc == 0 && tbuf_entry(&b, kind, &eh, names[i]) < 0)
      rc = -ENOMEM;
  }
  path[len] = '\0';
  if (rc == 0) {
    if (w->s)
      rc = put_text(w->s, &b, h, w->err, w->errlen);
    else
      *h = hash_buf(b.p, b.n);
  } else if (rc == -ENOMEM && !w->err[0]) {
    snprintf(w->err, w->errlen, "%s: out of memory", path);
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  free(b.p);
  return rc;
}

static int walk_root(walk *w, const char *path, hash128 *h) {
  size_t len = strlen(path);
  if (len >= PATH_MAX) {
    snprintf(w->err, w->errlen, "%s: path too long", path);
    return -ENAMETOOLONG;
  }
  char *buf = malloc(PATH_MAX);
  if (!buf) {
    snprintf(w->err, w->errlen, "%s: out of memory", path);
    return -ENOMEM;
  }
  memcpy(buf, path, len + 1);
  while (len > 1 && buf[len - 1] == '/')
    buf[--len] = '\0';
  w->err[0] = '\0';
  int rc = walk_dir(w, buf, len, 0, h);
  free(buf);
  return rc;
}

int tree_put(obj_store *s, const char *path, unsigned flags, hash128 *h,
             tree_stats *stats, char *err, size_t errlen) {
  if (stats)
    *stats = (tree_stats){0};
  walk w = {s, NULL, flags, stats, err, errlen};
  return walk_root(&w, path, h);
}

int tree_hash_dir(const char *path, const hash_index *idx, hash128 *h,
                  char *err, size_t errlen) {
  walk w = {NULL, idx, TREE_FOLLOW, NULL, err, errlen};
  return walk_root(&w, path, h);
}

/* ---- reading ------------------------------------------------------------- */

/* The whole object h (malloc'd, NUL-terminated). */
static int read_object(const obj_store *s, const hash128 *h, char **text,
                       size_t *len, char *err, size_t errlen) {
  char path[PATH_MAX];
  obj_path(s, h, path, sizeof path);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    int e = errno;
    snprintf(err, errlen, "cannot read tree object %s: %s", path, strerror(e));
    return -e;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    snprintf(err, errlen, "tree object %s is not a regular file", path);
    return -EINVAL;
  }
  char *buf = malloc((size_t)st.st_size + 1);
  if (!buf) {
    close(fd);
    snprintf(err, errlen, "cannot read tree object %s: out of memory", path);
    return -ENOMEM;
  }
  size_t off = 0;
  while (off < (size_t)st.st_size) {
    ssize_t r = read(fd, buf + off, (size_t)st.st_size - off);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    off += (size_t)r;
  }
  close(fd);
  buf[off] = '\0';
  *text = buf;
  *len = off;
  return 0;
}

bool tree_is_tree(const obj_store *s, const hash128 *h) {
  char path[PATH_MAX], head[sizeof TREE_MAGIC];
  obj_path(s, h, path, sizeof path);
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false;
  ssize_t r = read(fd, head, sizeof head - 1);
  close(fd);
  return r == (ssize_t)(sizeof head - 1) &&
         memcmp(head, TREE_MAGIC, sizeof head - 1) == 0;
}

void tree_entries_free(tree_entry *e, uint32_t n) {
  for (uint32_t i = 0; e && i < n; i++)
    free(e[i].name);
  free(e);
}

int tree_read(const obj_store *s, const hash128 *h, tree_entry **out,
              uint32_t *n, char *err, size_t errlen) {
  *out = NULL;
  *n = 0;
  char *text;
  size_t len;
  int rc = read_object(s, h, &text, &len, err, errlen);
  if (rc < 0)
    return rc;
  char hex[HASH_HEX_LEN + 1];
  hash_hex(h, hex);
  size_t ml = strlen(TREE_MAGIC);
  if (len < ml || memcmp(text, TREE_MAGIC, ml) != 0) {
    free(text);
    snprintf(err, errlen, "object %s is not a tree", hex);
    return -EINVAL;
  }
  uint32_t cap = 0, cnt = 0;
  tree_entry *e = NULL;
  for (char *line = text + ml; *line;) {
    char *nl = strchr(line, '\n');
    if (!nl || nl - line < HASH_HEX_LEN + 4 || line[1] != ' ' ||
        line[2 + HASH_HEX_LEN] != ' ' ||
        (line[0] != 'f' && line[0] != 'x' && line[0] != 'd')) {
      rc = -EINVAL;
      break;
    }
    if (cnt == cap) {
      cap = cap ? cap * 2 : 16;
      tree_entry *ne = realloc(e, cap * sizeof *ne);
      if (!ne) {
        rc = -ENOMEM;
        break;
      }
      e = ne;
    }
    tree_entry *t = &e[cnt];
    t->kind = line[0];
    if (hash_from_hex(line + 2, &t->hash) != 0) {
      rc = -EINVAL;
      break;
    }
    t->name = strndup(line + HASH_HEX_LEN + 3,
                      (size_t)(nl - line) - HASH_HEX_LEN - 3);
    if (!t->name) {
      rc = -ENOMEM;
      break;
    }
    if (!t->name[0] || strchr(t->name, '/') || strcmp(t->name, ".") == 0 ||
        strcmp(t->name, "..") == 0) {
      free(t->name);
      rc = -EINVAL;
      break;
    }
    cnt++;
    line = nl + 1;
  }
  free(text);
  if (rc < 0) {
    tree_entries_free(e, cnt);
    snprintf(err, errlen, rc == -ENOMEM ? "tree %s: out of memory"
                                        : "tree object %s is malformed",
             hex);
    return rc;
  }
  *out = e;
  *n = cnt;
  return 0;
}

/* ---- materializing and walking ------------------------------------------- */

static int mat_dir(const obj_store *s, const hash128 *h, char *path,
                   size_t len, int depth, bool own, char *err,
                   size_t errlen) {
  if (depth >= TREE_MAX_DEPTH) {
    snprintf(err, errlen, "%s: more than %d directory levels", path,
             TREE_MAX_DEPTH);
    return -ELOOP;
  }
  if (mkdir(path, 0755) != 0) {
    int e = errno;
    snprintf(err, errlen, "cannot create %s: %s", path, strerror(e));
    return -e;
  }
  tree_entry *e = NULL;
  uint32_t n = 0;
  int rc = tree_read(s, h, &e, &n, err, errlen);
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    size_t nl = strlen(e[i].name);
    if (len + 1 + nl >= PATH_MAX) {
      snprintf(err, errlen, "%s/%s: path too long", path, e[i].name);
      rc = -ENAMETOOLONG;
      break;
    }
    path[len] = '/';
    memcpy(path + len + 1, e[i].name, nl + 1);
    if (e[i].kind == 'd') {
      rc = mat_dir(s, &e[i].hash, path, len + 1 + nl, depth + 1, own, err,
                   errlen);
    } else {
      bool copy = own || e[i].kind == 'x';
      rc = obj_materialize(s, &e[i].hash, path, copy ? OBJ_MAT_COPY : 0, err,
                           errlen);
      mode_t mode = e[i].kind == 'x' ? (own ? 0755 : 0555) : 0644;
      if (rc == 0 && copy && chmod(path, mode) != 0) {
        rc = -errno;
        snprintf(err, errlen, "cannot chmod %s: %s", path, strerror(errno));
      }
    }
  }
  path[len] = '\0';
  tree_entries_free(e, n);
  if (rc == 0 && !own && chmod(path, 0555) != 0) {
    rc = -errno;
    snprintf(err, errlen, "cannot chmod %s: %s", path, strerror(errno));
  }
  return rc;
}

static int materialize(const obj_store *s, const hash128 *h,
                       const char *dest, bool own, char *err, size_t errlen) {
  size_t len = strlen(dest);
  if (len >= PATH_MAX) {
    snprintf(err, errlen, "%s: path too long", dest);
    return -ENAMETOOLONG;
  }
  char *buf = malloc(PATH_MAX);
  if (!buf) {
    snprintf(err, errlen, "%s: out of memory", dest);
    return -ENOMEM;
  }
  memcpy(buf, dest, len + 1);
  int rc = mat_dir(s, h, buf, len, 0, own, err, errlen);
  free(buf);
  return rc;
}

int tree_materialize(const obj_store *s, const hash128 *h, const char *dest,
                     char *err, size_t errlen) {
  return materialize(s, h, dest, false, err, errlen);
}

int tree_copy_out(const obj_store *s, const hash128 *h, const char *dest,
                  char *err, size_t errlen) {
  return materialize(s, h, dest, true, err, errlen);
}

static int walk_tree(const obj_store *s, const hash128 *h, tree_walk_fn fn,
                     void *ctx, int depth, char *err, size_t errlen) {
  if (depth >= TREE_MAX_DEPTH) {
    snprintf(err, errlen, "tree nested more than %d levels", TREE_MAX_DEPTH);
    return -ELOOP;
  }
  int rc = fn(ctx, h, 'd');
  if (rc != 0)
    return rc;
  tree_entry *e = NULL;
  uint32_t n = 0;
  rc = tree_read(s, h, &e, &n, err, errlen);
  for (uint32_t i = 0; rc == 0 && i < n; i++)
    rc = e[i].kind == 'd'
             ? walk_tree(s, &e[i].hash, fn, ctx, depth + 1, err, errlen)
             : fn(ctx, &e[i].hash, e[i].kind);
  tree_entries_free(e, n);
  return rc;
}

int tree_walk(const obj_store *s, const hash128 *h, tree_walk_fn fn,
              void *ctx, char *err, size_t errlen) {
  return walk_tree(s, h, fn, ctx, 0, err, errlen);
}

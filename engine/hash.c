/*
 * hash.c — content hashes of hash.h: XXH3-128 over buffers, files and
 * directory trees, git's stat index, and the per-run memo.
 *
 * Invariant: a hash taken from the index is only ever one that was computed
 * from the same (dev, ino, size, mtime, ctime) at a time when those stat
 * fields were older than HASH_RACY_NS, so a later write to the file must have
 * moved its timestamps.
 */
#include "hash.h"

#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#define READ_BUF_MAX (1u << 20)   /* 1 MiB: large reads, few syscalls */
#define READ_BUF_MIN (64u << 10)
#define TREE_MAX_DEPTH 64

/* ---- digests ------------------------------------------------------------ */

static hash128 from_xxh(XXH128_hash_t x) {
  XXH128_canonical_t c;
  hash128 h;
  XXH128_canonicalFromHash(&c, x);
  memcpy(h.b, c.digest, sizeof h.b);
  return h;
}

void hash_hex(const hash128 *h, char out[HASH_HEX_LEN + 1]) {
  static const char digits[] = "0123456789abcdef";
  for (int i = 0; i < 16; i++) {
    out[2 * i] = digits[h->b[i] >> 4];
    out[2 * i + 1] = digits[h->b[i] & 15];
  }
  out[HASH_HEX_LEN] = '\0';
}

static int hexval(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

int hash_from_hex(const char *s, hash128 *out) {
  hash128 h;
  for (int i = 0; i < 16; i++) {
    int hi = hexval(s[2 * i]);
    int lo = hi < 0 ? -1 : hexval(s[2 * i + 1]);
    if (lo < 0)
      return -EINVAL;
    h.b[i] = (uint8_t)(hi << 4 | lo);
  }
  *out = h;
  return 0;
}

bool hash_eq(const hash128 *a, const hash128 *b) {
  return memcmp(a->b, b->b, sizeof a->b) == 0;
}

hash128 hash_buf(const void *data, size_t len) {
  return from_xxh(XXH3_128bits(data, len));
}

/* ---- streams ------------------------------------------------------------ */

struct hash_stream {
  XXH3_state_t *st;
};

hash_stream *hash_stream_new(void) {
  hash_stream *s = malloc(sizeof *s);
  if (!s)
    return NULL;
  s->st = XXH3_createState();
  if (!s->st) {
    free(s);
    return NULL;
  }
  XXH3_128bits_reset(s->st);
  return s;
}

void hash_stream_update(hash_stream *s, const void *data, size_t len) {
  XXH3_128bits_update(s->st, data, len);
}

hash128 hash_stream_digest(const hash_stream *s) {
  return from_xxh(XXH3_128bits_digest(s->st));
}

void hash_stream_free(hash_stream *s) {
  if (!s)
    return;
  XXH3_freeState(s->st);
  free(s);
}

/* ---- files -------------------------------------------------------------- */

int hash_fd(int fd, const char *name, hash128 *out, uint64_t *size, char *err,
            size_t errlen) {
  struct stat st;
  size_t cap = READ_BUF_MAX;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
      (uint64_t)st.st_size < READ_BUF_MAX)
    cap = (size_t)st.st_size + 1 < READ_BUF_MIN ? READ_BUF_MIN
                                                : (size_t)st.st_size + 1;
  int rc = 0;
  uint64_t total = 0;
  char *buf = malloc(cap);
  XXH3_state_t *xs = XXH3_createState();
  if (!buf || !xs) {
    rc = -ENOMEM;
    snprintf(err, errlen, "cannot hash %s: out of memory", name);
    goto done;
  }
  XXH3_128bits_reset(xs);
  for (;;) {
    ssize_t n = read(fd, buf, cap);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = -errno;
      snprintf(err, errlen, "cannot read %s: %s", name, strerror(errno));
      goto done;
    }
    if (n == 0)
      break;
    XXH3_128bits_update(xs, buf, (size_t)n);
    total += (uint64_t)n;
  }
  *out = from_xxh(XXH3_128bits_digest(xs));
  if (size)
    *size = total;
done:
  XXH3_freeState(xs);
  free(buf);
  return rc;
}

/* Open path for one sequential read. */
static int open_seq(const char *path, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
    return -e;
  }
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

int hash_file(const char *path, hash128 *out, uint64_t *size, char *err,
              size_t errlen) {
  int fd = open_seq(path, err, errlen);
  if (fd < 0)
    return fd;
  int rc = hash_fd(fd, path, out, size, err, errlen);
  close(fd);
  return rc;
}

/* ---- the index ---------------------------------------------------------- */

hash_stat hash_stat_of(const struct stat *st) {
  hash_stat s;
  s.dev = (uint64_t)st->st_dev;
  s.ino = (uint64_t)st->st_ino;
  s.size = (uint64_t)st->st_size;
  s.mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
  s.ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000LL + st->st_ctim.tv_nsec;
  return s;
}

bool hash_stat_eq(const hash_stat *a, const hash_stat *b) {
  return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
         a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* Touched so recently that another write could follow within the same
 * timestamp tick (or stamped in the future): neither trust nor record. */
static bool is_racy(const hash_index *idx, const hash_stat *s) {
  int64_t now_ns = idx->now_ns;
  if (!now_ns) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    now_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
  }
  int64_t t = s->mtime_ns > s->ctime_ns ? s->mtime_ns : s->ctime_ns;
  return t > now_ns - HASH_RACY_NS;
}

static int not_regular(const char *path, const struct stat *st, char *err,
                       size_t errlen) {
  int e = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
  snprintf(err, errlen, "cannot hash %s: %s", path,
           e == EISDIR ? "is a directory" : "not a regular file");
  return -e;
}

int hash_file_cached(const char *path, const hash_index *idx, hash128 *out,
                     char *err, size_t errlen) {
  struct stat st;
  if (idx && idx->get) {
    /* Cheap path: stat only, no open. */
    if (stat(path, &st) != 0) {
      int e = errno;
      snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
      return -e;
    }
    if (!S_ISREG(st.st_mode))
      return not_regular(path, &st, err, errlen);
    hash_stat now = hash_stat_of(&st), old;
    hash128 h;
    if (!is_racy(idx, &now) && idx->get(idx->ctx, path, &old, &h) == 1 &&
        hash_stat_eq(&now, &old)) {
      *out = h;
      return 0;
    }
  }
  int fd = open_seq(path, err, errlen);
  if (fd < 0)
    return fd;
  int rc;
  if (fstat(fd, &st) != 0) {
    rc = -errno;
    snprintf(err, errlen, "cannot stat %s: %s", path, strerror(errno));
    goto done;
  }
  if (!S_ISREG(st.st_mode)) {
    rc = not_regular(path, &st, err, errlen);
    goto done;
  }
  /* The stat taken before reading: if the file changes while we read, its
   * timestamps move past it and the entry will not match again. */
  hash_stat hs = hash_stat_of(&st);
  rc = hash_fd(fd, path, out, NULL, err, errlen);
  if (rc == 0 && idx && idx->put && !is_racy(idx, &hs))
    (void)idx->put(idx->ctx, path, &hs, out);
done:
  close(fd);
  return rc;
}

/* ---- files and trees ---------------------------------------------------- */

int hash_path(const char *path, const hash_index *idx, hash128 *out,
              bool *is_dir, char *err, size_t errlen) {
  struct stat st;
  if (stat(path, &st) != 0) {
    int e = errno;
    snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
    return -e;
  }
  if (is_dir)
    *is_dir = S_ISDIR(st.st_mode);
  if (!S_ISDIR(st.st_mode))
    return hash_file_cached(path, idx, out, err, errlen);
  /* a directory hashes as its tree object would (tree.h), so a path
   * param naming it and dir("p") agree */
  return tree_hash_dir(path, idx, out, err, errlen);
}

/* ---- per-run memo: open addressing, keyed by absolute path -------------- */

typedef struct memo_slot {
  char *path;                  /* NULL: empty */
  hash128 h;
  bool is_dir;
} memo_slot;

struct hash_memo {
  char *base;                  /* absolute */
  const hash_index *idx;
  memo_slot *slots;
  size_t cap, n;               /* cap: a power of two */
};

hash_memo *hash_memo_new(const char *base_dir, const hash_index *idx) {
  hash_memo *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  m->base = realpath(base_dir && *base_dir ? base_dir : ".", NULL);
  m->cap = 64;
  m->slots = calloc(m->cap, sizeof *m->slots);
  if (!m->base || !m->slots) {
    int e = errno;
    hash_memo_free(m);
    errno = e;
    return NULL;
  }
  m->idx = idx;
  return m;
}

void hash_memo_free(hash_memo *m) {
  if (!m)
    return;
  for (size_t i = 0; i < m->cap && m->slots; i++)
    free(m->slots[i].path);
  free(m->slots);
  free(m->base);
  free(m);
}

static memo_slot *memo_find(memo_slot *slots, size_t cap, const char *path) {
  size_t i = (size_t)XXH3_64bits(path, strlen(path)) & (cap - 1);
  while (slots[i].path && strcmp(slots[i].path, path) != 0)
    i = (i + 1) & (cap - 1);
  return &slots[i];
}

static int memo_grow(hash_memo *m) {
  size_t cap = m->cap * 2;
  memo_slot *slots = calloc(cap, sizeof *slots);
  if (!slots)
    return -ENOMEM;
  for (size_t i = 0; i < m->cap; i++)
    if (m->slots[i].path)
      *memo_find(slots, cap, m->slots[i].path) = m->slots[i];
  free(m->slots);
  m->slots = slots;
  m->cap = cap;
  return 0;
}

int hash_memo_path(hash_memo *m, const char *path, hash128 *out, bool *is_dir,
                   char *err, size_t errlen) {
  char *abs;
  if (path[0] == '/')
    abs = strdup(path);
  else if ((abs = malloc(strlen(m->base) + 1 + strlen(path) + 1)) != NULL)
    sprintf(abs, "%s/%s", m->base, path);
  if (!abs) {
    snprintf(err, errlen, "cannot hash %s: out of memory", path);
    return -ENOMEM;
  }
  memo_slot *s = memo_find(m->slots, m->cap, abs);
  if (s->path) {
    free(abs);
    *out = s->h;
    if (is_dir)
      *is_dir = s->is_dir;
    return 0;
  }
  bool dir = false;
  int rc = hash_path(abs, m->idx, out, &dir, err, errlen);
  if (rc < 0) {
    free(abs);
    return rc;
  }
  if (is_dir)
    *is_dir = dir;
  if ((m->n + 1) * 4 > m->cap * 3 && memo_grow(m) < 0) {
    free(abs);                 /* not remembered; the hash is still right */
    return 0;
  }
  s = memo_find(m->slots, m->cap, abs);
  s->path = abs;
  s->h = *out;
  s->is_dir = dir;
  m->n++;
  return 0;
}

int hash_memo_cb(void *ctx, const char *path, hash128 *out, bool *is_dir,
                 char *err, size_t errlen) {
  return hash_memo_path(ctx, path, out, is_dir, err, errlen);
}

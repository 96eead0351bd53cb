/*
 * objstore.c — the content-addressed object store of objstore.h.
 *
 * Writing an object, step by step (a crash at any step leaves either no
 * object or a whole one; at worst a temp file under tmp/):
 *
 *   mkostemp(tmp/<pid>.XXXXXX) -- copy + hash
 *     -- mkdir fan-out unless known (fsync objects/ if new)
 *     -- present, same size, and the caller's keep() trusts it?
 *          --yes--> unlink temp (dedupe: nothing is synced)
 *          `-no--> fchmod 0444 -- fsync -- rename in (replacing it),
 *                  fstat, fsync fan-out
 *
 * With defer_sync the two fsyncs wait for obj_sync_pending(): before the
 * rename the file's writeback is only started (sync_file_range), which on
 * a journaling filesystem (ext4's data=ordered) still orders its data
 * before the rename's commit, and the object's name goes on the pending
 * list; obj_sync_pending() fsyncs every pending object, then every fan-out
 * directory (and objects/) they went into: one batch of syncs for all the
 * objects a transaction is about to name.
 *
 * obj_put() with move skips the copy: it hashes the file where it is and
 * renames it in. Nothing here follows a symlink under an object's name or
 * a moved output. The store keeps no cache of its own beyond which fan-out
 * directories exist; the filesystem is the truth, and the caller keeps
 * each object's stat to check it against.
 */
#define _GNU_SOURCE                /* mkostemp, copy_file_range, syncfs */
#include "objstore.h"

#include "durable.h"
#include "fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define COPY_BUF_MAX (1u << 20)
#define COPY_BUF_MIN (64u << 10)

struct obj_store {
  char *dir;                   /* objects/ */
  char *tmp;                   /* objects/tmp */
  int dirfd;                   /* objects/, for fsync and syncfs */
  dev_t dev;                   /* its filesystem: moves from elsewhere copy */
  obj_opts opts;
  int fine_ts;                 /* obj_fine_timestamps: 0 not probed yet,
                                  1 fine-grained, -1 coarse */
  uint8_t fanout_known[32];    /* bit per objects/XX/: known to exist */
  hash128 *pending;            /* defer_sync: renamed in, not yet synced */
  size_t n_pending, cap_pending;
  uint8_t dirs_pending[32];    /* defer_sync: fan-outs to fsync */
  bool top_pending;            /* defer_sync: objects/ itself to fsync */
};

const char *obj_dir(const obj_store *s) { return s->dir; }

/* One message shape for I/O failures; disk full is named as such. */
static int io_fail(int e, const char *what, const char *path, char *err,
                   size_t errlen) {
  if (e == ENOSPC || e == EDQUOT)
    snprintf(err, errlen, "disk full: cannot %s %s (%s)", what, path,
             strerror(e));
  else
    snprintf(err, errlen, "cannot %s %s: %s", what, path, strerror(e));
  return -e;
}

static int mkdir_p(char *path) {
  for (char *p = path + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    int rc = mkdir(path, 0777);
    *p = '/';
    if (rc != 0 && errno != EEXIST)
      return -errno;
  }
  if (mkdir(path, 0777) != 0 && errno != EEXIST)
    return -errno;
  return 0;
}

int obj_open(const char *dir, const obj_opts *opts, obj_store **out,
             char *err, size_t errlen) {
  obj_store *s = calloc(1, sizeof *s);
  int rc = -ENOMEM;
  if (!s)
    goto fail;
  s->dirfd = -1;
  if (opts)
    s->opts = *opts;
  size_t n = strlen(dir);
  while (n > 1 && dir[n - 1] == '/')
    n--;
  if (!(s->dir = strndup(dir, n)) || !(s->tmp = malloc(n + 5)))
    goto fail;
  sprintf(s->tmp, "%s/tmp", s->dir);
  if ((rc = mkdir_p(s->tmp)) < 0) {
    snprintf(err, errlen, "cannot create %s: %s", s->tmp, strerror(-rc));
    goto fail_quiet;
  }
  s->dirfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (s->dirfd < 0) {
    rc = -errno;
    snprintf(err, errlen, "cannot open %s: %s", s->dir, strerror(errno));
    goto fail_quiet;
  }
  struct stat st;
  if (fstat(s->dirfd, &st) != 0) {
    rc = -errno;
    snprintf(err, errlen, "cannot stat %s: %s", s->dir, strerror(errno));
    goto fail_quiet;
  }
  s->dev = st.st_dev;
  *out = s;
  return 0;
fail:
  snprintf(err, errlen, "cannot open the object store: out of memory");
fail_quiet:
  obj_close(s);
  return rc;
}

void obj_close(obj_store *s) {
  if (!s)
    return;
  if (s->dirfd >= 0)
    close(s->dirfd);
  free(s->dir);
  free(s->tmp);
  free(s->pending);
  free(s);
}

int obj_path(const obj_store *s, const hash128 *h, char *buf, size_t len) {
  /* (without printf: every cache hit names its objects) */
  char hex[HASH_HEX_LEN + 1];
  hash_hex(h, hex);
  size_t d = strlen(s->dir), n = d + 1 + 2 + 1 + (HASH_HEX_LEN - 2);
  if (n < len) {
    memcpy(buf, s->dir, d);
    buf[d] = '/';
    memcpy(buf + d + 1, hex, 2);
    buf[d + 3] = '/';
    memcpy(buf + d + 4, hex + 2, HASH_HEX_LEN - 2 + 1);
  } else if (len) {
    snprintf(buf, len, "%s/%.2s/%s", s->dir, hex, hex + 2); /* truncated */
  }
  return (int)n;
}

/* ---- writing ------------------------------------------------------------ */

static int write_all(const obj_store *s, int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = s->opts.write ? s->opts.write(fd, buf, n) : write(fd, buf, n);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    if (w == 0)
      return -EIO;
    buf += w;
    n -= (size_t)w;
  }
  return 0;
}

static int fsync_dir(const char *path) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  int rc = durable_sync(fd) == 0 ? 0 : -errno;
  close(fd);
  return rc;
}

/* The fan-out directory's index (its two hex digits) of an object path. */
static unsigned fanout_of(const obj_store *s, const char *obj) {
  const char *hx = obj + strlen(s->dir) + 1;
  unsigned v = 0;
  for (int i = 0; i < 2; i++) {
    char c = hx[i];
    v = v * 16 + (unsigned)(c <= '9' ? c - '0' : c - 'a' + 10);
  }
  return v & 0xff;
}

static bool bit_get(const uint8_t *bits, unsigned i) {
  return bits[i / 8] & (1u << (i % 8));
}

static void bit_set(uint8_t *bits, unsigned i, bool on) {
  if (on)
    bits[i / 8] |= (uint8_t)(1u << (i % 8));
  else
    bits[i / 8] &= (uint8_t)~(1u << (i % 8));
}

/* Make sure objects/ab/ exists (once per store: then it is known); fsync
 * objects/ when it was just made (with defer_sync, at the next
 * obj_sync_pending). */
static int fanout_dir(obj_store *s, const char *obj, char *err,
                      size_t errlen) {
  unsigned fo = fanout_of(s, obj);
  if (bit_get(s->fanout_known, fo))
    return 0;
  char dir[PATH_MAX];
  size_t n = strlen(s->dir) + 3;         /* "<dir>/ab" */
  memcpy(dir, obj, n);
  dir[n] = '\0';
  if (mkdir(dir, 0777) == 0) {
    if (s->opts.defer_sync)
      s->top_pending = true;
    else if (!s->opts.no_sync && durable_sync(s->dirfd) != 0)
      return io_fail(errno, "sync", s->dir, err, errlen);
  } else if (errno != EEXIST) {
    return io_fail(errno, "create", dir, err, errlen);
  }
  bit_set(s->fanout_known, fo, true);
  return 0;
}

/* rename(from, obj), making the fan-out again if it went away since it was
 * known (removed by hand). */
static int rename_in(obj_store *s, const char *from, const char *obj,
                     char *err, size_t errlen) {
  if (rename(from, obj) == 0)
    return 0;
  if (errno != ENOENT || access(from, F_OK) != 0)
    return io_fail(errno, "store", obj, err, errlen);
  bit_set(s->fanout_known, fanout_of(s, obj), false);
  int rc = fanout_dir(s, obj, err, errlen);
  if (rc < 0)
    return rc;
  return rename(from, obj) == 0 ? 0 : io_fail(errno, "store", obj, err,
                                                errlen);
}

static void add_pending(obj_store *s, const hash128 *h) {
  if (s->n_pending == s->cap_pending) {
    size_t cap = s->cap_pending ? s->cap_pending * 2 : 64;
    hash128 *v = realloc(s->pending, cap * sizeof *v);
    if (!v)
      abort(); /* out of memory */
    s->pending = v;
    s->cap_pending = cap;
  }
  s->pending[s->n_pending++] = *h;
}

static bool present(const char *obj, uint64_t size) {
  struct stat st;
  return lstat(obj, &st) == 0 && S_ISREG(st.st_mode) &&
         (size == OBJ_ANY_SIZE || (uint64_t)st.st_size == size);
}

/* Read-only, then on disk: fsync'd, or (defer_sync) its writeback started,
 * the fsync left to obj_sync_pending. */
static int seal(obj_store *s, int fd, const char *name, char *err,
                size_t errlen) {
  if (fchmod(fd, 0444) != 0)
    return io_fail(errno, "make read-only", name, err, errlen);
  if (s->opts.defer_sync)
    durable_writeback(fd);
  else if (!s->opts.no_sync && durable_sync(fd) != 0)
    return io_fail(errno, "sync", name, err, errlen);
  return 0;
}

/* Move the finished file at from (open as fd) to the object's name, unless
 * a whole copy is there that opts->keep trusts (then from is unlinked and
 * nothing is synced: the object on disk is the one kept); else seal it
 * and rename it in. out->st is the stat of what is under the name
 * afterwards. On failure from is left where it is. */
static int install(obj_store *s, int fd, const char *from,
                   const obj_put_opts *opts, obj_info *out, char *err,
                   size_t errlen) {
  char obj[PATH_MAX];
  struct stat st;
  int rc;
  obj_path(s, &out->hash, obj, sizeof obj);
  if ((rc = fanout_dir(s, obj, err, errlen)) < 0)
    return rc;
  if (lstat(obj, &st) == 0) {
    hash_stat existing = hash_stat_of(&st);
    if (S_ISREG(st.st_mode) && (uint64_t)st.st_size == out->size &&
        opts->keep && opts->keep(opts->keep_ctx, &out->hash, &existing)) {
      unlink(from);
      out->st = existing;
      return 0;
    }
    if (S_ISDIR(st.st_mode))
      fs_rm_rf(obj);             /* not ours: rename cannot replace it */
  }
  if ((rc = seal(s, fd, from, err, errlen)) < 0)
    return rc;
  if ((rc = rename_in(s, from, obj, err, errlen)) < 0)
    return rc;
  /* after the rename, which moves the inode's ctime */
  if (fstat(fd, &st) != 0)
    return io_fail(errno, "stat", obj, err, errlen);
  out->st = hash_stat_of(&st);
  if (s->opts.defer_sync) {
    add_pending(s, &out->hash);
    bit_set(s->dirs_pending, fanout_of(s, obj), true);
  } else if (!s->opts.no_sync) {
    obj[strlen(s->dir) + 3] = '\0';
    if ((rc = fsync_dir(obj)) < 0)
      return io_fail(-rc, "sync", obj, err, errlen);
  }
  return 0;
}

static size_t buf_size(uint64_t file_size) {
  if (file_size >= COPY_BUF_MAX)
    return COPY_BUF_MAX;
  return file_size + 1 < COPY_BUF_MIN ? COPY_BUF_MIN : (size_t)file_size + 1;
}

static int not_regular(const char *src, const struct stat *st, char *err,
                       size_t errlen) {
  if (S_ISLNK(st->st_mode)) {
    snprintf(err, errlen, "cannot store %s: it is a symbolic link", src);
    return -ELOOP;
  }
  snprintf(err, errlen, "cannot store %s: %s", src,
           S_ISDIR(st->st_mode) ? "is a directory" : "not a regular file");
  return S_ISDIR(st->st_mode) ? -EISDIR : -EINVAL;
}

/* opts->expect is set and the bytes hashed to something else. */
static int unexpected(const obj_put_opts *opts, const obj_info *got,
                      const char *src, char *err, size_t errlen) {
  if (!opts->expect || hash_eq(opts->expect, &got->hash))
    return 0;
  char want[HASH_HEX_LEN + 1], have[HASH_HEX_LEN + 1];
  hash_hex(opts->expect, want);
  hash_hex(&got->hash, have);
  snprintf(err, errlen, "%s hashes to %s, not %s", src, have, want);
  return -EBADMSG;
}

/* Store a copy of what fd (open on src, a regular file) holds. */
static int put_copy(obj_store *s, int in, const char *src,
                    const obj_put_opts *opts, obj_info *out, char *err,
                    size_t errlen) {
  char tmp[PATH_MAX];
  int fd = -1, rc;
  char *buf = NULL;
  hash_stream *hs = NULL;
  uint64_t total = 0;
  struct stat st;

  if (fstat(in, &st) != 0)
    return io_fail(errno, "stat", src, err, errlen);
  if (!S_ISREG(st.st_mode))
    return not_regular(src, &st, err, errlen);
  (void)posix_fadvise(in, 0, 0, POSIX_FADV_SEQUENTIAL);
  size_t cap = buf_size((uint64_t)st.st_size);
  if (!(buf = malloc(cap)) || !(hs = hash_stream_new())) {
    rc = -ENOMEM;
    snprintf(err, errlen, "cannot store %s: out of memory", src);
    goto done;
  }
  snprintf(tmp, sizeof tmp, "%s/%ld.XXXXXX", s->tmp, (long)getpid());
  fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    rc = io_fail(errno, "create a temporary file in", s->tmp, err, errlen);
    goto done;
  }
  for (;;) {
    ssize_t n = read(in, buf, cap);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      rc = io_fail(errno, "read", src, err, errlen);
      goto done;
    }
    if (n == 0)
      break;
    hash_stream_update(hs, buf, (size_t)n);
    if ((rc = write_all(s, fd, buf, (size_t)n)) < 0) {
      rc = io_fail(-rc, "store", src, err, errlen);
      goto done;
    }
    total += (uint64_t)n;
  }
  out->hash = hash_stream_digest(hs);
  out->size = total;
  if ((rc = unexpected(opts, out, src, err, errlen)) < 0)
    goto done;
  rc = install(s, fd, tmp, opts, out, err, errlen);
  if (rc == 0) {                 /* tmp is the object now, or gone */
    close(fd);
    fd = -1;
  }
done:
  if (fd >= 0) {
    close(fd);
    unlink(tmp);
  }
  hash_stream_free(hs);
  free(buf);
  return rc;
}

/* Move src in: hash it where it is, seal it, rename it. */
static int put_move(obj_store *s, const char *src, const obj_put_opts *opts,
                    obj_info *out, char *err, size_t errlen) {
  struct stat st, fst;
  int rc;
  if (lstat(src, &st) != 0)
    return io_fail(errno, "open", src, err, errlen);
  if (!S_ISREG(st.st_mode))
    return not_regular(src, &st, err, errlen);
  /* O_NOFOLLOW: src cannot have become a symlink since the lstat */
  int fd = open(src, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0 && errno == ELOOP) {
    snprintf(err, errlen, "cannot store %s: it is a symbolic link", src);
    return -ELOOP;
  }
  if (fd < 0)
    return io_fail(errno, "open", src, err, errlen);
  if (fstat(fd, &fst) != 0) {
    rc = io_fail(errno, "stat", src, err, errlen);
    goto done;
  }
  /* A file with other names may belong to someone else: chmod-ing it or
   * owning its inode is not ours to do. Copy instead. */
  if (!S_ISREG(fst.st_mode) || fst.st_nlink > 1 || fst.st_dev != s->dev) {
    if ((rc = put_copy(s, fd, src, opts, out, err, errlen)) == 0)
      unlink(src);
    goto done;
  }
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  rc = hash_fd(fd, src, &out->hash, &out->size, err, errlen);
  if (rc == 0)
    rc = unexpected(opts, out, src, err, errlen);
  if (rc == 0)
    rc = install(s, fd, src, opts, out, err, errlen);
  if (rc == -EXDEV) {
    /* not the store's filesystem after all (a bind mount): copy */
    if (lseek(fd, 0, SEEK_SET) == 0 &&
        (rc = put_copy(s, fd, src, opts, out, err, errlen)) == 0)
      unlink(src);
  }
done:
  close(fd);
  return rc;
}

int obj_put(obj_store *s, const char *src, const obj_put_opts *opts,
            obj_info *out, char *err, size_t errlen) {
  static const obj_put_opts copy = {0};
  if (!opts)
    opts = &copy;
  memset(out, 0, sizeof *out);
  if (opts->move)
    return put_move(s, src, opts, out, err, errlen);
  int in = open(src, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (in < 0)
    return io_fail(errno, "open", src, err, errlen);
  int rc = put_copy(s, in, src, opts, out, err, errlen);
  close(in);
  return rc;
}

static int put_simple(obj_store *s, const char *src, bool move, hash128 *h,
                      uint64_t *size, char *err, size_t errlen) {
  obj_put_opts o = {.move = move};
  obj_info info;
  int rc = obj_put(s, src, &o, &info, err, errlen);
  if (rc == 0) {
    *h = info.hash;
    if (size)
      *size = info.size;
  }
  return rc;
}

int obj_put_file(obj_store *s, const char *src, hash128 *h, uint64_t *size,
                 char *err, size_t errlen) {
  return put_simple(s, src, false, h, size, err, errlen);
}

int obj_put_move(obj_store *s, const char *src, hash128 *h, uint64_t *size,
                 char *err, size_t errlen) {
  return put_simple(s, src, true, h, size, err, errlen);
}

int obj_sync(obj_store *s, char *err, size_t errlen) {
  if (durable_syncfs(s->dirfd) != 0)
    return io_fail(errno, "sync", s->dir, err, errlen);
  s->n_pending = 0;
  memset(s->dirs_pending, 0, sizeof s->dirs_pending);
  s->top_pending = false;
  return 0;
}

size_t obj_pending(const obj_store *s) { return s->n_pending; }

int obj_sync_pending(obj_store *s, char *err, size_t errlen) {
  char path[PATH_MAX];
  int rc = 0;
  /* the files first, then the directories naming them */
  for (size_t i = 0; i < s->n_pending && rc == 0; i++) {
    obj_path(s, &s->pending[i], path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      if (errno == ENOENT)
        continue; /* removed since (damaged): nothing names it */
      rc = io_fail(errno, "open", path, err, errlen);
      break;
    }
    if (durable_sync(fd) != 0)
      rc = io_fail(errno, "sync", path, err, errlen);
    close(fd);
  }
  for (unsigned d = 0; d < 256 && rc == 0; d++) {
    if (!bit_get(s->dirs_pending, d))
      continue;
    snprintf(path, sizeof path, "%s/%02x", s->dir, d);
    int e = fsync_dir(path);
    if (e < 0)
      rc = io_fail(-e, "sync", path, err, errlen);
  }
  if (rc == 0 && s->top_pending && durable_sync(s->dirfd) != 0)
    rc = io_fail(errno, "sync", s->dir, err, errlen);
  if (rc == 0) {
    s->n_pending = 0;
    memset(s->dirs_pending, 0, sizeof s->dirs_pending);
    s->top_pending = false;
  }
  return rc;
}

/* ---- reading ------------------------------------------------------------ */

bool obj_exists(const obj_store *s, const hash128 *h, uint64_t size) {
  char obj[PATH_MAX];
  obj_path(s, h, obj, sizeof obj);
  return present(obj, size);
}

int obj_stat(const obj_store *s, const hash128 *h, hash_stat *out) {
  char obj[PATH_MAX];
  struct stat st;
  obj_path(s, h, obj, sizeof obj);
  if (lstat(obj, &st) != 0)
    return -errno;
  if (!S_ISREG(st.st_mode))
    return S_ISLNK(st.st_mode) ? -ELOOP : S_ISDIR(st.st_mode) ? -EISDIR
                                                               : -EINVAL;
  *out = hash_stat_of(&st);
  return 0;
}

int obj_seal(obj_store *s, const hash128 *h, hash_stat *out) {
  char obj[PATH_MAX];
  struct stat st;
  obj_path(s, h, obj, sizeof obj);
  if (lstat(obj, &st) != 0)
    return -errno;
  if (!S_ISREG(st.st_mode))
    return -EINVAL;
  if ((st.st_mode & 07777) != 0444 &&
      (chmod(obj, 0444) != 0 || lstat(obj, &st) != 0))
    return -errno;
  if (out)
    *out = hash_stat_of(&st);
  return 0;
}

static const char *odd_kind(mode_t m) {
  return S_ISLNK(m) ? "a symbolic link" : S_ISDIR(m) ? "a directory"
                                                     : "not a regular file";
}

int obj_check(const obj_store *s, const hash128 *h, const hash_stat *recorded,
              hash_stat *now, bool *rehashed, char *err, size_t errlen) {
  char obj[PATH_MAX], hex[HASH_HEX_LEN + 1], got[HASH_HEX_LEN + 1];
  struct stat before, after;
  hash128 actual;
  obj_path(s, h, obj, sizeof obj);
  hash_hex(h, hex);
  if (rehashed)
    *rehashed = false;
  if (errlen)
    err[0] = '\0';
  if (lstat(obj, &before) != 0) {
    int e = errno;
    if (e == ENOENT)
      snprintf(err, errlen, "object %s is missing", hex);
    else
      snprintf(err, errlen, "cannot stat object %s: %s", hex, strerror(e));
    return -e;
  }
  if (!S_ISREG(before.st_mode)) {
    snprintf(err, errlen, "object %s is %s, not a stored file", hex,
             odd_kind(before.st_mode));
    return OBJ_NOT_FILE;
  }
  hash_stat cur = hash_stat_of(&before);
  if (recorded && hash_stat_eq(&cur, recorded)) {
    if (now)
      *now = cur;
    return 0;
  }
  if (rehashed)
    *rehashed = true;
  int fd = open(obj, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) {
      snprintf(err, errlen, "object %s is missing", hex);
      return -e;
    }
    if (e == ELOOP) {
      snprintf(err, errlen, "object %s is a symbolic link, not a stored "
                            "file", hex);
      return OBJ_NOT_FILE;
    }
    snprintf(err, errlen, "cannot open object %s: %s", hex, strerror(e));
    return -e;
  }
  (void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  int rc = fstat(fd, &before) == 0 ? 0 : -errno;
  if (rc == 0)
    rc = hash_fd(fd, obj, &actual, NULL, err, errlen);
  if (rc == 0 && fstat(fd, &after) != 0)
    rc = -errno;
  close(fd);
  if (rc < 0) {
    if (!err[0])
      snprintf(err, errlen, "cannot read object %s: %s", hex, strerror(-rc));
    return rc;
  }
  cur = hash_stat_of(&before);
  hash_stat end = hash_stat_of(&after);
  if (!hash_stat_eq(&cur, &end)) {
    snprintf(err, errlen, "object %s changed while it was being read", hex);
    return OBJ_DAMAGED;
  }
  if (!hash_eq(&actual, h)) {
    hash_hex(&actual, got);
    snprintf(err, errlen, "object %s is damaged: its content hashes to %s",
             hex, got);
    return OBJ_DAMAGED;
  }
  if (now)
    *now = cur;
  return 0;
}

int obj_verify(const obj_store *s, const hash128 *h, char *err,
               size_t errlen) {
  return obj_check(s, h, NULL, NULL, NULL, err, errlen);
}

static bool all_hex(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return s[n] == '\0';
}

/* Call fn for every entry named like an object (regular or not), with its
 * lstat; stop when fn returns non-zero (which walk returns). */
typedef int (*walk_fn)(void *ctx, const hash128 *h, const struct stat *st);

static int walk(const obj_store *s, walk_fn fn, void *ctx, char *err,
                size_t errlen) {
  DIR *top = opendir(s->dir);
  if (!top)
    return io_fail(errno, "read", s->dir, err, errlen);
  int rc = 0;
  struct dirent *de;
  while (rc == 0 && (de = readdir(top)) != NULL) {
    if (!all_hex(de->d_name, 2))
      continue;                  /* tmp/, stray files */
    char fan[3] = {de->d_name[0], de->d_name[1], '\0'};
    int fd = openat(dirfd(top), fan, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
                                         O_NOFOLLOW);
    DIR *sub = fd < 0 ? NULL : fdopendir(fd);
    if (!sub) {
      if (fd >= 0)
        close(fd);
      continue;                  /* not a directory */
    }
    struct dirent *e;
    while (rc == 0 && (e = readdir(sub)) != NULL) {
      char hex[HASH_HEX_LEN + 1];
      struct stat st;
      hash128 h;
      if (!all_hex(e->d_name, HASH_HEX_LEN - 2))
        continue;
      memcpy(hex, fan, 2);
      memcpy(hex + 2, e->d_name, HASH_HEX_LEN - 2 + 1);
      if (hash_from_hex(hex, &h) < 0 ||
          fstatat(dirfd(sub), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        continue;
      rc = fn(ctx, &h, &st);
    }
    closedir(sub);
  }
  closedir(top);
  return rc;
}

typedef struct foreach_ctx {
  obj_foreach_cb cb;
  void *ctx;
} foreach_ctx;

static int foreach_one(void *ctx, const hash128 *h, const struct stat *st) {
  foreach_ctx *f = ctx;
  return S_ISREG(st->st_mode) ? f->cb(f->ctx, h, (uint64_t)st->st_size) : 0;
}

int obj_foreach(const obj_store *s, obj_foreach_cb cb, void *ctx, char *err,
                size_t errlen) {
  foreach_ctx f = {cb, ctx};
  return walk(s, foreach_one, &f, err, errlen);
}

typedef struct verify_ctx {
  const obj_store *s;
  obj_verify_cb cb;
  void *ctx;
  int bad;
} verify_ctx;

static int verify_one(void *ctx, const hash128 *h, const struct stat *st) {
  verify_ctx *v = ctx;
  char msg[512], hex[HASH_HEX_LEN + 1];
  hash_stat now;
  int rc;
  if (S_ISREG(st->st_mode)) {
    rc = obj_check(v->s, h, NULL, &now, NULL, msg, sizeof msg);
  } else {
    hash_hex(h, hex);
    snprintf(msg, sizeof msg, "object %s is %s, not a stored file", hex,
             odd_kind(st->st_mode));
    rc = OBJ_NOT_FILE;
  }
  if (rc != 0)
    v->bad++;
  return v->cb ? v->cb(v->ctx, h, rc, rc == 0 ? &now : NULL,
                       rc == 0 ? "" : msg)
               : 0;
}

int obj_verify_all(const obj_store *s, obj_verify_cb cb, void *ctx,
                   char *err, size_t errlen) {
  verify_ctx v = {s, cb, ctx, 0};
  err[0] = '\0';
  int rc = walk(s, verify_one, &v, err, errlen);
  if (rc < 0 && err[0])
    return rc;                   /* the store itself is unreadable */
  return v.bad;
}

int obj_remove(obj_store *s, const hash128 *h, char *err, size_t errlen) {
  char obj[PATH_MAX];
  struct stat st;
  obj_path(s, h, obj, sizeof obj);
  if (lstat(obj, &st) == 0 && S_ISDIR(st.st_mode)) {
    fs_rm_rf(obj);
    return 0;
  }
  if (unlink(obj) != 0)
    return io_fail(errno, "remove", obj, err, errlen);
  return 0;
}

bool obj_fine_timestamps(obj_store *s) {
  if (s->fine_ts)
    return s->fine_ts > 0;
  char tmp[PATH_MAX];
  snprintf(tmp, sizeof tmp, "%s/%ld.XXXXXX", s->tmp, (long)getpid());
  int fd = mkostemp(tmp, O_CLOEXEC);
  bool fine = fd >= 0;
  /* write, look, write again at once: with coarse timestamps the two
   * writes share a tick (three tries: one may straddle a tick) */
  for (int i = 0; fine && i < 3; i++) {
    struct stat a, b;
    fine = write(fd, "x", 1) == 1 && fstat(fd, &a) == 0 &&
           write(fd, "x", 1) == 1 && fstat(fd, &b) == 0 &&
           (a.st_mtim.tv_sec != b.st_mtim.tv_sec ||
            a.st_mtim.tv_nsec != b.st_mtim.tv_nsec);
  }
  if (fd >= 0) {
    close(fd);
    unlink(tmp);
  }
  s->fine_ts = fine ? 1 : -1;
  return fine;
}

/* ---- materializing ------------------------------------------------------ */

/* Copy in to out: reflink if the filesystem shares blocks, else let the
 * kernel copy, else read and write. */
static int copy_fd(int in, int out, uint64_t size) {
  if (ioctl(out, FICLONE, in) == 0)
    return 0;
  uint64_t done = 0;
  while (done < size) {
    ssize_t n = copy_file_range(in, NULL, out, NULL, size - done, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      if (done == 0 && (errno == EXDEV || errno == ENOSYS ||
                        errno == EINVAL || errno == EOPNOTSUPP))
        break;                   /* not supported here: plain copy below */
      return -errno;
    }
    if (n == 0)
      return -EIO;               /* the object shrank under us */
    done += (uint64_t)n;
  }
  if (done == size)
    return 0;
  char *buf = malloc(buf_size(size));
  if (!buf)
    return -ENOMEM;
  int rc = 0;
  for (;;) {
    ssize_t n = read(in, buf, buf_size(size));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      rc = n < 0 ? -errno : 0;
      break;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, (size_t)(n - off));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0) {
        rc = w < 0 ? -errno : -EIO;
        goto done;
      }
      off += w;
    }
  }
done:
  free(buf);
  return rc;
}

int obj_materialize(const obj_store *s, const hash128 *h, const char *dest,
                    unsigned flags, char *err, size_t errlen) {
  char obj[PATH_MAX], tmp[PATH_MAX];
  int in = -1, out = -1, rc = 0;
  obj_path(s, h, obj, sizeof obj);
  if (!(flags & OBJ_MAT_COPY)) {
    if (link(obj, dest) == 0)
      return 0;
    if (errno != EEXIST)
      goto copy;                 /* EXDEV, EMLINK, EPERM...; copy says why
                                    if it cannot either */
    /* Replace dest atomically: link under a fresh name, rename over. */
    for (int tries = 0; tries < 8; tries++) {
      snprintf(tmp, sizeof tmp, "%s.pipec-XXXXXX", dest);
      int fd = mkostemp(tmp, O_CLOEXEC);
      if (fd < 0)
        break;
      close(fd);
      unlink(tmp);
      if (link(obj, tmp) == 0) {
        if (rename(tmp, dest) != 0) {
          rc = io_fail(errno, "replace", dest, err, errlen);
          unlink(tmp);
          return rc;
        }
        unlink(tmp);             /* rename() of two names of one inode is a
                                    no-op that leaves tmp */
        return 0;
      }
      if (errno != EEXIST)
        break;
    }
  }
copy:
  in = open(obj, O_RDONLY | O_CLOEXEC);
  if (in < 0) {
    char hex[HASH_HEX_LEN + 1];
    hash_hex(h, hex);
    if (errno == ENOENT) {
      snprintf(err, errlen, "object %s is missing from the store", hex);
      return -ENOENT;
    }
    return io_fail(errno, "open", obj, err, errlen);
  }
  struct stat st;
  if (fstat(in, &st) != 0) {
    rc = io_fail(errno, "stat", obj, err, errlen);
    goto done;
  }
  snprintf(tmp, sizeof tmp, "%s.pipec-XXXXXX", dest);
  out = mkostemp(tmp, O_CLOEXEC);
  if (out < 0) {
    rc = io_fail(errno, "create", dest, err, errlen);
    goto done;
  }
  if ((rc = copy_fd(in, out, (uint64_t)st.st_size)) < 0) {
    rc = io_fail(-rc, "write", dest, err, errlen);
    goto done;
  }
  if (fchmod(out, 0444) != 0) {
    rc = io_fail(errno, "make read-only", dest, err, errlen);
    goto done;
  }
  close(out);
  out = -1;
  if (rename(tmp, dest) != 0) {
    rc = io_fail(errno, "create", dest, err, errlen);
    unlink(tmp);
  }
done:
  if (out >= 0) {
    close(out);
    unlink(tmp);
  }
  close(in);
  return rc;
}

/* ---- crash leftovers ---------------------------------------------------- */

int obj_clean_tmp(obj_store *s, int64_t max_age_s, char *err, size_t errlen) {
  DIR *d = opendir(s->tmp);
  if (!d)
    return io_fail(errno, "read", s->tmp, err, errlen);
  time_t now = time(NULL);
  pid_t self = getpid();
  int removed = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
        !S_ISREG(st.st_mode))
      continue;
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    bool dead = *end == '.' && pid > 0 && pid != (long)self &&
                kill((pid_t)pid, 0) != 0 && errno == ESRCH;
    bool old = (int64_t)(now - st.st_mtime) >= max_age_s;
    if ((dead || old) && unlinkat(dirfd(d), de->d_name, 0) == 0)
      removed++;
  }
  closedir(d);
  return removed;
}

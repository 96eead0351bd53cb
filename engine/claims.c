/*
 * claims.c — claims on cache keys as byte locks in one file (claims.h).
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include "claims.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "fsutil.h"

#define HOLDER_PREFIX "holder."

struct claim_dir {
  char *dir, *locks;         /* DIR, DIR/locks */
  bool ready;                /* DIR exists, the holder file is made */
  int holder_fd;             /* DIR/holder.HOST.PID.N, byte 0 locked while
                                open; -1: none (messages say less) */
  char *holder_path;
};

claim_dir *claim_dir_new(const char *dir) {
  claim_dir *d = xcalloc(1, sizeof *d);
  d->dir = xstrdup(dir);
  d->locks = xprintf("%s/locks", dir);
  d->holder_fd = -1;
  return d;
}

/* A write lock on [at, at + 1) of fd (F_UNLCK to drop it): 0 or errno. */
static int lock_byte(int fd, int64_t at, short type) {
  struct flock fl = {.l_type = type, .l_whence = SEEK_SET,
                     .l_start = (off_t)at, .l_len = 1};
  return fcntl(fd, F_OFD_SETLK, &fl) == 0 ? 0 : errno;
}

/* Is [at, at + 1) of the file at path locked by anyone? */
static bool byte_locked(const char *path, int64_t at) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return false;
  struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET,
                     .l_start = (off_t)at, .l_len = 1};
  bool locked = fcntl(fd, F_OFD_GETLK, &fl) == 0 && fl.l_type != F_UNLCK;
  close(fd);
  return locked;
}

/* The holder files in d's directory, each with its path: f returns true to
 * stop. */
static void each_holder(claim_dir *d, bool (*f)(void *, const char *name,
                                                const char *path),
                        void *ctx) {
  DIR *dh = opendir(d->dir);
  if (!dh)
    return;
  struct dirent *e;
  while ((e = readdir(dh))) {
    if (strncmp(e->d_name, HOLDER_PREFIX, strlen(HOLDER_PREFIX)) != 0)
      continue;
    char *path = xprintf("%s/%s", d->dir, e->d_name);
    bool stop = (!d->holder_path || strcmp(path, d->holder_path) != 0) &&
                f(ctx, e->d_name, path);
    free(path);
    if (stop)
      break;
  }
  closedir(dh);
}

/* A holder file whose claimant is gone (byte 0 unlocked) is removed. */
static bool sweep_one(void *ctx, const char *name, const char *path) {
  (void)ctx, (void)name;
  if (!byte_locked(path, 0))
    unlink(path);
  return false;
}

/* Make d's directory (not its parents: a shared cache that is not there,
 * an NFS mount that is not up, must not be made here) and its holder
 * file. */
static int setup(claim_dir *d, char *err, size_t errlen) {
  if (mkdir(d->dir, 0777) != 0 && errno != EEXIST) {
    int e = errno;
    snprintf(err, errlen, "cannot create %s: %s", d->dir, strerror(e));
    return -e;
  }
  if (d->holder_fd < 0) {
    static unsigned seq; /* claimants of this process */
    char host[256];
    fs_hostname(host, sizeof host);
    free(d->holder_path);
    d->holder_path = xprintf("%s/" HOLDER_PREFIX "%s.%ld.%u", d->dir, host,
                             (long)getpid(), seq++);
    int fd = open(d->holder_path,
                  O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd >= 0 && lock_byte(fd, 0, F_WRLCK) == 0) {
      d->holder_fd = fd;
      each_holder(d, sweep_one, NULL);
    } else if (fd >= 0) {
      close(fd);
      unlink(d->holder_path);
    }
  }
  d->ready = true;
  return 0;
}

/* The byte of key: one past byte 0 (a holder file's liveness lock), from
 * the key's first 62 bits (xxHash's bits are uniform already). */
static int64_t key_byte(const hash128 *key) {
  uint64_t v = 0;
  for (int i = 0; i < 8; i++)
    v = v << 8 | key->b[i];
  return (int64_t)(v >> 2) + 1;
}

typedef struct find_ctx {
  int64_t at;
  char *out;
  size_t len;
} find_ctx;

/* "holder.HOST.PID.N" locked at the key's byte: "HOST PID" */
static bool find_one(void *ctx, const char *name, const char *path) {
  find_ctx *f = ctx;
  if (!byte_locked(path, f->at))
    return false;
  const char *host = name + strlen(HOLDER_PREFIX);
  const char *seq = strrchr(host, '.');
  const char *pid = seq ? seq : host;
  while (pid > host && pid[-1] != '.')
    pid--;
  if (!seq || pid == host)
    return false;
  snprintf(f->out, f->len, "%.*s %.*s", (int)(pid - 1 - host), host,
           (int)(seq - pid), pid);
  return true;
}

int claim_try(claim_dir *d, const hash128 *key, claim *c, char *holder,
              size_t holderlen, char *err, size_t errlen) {
  *c = (claim)CLAIM_NONE;
  if (holder && holderlen)
    holder[0] = 0;
  int64_t at = key_byte(key);
  for (int tries = 0;; tries++) {
    if (!d->ready) {
      int rc = setup(d, err, errlen);
      if (rc < 0)
        return rc;
    }
    int fd = open(d->locks, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0 && errno == ENOENT && tries < 2) {
      d->ready = false; /* the directory went: make it again */
      continue;
    }
    if (fd < 0) {
      int e = errno;
      snprintf(err, errlen, "cannot open %s: %s", d->locks, strerror(e));
      return -e;
    }
    int e = lock_byte(fd, at, F_WRLCK);
    if (e == EAGAIN || e == EACCES || e == EINTR) {
      close(fd);
      if (holder && holderlen) {
        find_ctx f = {at, holder, holderlen};
        each_holder(d, find_one, &f);
      }
      return 0;
    }
    if (e != 0) {
      close(fd);
      snprintf(err, errlen, "cannot lock %s: %s", d->locks, strerror(e));
      return -e;
    }
    /* who holds it, for a waiter's message only */
    if (d->holder_fd >= 0 && lock_byte(d->holder_fd, at, F_WRLCK) != 0) {
      /* (the message will not name this claimant) */
    }
    *c = (claim){.fd = fd, .at = at, .holder_fd = d->holder_fd};
    return 1;
  }
}

void claim_release(claim *c) {
  if (c->fd >= 0) {
    if (c->holder_fd >= 0)
      lock_byte(c->holder_fd, c->at, F_UNLCK);
    close(c->fd);
  }
  *c = (claim)CLAIM_NONE;
}

void claim_dir_close(claim_dir *d) {
  if (!d)
    return;
  if (d->holder_fd >= 0) {
    unlink(d->holder_path);
    close(d->holder_fd);
  }
  free(d->holder_path);
  free(d->locks);
  free(d->dir);
  free(d);
}

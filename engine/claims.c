/*
 * claims.c — claims on cache keys as flock'd lock files (claims.h).
 */
#include "claims.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

/* What the holder's file says, "HOST PID" (at most len - 1 bytes). */
static void read_holder(const char *path, char *out, size_t len) {
  if (!out || !len)
    return;
  out[0] = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return;
  ssize_t n = read(fd, out, len - 1);
  close(fd);
  out[n > 0 ? n : 0] = 0;
  out[strcspn(out, "\n")] = 0;
}

int claim_try(const char *dir, const hash128 *key, claim *c, char *holder,
              size_t holderlen, char *err, size_t errlen) {
  char hex[HASH_HEX_LEN + 1];
  hash_hex(key, hex);
  char *path = xprintf("%s/%s", dir, hex);
  *c = (claim)CLAIM_NONE;
  if (holder && holderlen)
    holder[0] = 0;
  for (int tries = 0;; tries++) {
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0666);
    if (fd < 0 && errno == ENOENT && tries < 2) {
      /* the directory itself, not its parents: a shared cache that is
       * not there (an NFS mount that is not up) must not be made here */
      if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        int e = errno;
        snprintf(err, errlen, "cannot create %s: %s", dir, strerror(e));
        free(path);
        return -e;
      }
      continue;
    }
    if (fd < 0) {
      int e = errno;
      snprintf(err, errlen, "cannot open %s: %s", path, strerror(e));
      free(path);
      return -e;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
      int e = errno;
      close(fd);
      if (e == EWOULDBLOCK || e == EINTR) {
        read_holder(path, holder, holderlen);
        free(path);
        return 0;
      }
      snprintf(err, errlen, "cannot lock %s: %s", path, strerror(e));
      free(path);
      return -e;
    }
    /* the file we locked must still be the one under its name: a holder
     * removes it before it unlocks, and we may have opened it just
     * before that */
    struct stat fst, pst;
    if (fstat(fd, &fst) == 0 && stat(path, &pst) == 0 &&
        fst.st_ino == pst.st_ino && fst.st_dev == pst.st_dev) {
      char me[300], host[256];
      if (gethostname(host, sizeof host) != 0)
        snprintf(host, sizeof host, "?");
      host[sizeof host - 1] = 0;
      int n = snprintf(me, sizeof me, "%s %ld\n", host, (long)getpid());
      if (ftruncate(fd, 0) == 0 && write(fd, me, (size_t)n) < 0) {
        /* what the file says is for messages only */
      }
      c->fd = fd;
      c->path = path;
      return 1;
    }
    close(fd);
    if (tries > 1000) { /* someone removes it faster than we can lock it */
      snprintf(err, errlen, "cannot lock %s: it keeps being replaced", path);
      free(path);
      return -EAGAIN;
    }
  }
}

void claim_release(claim *c) {
  if (c->fd >= 0) {
    unlink(c->path); /* before unlocking: see claims.h */
    close(c->fd);
  }
  free(c->path);
  *c = (claim)CLAIM_NONE;
}

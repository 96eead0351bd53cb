/*
 * claims.h — work in flight: a claim says "this process is computing the
 * outputs of cache key K", so that another run needing K at the same time
 * waits for the result instead of computing it again (DESIGN §9).
 *
 * A claim is a lock file DIR/<32 hex of K> held with flock(2) (an exclusive
 * lock on an open file description). The kernel drops it when the holder
 * closes it or dies in any way (kill -9 included), so a killed run never
 * leaves a claim behind that others would wait on. The file holds
 * "HOST PID\n" of the holder, for messages only.
 *
 * DIR is a workspace's .pipec/claims/ (runs of one workspace) or a shared
 * directory cache's claims/ (workspaces on one shared disk; on NFS this
 * needs working file locks: NFSv4, or v3 with lockd. Without them two
 * machines may both compute a node: never a wrong result, only the same
 * work twice).
 *
 * The holder removes the file before closing it. A waiter that locked a
 * file which was removed meanwhile (its inode is no longer the path's)
 * drops it and tries again, so two processes never both hold a key.
 *
 * Errors: 0 / 1 / negative errno, with a message in err.
 */
#ifndef PIPEC_CLAIMS_H
#define PIPEC_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>

#include "hash.h"

typedef struct claim {
  int fd;                  /* the locked file; -1: not held */
  char *path;              /* malloc'd while held */
} claim;

#define CLAIM_NONE {.fd = -1, .path = NULL}

/* Try to claim key in dir (created if needed; its parent must exist),
 * never blocking. Returns 1:
 * held (*c filled); 0: another process holds it (holder, if not NULL,
 * receives what its file says, "HOST PID", or ""); negative errno with
 * err if the directory or file cannot be used. */
int claim_try(const char *dir, const hash128 *key, claim *c, char *holder,
              size_t holderlen, char *err, size_t errlen);

/* Release a claim (removing its file); a claim not held is fine. */
void claim_release(claim *c);

static inline bool claim_held(const claim *c) { return c->fd >= 0; }

#endif

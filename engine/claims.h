/*
 * claims.h — work in flight: a claim says "this process is computing the
 * outputs of cache key K", so that another run needing K at the same time
 * waits for the result instead of computing it again (DESIGN §9).
 *
 * A claims directory DIR holds one lock file, DIR/locks; a claim on K is
 * an open file description's lock (fcntl F_OFD_SETLK) on one byte of it,
 * at an offset taken from K's first 62 bits. Claiming and releasing a key
 * creates and removes nothing (a run of 10^5 nodes made and removed a file
 * per node), and the kernel drops the lock when the holder closes it or
 * dies in any way (kill -9 included), so a killed run never leaves a claim
 * behind that others would wait on. Two keys sharing an offset (one chance
 * in 2^62) would only make one wait for the other.
 *
 * Who holds a claim is for messages: each claimant (claim_dir) also locks
 * the same byte of its own file DIR/holder.HOST.PID.N, which a waiter
 * probes; the file goes when the claimant is closed (one a killed run
 * left is removed by the next claimant that finds it unlocked).
 *
 * DIR is a workspace's .pipec/claims/ (runs of one workspace) or a shared
 * directory cache's claims/ (workspaces on one shared disk; on NFS this
 * needs working byte-range locks: NFSv4, or v3 with lockd. Without them
 * two machines may both compute a node: never a wrong result, only the
 * same work twice).
 *
 * Errors: 0 / 1 / negative errno, with a message in err.
 */
#ifndef PIPEC_CLAIMS_H
#define PIPEC_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

/* One claimant's use of a claims directory (made when first used). */
typedef struct claim_dir claim_dir;

typedef struct claim {
  int fd;                  /* DIR/locks, locked at `at`; -1: not held */
  int64_t at;
  int holder_fd;           /* the claimant's holder file (borrowed), or -1 */
} claim;

#define CLAIM_NONE {.fd = -1, .at = 0, .holder_fd = -1}

/* A claimant of dir (nothing is touched until the first claim_try). */
claim_dir *claim_dir_new(const char *dir);
/* Close it (its claims released first), removing its holder file. */
void claim_dir_close(claim_dir *d);

/* Try to claim key in d's directory (created if needed; its parent must
 * exist), never blocking. Returns 1: held (*c filled); 0: another
 * claimant holds it (holder, if not NULL, receives "HOST PID" of it, or ""
 * when that cannot be told); negative errno with err if the directory or
 * its lock file cannot be used. */
int claim_try(claim_dir *d, const hash128 *key, claim *c, char *holder,
              size_t holderlen, char *err, size_t errlen);

/* Release a claim; a claim not held is fine. */
void claim_release(claim *c);

static inline bool claim_held(const claim *c) { return c->fd >= 0; }

#endif

/*
 * cachesync.h — `pipec cache push` and `pipec cache pull`: copy cache
 * entries between the workspace's store and its shared caches by hand
 * (sharedcache.h). A run pushes its own successes as it goes; push by hand
 * sends what a run could not (it was killed, the cache was unreachable, the
 * entries predate the cache), pull fetches every entry a cache has, so a
 * laptop can work offline. Both hold the workspace lock shared, like a run,
 * so `pipec cache gc` never removes what they are copying.
 */
#ifndef PIPEC_CACHESYNC_H
#define PIPEC_CACHESYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "objstore.h"
#include "sharedcache.h"
#include "store.h"
#include "workspace.h"

typedef struct csync_result {
  const char *cache;         /* its name */
  uint32_t copied;           /* entries pushed or pulled */
  uint32_t present;          /* already there */
  uint32_t bad;              /* unusable (reported through problem) */
  uint32_t objects;          /* objects copied */
  uint64_t bytes;
} csync_result;

typedef struct csync_cbs {
  void *ctx;
  /* An entry that could not be copied: key (32 hex), what was wrong. */
  void (*problem)(void *ctx, const char *cache, const char *key,
                  const char *msg);
  /* One cache is done. */
  void (*done)(void *ctx, const csync_result *r);
} csync_cbs;

/* Push (push true) or pull every entry missing on the other side, for the
 * cache named name, or every one (NULL; push: every writable one). 0 (see
 * the results: bad entries), -EINVAL with err (no such cache, none
 * configured, a readonly cache named for push, a bad configuration), or
 * another negative errno with err (a cache or the store cannot be used). */
int csync_run(ws *w, store *st, bool push, const char *name,
              const csync_cbs *cb, char *err, size_t errlen);

#endif

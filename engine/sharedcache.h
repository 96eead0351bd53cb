/*
 * sharedcache.h — second-level caches shared by workspaces and machines
 * (DESIGN §9, docs/cache.md): a directory (a shared disk, an NFS mount) or
 * a directory on a host reached through ssh (ssh://[USER@]HOST[:PORT]/PATH,
 * through the same OpenSSH client and connection as ssh targets: sshcmd.h).
 *
 * What one holds is content-addressed like the local store and keyed by
 * the same cache keys, so it never depends on node names, targets or
 * paths:
 *
 *     CACHE/pipec-cache           "pipec shared cache 1": the layout
 *     CACHE/entries/ab/<key>      one entry per cache key (below)
 *     CACHE/objects/ab/<30 hex>   objects, named by their XXH3-128 as in
 *                                 .pipec/objects (trees as tree objects)
 *     CACHE/objects/tmp/, tmp/    files being written
 *     CACHE/claims/locks          work in flight (claims.h)
 *
 * An entry is a small text file:
 *
 *     pipec cache entry 1
 *     key <32 hex>
 *     out <f|d> <32 hex> <size> <port>     per output: a file, or a tree
 *     in <32 hex>                          per input object it read
 *     end <32 hex>                         XXH3-128 of every byte above
 *
 * Writers put objects first and the entry last, each into a temporary
 * name in the cache and renamed into place, so many writers on many
 * machines are safe: a reader sees a whole entry or none, and an entry
 * names only objects that were whole before it. Readers trust nothing
 * they read: an entry that does not parse or whose `end` is wrong, an
 * object that is missing or does not hash to its name, makes the entry
 * unusable (SHC_BAD); a damaged object is removed from a writable cache
 * so the next push replaces it.
 *
 * Everything here blocks (file copies, ssh calls) and touches no database
 * and no event loop, so it runs on worker threads (run_shared.c) as well
 * as in `pipec cache push/pull`.
 *
 * Errors: 0 (or a count) / negative errno, with a one-line message.
 */
#ifndef PIPEC_SHAREDCACHE_H
#define PIPEC_SHAREDCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "objstore.h"

typedef enum shc_kind { SHC_DIR, SHC_SSH } shc_kind;

/* One configured cache. */
typedef struct shc_spec {
  char *name;                /* for messages and `show` */
  char *location;            /* as written: a path or an ssh:// URL */
  char *origin;              /* where it was configured ("FILE:LINE",
                                "PIPEC_CACHE"), for messages */
  shc_kind kind;
  bool readonly;             /* only pulled from: no push, no claims */
  char *dir;                 /* SHC_DIR: absolute; SHC_SSH: the remote path
                                (relative to the remote home if it does not
                                start with '/') */
  char *host, *user;         /* SHC_SSH */
  long long port;
  long long connect_timeout; /* seconds */
} shc_spec;

typedef struct shc_list {
  shc_spec *v;
  uint32_t n;
} shc_list;

/* The shared caches of the workspace whose .pipec directory is ws_dir:
 * $PIPEC_CACHE if it is set (even empty: then none), else the [cache]
 * sections of ws_dir/config (docs/cache.md). 0, or -1 with err naming the
 * file and line (or PIPEC_CACHE) and what is wrong. */
int shc_configure(const char *ws_dir, shc_list *out, char *err,
                  size_t errlen);
void shc_list_free(shc_list *l);
/* The cache named name, or NULL. */
const shc_spec *shc_find(const shc_list *l, const char *name);

/* ---- entries ------------------------------------------------------------- */

typedef struct shc_output {
  char *port;
  hash128 hash;
  uint64_t size;
  bool tree;                 /* a dir output: hash is a tree object */
} shc_output;

typedef struct shc_entry {
  hash128 key;
  shc_output *outs;
  uint32_t n_outs;
  hash128 *inputs;
  uint32_t n_inputs;
} shc_entry;

/* The entry's text (malloc'd), *len its length. */
char *shc_entry_format(const shc_entry *e, size_t *len);
/* Parse an entry; with want (may be NULL) its key must be *want. 0, or
 * -EINVAL with err saying what is wrong. */
int shc_entry_parse(const char *text, size_t len, const hash128 *want,
                    shc_entry *e, char *err, size_t errlen);
void shc_entry_free(shc_entry *e);

/* ---- pulling and pushing --------------------------------------------------- */

enum { SHC_BAD = 2 };

/* An object an entry needs, now in the local store. */
typedef struct shc_object {
  hash128 hash;
  bool tree;                 /* a tree object (its files follow it) */
  bool fetched;              /* copied from the cache now, re-hashed on the
                                way in; st is its stat. Else it was in the
                                local store already: the caller checks it
                                as it checks any local object */
  hash_stat st;
  uint64_t size;
} shc_object;

typedef struct shc_pull_result {
  shc_entry entry;
  shc_object *objs;          /* outputs first (in entry order), then the
                                files and subtrees of trees */
  uint32_t n_objs;
  uint64_t bytes;            /* fetched */
} shc_pull_result;
void shc_pull_result_free(shc_pull_result *r);

/* Look key up in cache c and bring its entry's objects into the local
 * store (tmpdir: a private scratch directory beside it, for ssh
 * transfers). Returns 1 (a hit: *r filled), 0 (no entry), SHC_BAD (the
 * entry is unusable: why says how — malformed, an object missing, bytes
 * that do not hash to their name), or a negative errno if the cache
 * cannot be used (why says why: not reachable, no such directory). */
int shc_pull(const shc_spec *c, const hash128 *key, obj_store *local,
             const char *tmpdir, shc_pull_result *r, char *why,
             size_t whylen);

typedef struct shc_push_stats {
  uint32_t objects;          /* objects copied to the cache */
  uint64_t bytes;
} shc_push_stats;

/* Write entry e into cache c (not readonly) with the objects it needs:
 * objs (n), every object of its outputs and trees, read from the local
 * store and re-hashed on the way (an object that no longer hashes to its
 * name stops the push). Objects the cache has already are not copied.
 * 0, or a negative errno with err. */
int shc_push(const shc_spec *c, const shc_entry *e, const obj_store *local,
             const hash128 *objs, uint32_t n, const char *tmpdir,
             shc_push_stats *stats, char *err, size_t errlen);

/* Which of keys (n) have an entry in c: have[i] set. 0, or a negative
 * errno with err. */
int shc_have_entries(const shc_spec *c, const hash128 *keys, uint32_t n,
                     bool *have, const char *tmpdir, char *err,
                     size_t errlen);

/* Every key with an entry in c (malloc'd array). */
int shc_list_keys(const shc_spec *c, hash128 **keys, uint32_t *n, char *err,
                  size_t errlen);

/* The directory of c's claims (SHC_DIR caches that are not readonly), or
 * NULL if claims are not kept there (malloc'd). */
char *shc_claims_dir(const shc_spec *c);

/* Remove files left in c's temporary directories by writers that died
 * (older than max_age_s: pids of other machines cannot be checked).
 * Returns how many were removed, or a negative errno. */
int shc_clean_tmp(const shc_spec *c, int64_t max_age_s, char *err,
                  size_t errlen);

#endif

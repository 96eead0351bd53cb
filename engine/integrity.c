/*
 * integrity.c — trusting stored objects (integrity.h): the stat check with
 * its re-hash fallback, discarding what is damaged, and `cache verify`.
 *
 * Order when an object is damaged: the database first (its cache entries
 * and record go), then the file. A crash in between leaves a damaged file
 * that nothing names as a cached output; the next check of it re-hashes
 * (there is no record) and removes it.
 */
#include "integrity.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void integ_discard(store *st, obj_store *objs, const hash128 *h,
                   bool readers) {
  char err[256];
  store_object_damaged(st, h, readers);
  obj_remove(objs, h, err, sizeof err);
}

int integ_check(store *st, obj_store *objs, const hash128 *h,
                const hash_stat *recorded, bool readers, hash_stat *now,
                bool *rehashed, char *why, size_t whylen) {
  hash_stat cur;
  bool re = false;
  int rc = obj_check(objs, h, recorded, &cur, &re, why, whylen);
  if (rehashed)
    *rehashed = re;
  if (rc == 0) {
    if (now)
      *now = cur;
    if (re) /* an old record no longer matched: this one does */
      store_object_put(st, h, cur.size, &cur);
    return 0;
  }
  if (rc > 0) {
    integ_discard(st, objs, h, readers);
    return 1;
  }
  if (rc == -ENOENT)
    store_object_damaged(st, h, false);
  return rc;
}

/* ---- cache verify ------------------------------------------------------- */

#define VERIFY_BATCH 256   /* record refreshes per transaction */

typedef struct verify_ctx {
  store *st;
  obj_store *objs;
  integ_problem_fn fn;
  void *ctx;
  integ_report *rep;
  uint32_t pending;        /* writes in the open transaction */
  bool in_tx;
} verify_ctx;

static void tx_step(verify_ctx *v) {
  if (!v->in_tx)
    v->in_tx = store_begin(v->st) == 0;
  if (++v->pending >= VERIFY_BATCH && v->in_tx) {
    store_commit(v->st);
    v->in_tx = false;
    v->pending = 0;
  }
}

static int on_object(void *ctx, const hash128 *h, int status,
                     const hash_stat *sb, const char *msg) {
  verify_ctx *v = ctx;
  tx_step(v);
  if (status == 0) {
    v->rep->checked++;
    store_object_put(v->st, h, sb->size, sb);
    return 0;
  }
  if (status < 0) { /* unreadable: report, leave it */
    v->rep->unreadable++;
    v->fn(v->ctx, "unreadable", h, msg);
    return 0;
  }
  bool odd = status == OBJ_NOT_FILE;
  if (odd)
    v->rep->odd++;
  else
    v->rep->damaged++;
  v->fn(v->ctx, odd ? "not a file" : "damaged", h, msg);
  int dropped = store_object_damaged(v->st, h, true);
  if (dropped > 0)
    v->rep->dropped += (uint32_t)dropped;
  char err[256];
  obj_remove(v->objs, h, err, sizeof err);
  return 0;
}

/* Objects a cache entry names that are not in the store, collected while
 * the query runs (the entries are dropped after it). */
typedef struct missing {
  obj_store *objs;
  hash128 *h;
  char **node;
  size_t n, cap;
} missing;

static void on_named(void *ctx, const hash128 *h, uint64_t size,
                     const char *node) {
  missing *m = ctx;
  hash_stat sb;
  (void)size;
  if (obj_stat(m->objs, h, &sb) != -ENOENT)
    return; /* present (an odd entry was dealt with above) */
  if (m->n == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 16;
    hash128 *nh = realloc(m->h, cap * sizeof *nh);
    if (nh)
      m->h = nh;
    char **nn = realloc(m->node, cap * sizeof *nn);
    if (nn)
      m->node = nn;
    if (!nh || !nn)
      return;
    m->cap = cap;
  }
  m->h[m->n] = *h;
  m->node[m->n++] = node ? strdup(node) : NULL;
}

int integ_verify(store *st, obj_store *objs, integ_problem_fn fn, void *ctx,
                 integ_report *rep, char *err, size_t errlen) {
  memset(rep, 0, sizeof *rep);
  verify_ctx v = {st, objs, fn, ctx, rep, 0, false};
  int rc = obj_verify_all(objs, on_object, &v, err, errlen);
  if (v.in_tx)
    store_commit(st);
  if (rc < 0)
    return rc;
  missing m = {.objs = objs};
  if (store_cached_objects(st, on_named, &m) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    rc = -EIO;
  }
  for (size_t i = 0; i < m.n; i++) {
    char hex[HASH_HEX_LEN + 1], msg[512];
    hash_hex(&m.h[i], hex);
    snprintf(msg, sizeof msg, "object %s is missing, but the cache entry "
                              "of node '%s' names it",
             hex, m.node[i] ? m.node[i] : "?");
    fn(ctx, "missing", &m.h[i], msg);
    rep->missing++;
    int dropped = store_object_damaged(st, &m.h[i], false);
    if (dropped > 0)
      rep->dropped += (uint32_t)dropped;
    free(m.node[i]);
  }
  free(m.h);
  free(m.node);
  return rc < 0 ? rc : 0;
}

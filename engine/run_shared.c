/*
 * run_shared.c — a run's part in team-scale caching (run_int.h, DESIGN §9):
 * the shared caches of the workspace (sharedcache.h) and work in flight
 * shared between runs (claims.h).
 *
 * A node that misses the local cache, in prepare (run_job.c):
 *
 *   IDLE ──claims──> HELD ──lookup (thread)──> LOOKED ──> RUN
 *     │  busy                 │ hit: the entry and its objects are in
 *     v                       │ the local store now; prepare finds them
 *   WAIT ──poll: free──> HELD │ there: cached (shared: NAME)
 *
 * Claims: the workspace's (.pipec/claims/, claims.h) and, for each writable
 * directory cache, the cache's (CACHE/claims/), taken in that order
 * without blocking. A busy claim means another run computes the key now:
 * the node waits (SCHED_PENDING; a timer polls the claims every 100 ms)
 * and, once it holds them, finds that run's result in the local store or
 * a shared cache, or runs the node itself (the other run failed or was
 * killed: the kernel dropped its lock).
 *
 * Release: a node's claims go once what it did is committed to the store
 * (run_shared_committed, after the batch commits), so a waiter that takes
 * a claim finds the entry; a cache's claim is kept until the push of the
 * node's result to that cache is done, so a waiter in another workspace
 * finds it there.
 *
 * Pushes run on libuv's thread pool, at most PUSHES_AT_ONCE at a time, off
 * the critical path (the node's consumers start at once); the run waits
 * for the last of them before it ends (sched_run returns when nothing is
 * left on the loop). A push that could not happen (the run was killed, the
 * cache was unreachable) is done later by `pipec cache push`.
 *
 * Lookups run on the thread pool too, so the loop never waits for a
 * network or a shared disk. A cache that cannot be used (no such
 * directory, host unreachable) is said once and left alone for the rest of
 * the run; an unusable entry (missing or damaged objects, a malformed
 * file) is said once per run and the node runs.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "claims.h"
#include "fsutil.h"
#include "sharedcache.h"
#include "tree.h"
#include "run_int.h"

#define POLL_MS 100
#define PUSHES_AT_ONCE 2

enum { SH_IDLE, SH_WAIT, SH_HELD, SH_LOOKING, SH_LOOKED, SH_RUN };

typedef struct sh_cache {
  const shc_spec *spec;
  claim_dir *claims;         /* its claims directory, or NULL (none) */
  bool off;                  /* unusable for the rest of the run */
} sh_cache;

struct sh_node {
  int phase;
  uint32_t n_shared;         /* caches (the length of shared) */
  claim local;               /* in .pipec/claims/ */
  claim *shared;             /* per cache (held only for claims caches) */
  int hit;                   /* the cache its outputs came from, or -1 */
  uint32_t pushes;           /* pushes in flight for it */
  bool settled;
};

typedef struct push_job {
  uv_work_t req;
  runner *R;
  uint32_t node, cache;
  shc_entry entry;
  hash128 *objs;
  uint32_t n_objs;
  int rc;
  shc_push_stats stats;
  char err[1024];
  struct push_job *next;
} push_job;

typedef struct look_job {
  uv_work_t req;
  runner *R;
  uint32_t node;
  hash128 key;
  uint32_t *caches, n;       /* the caches to ask, in order */
  int *rc;                   /* per cache asked */
  char (*why)[768];
  uint32_t asked;
  shc_pull_result res;       /* of the hit, rc[asked - 1] == 1 */
} look_job;

struct run_shared {
  shc_list list;
  sh_cache *caches;
  uint32_t n;
  claim_dir *claims;         /* .pipec/claims */
  char *tmpdir;              /* .pipec/shared-tmp/PID, for ssh transfers */
  sched *s;                  /* while sched_run runs */
  uv_timer_t poll;
  bool poll_init, polling;
  uint32_t *waiting, n_waiting, cap_waiting;
  char said_holder[320];     /* the last holder a wait was said for */
  bool said_claim_error;
  claim *release;            /* to release once the batch is committed */
  uint32_t n_release, cap_release;
  push_job *queue, *queue_tail;
  uint32_t pushing;
  hash128 *bad;              /* keys reported unusable (with bad_cache) */
  uint32_t *bad_cache, n_bad;
  uint32_t jobs;             /* lookups and pushes in flight */
  uint32_t *order;           /* the caches in the order their claims are
                                taken: by the directory's device and inode,
                                the same for every run that shares one */
  obj_store *objs;           /* the workspace's objects, for the worker
                                threads: R->objs defers its syncs to the
                                loop's commits and is the loop's alone */
};

/* ---- set-up ----------------------------------------------------------------- */

/* Remove .pipec/shared-tmp/PID directories of processes that are gone. */
static void clean_tmp_dirs(const char *top) {
  DIR *d = opendir(top);
  if (!d)
    return;
  for (struct dirent *de; (de = readdir(d));) {
    char *end;
    long pid = strtol(de->d_name, &end, 10);
    if (*end || pid <= 0 || pid == (long)getpid() ||
        !(kill((pid_t)pid, 0) != 0 && errno == ESRCH))
      continue;
    char *p = xprintf("%s/%s", top, de->d_name);
    fs_rm_rf(p);
    free(p);
  }
  closedir(d);
}

/* Claims are taken in one order by every run, whatever order its config
 * lists the caches in: two runs listing "a;b" and "b;a" would otherwise
 * each hold one claim of a key and wait for the other's. */
typedef struct { dev_t dev; ino_t ino; const char *dir; uint32_t i; } cache_id;

static int by_cache_id(const void *a, const void *b) {
  const cache_id *x = a, *y = b;
  if (x->dev != y->dev)
    return x->dev < y->dev ? -1 : 1;
  if (x->ino != y->ino)
    return x->ino < y->ino ? -1 : 1;
  return strcmp(x->dir, y->dir);
}

static uint32_t *claim_order(const run_shared *S) {
  cache_id *ids = xcalloc(S->n + 1, sizeof *ids);
  for (uint32_t i = 0; i < S->n; i++) {
    struct stat sb;
    const char *dir = S->caches[i].spec->dir ? S->caches[i].spec->dir : "";
    ids[i] = (cache_id){.dir = dir, .i = i};
    if (stat(dir, &sb) == 0) {
      ids[i].dev = sb.st_dev;
      ids[i].ino = sb.st_ino;
    }
  }
  qsort(ids, S->n, sizeof *ids, by_cache_id);
  uint32_t *order = xcalloc(S->n + 1, sizeof *order);
  for (uint32_t i = 0; i < S->n; i++)
    order[i] = ids[i].i;
  free(ids);
  return order;
}

int run_shared_open(runner *R, char *err, size_t errlen) {
  run_shared *S = xcalloc(1, sizeof *S);
  R->shared = S;
  if (shc_configure(ws_dir(R->w), &S->list, err, errlen) != 0)
    return -1;
  S->n = S->list.n;
  S->caches = xcalloc(S->n + 1, sizeof *S->caches);
  for (uint32_t i = 0; i < S->n; i++) {
    char *dir = shc_claims_dir(&S->list.v[i]);
    S->caches[i] = (sh_cache){.spec = &S->list.v[i],
                              .claims = dir ? claim_dir_new(dir) : NULL};
    free(dir);
  }
  S->order = claim_order(S);
  char *dir = xprintf("%s/claims", ws_dir(R->w));
  S->claims = claim_dir_new(dir);
  free(dir);
  char *top = xprintf("%s/shared-tmp", ws_dir(R->w));
  clean_tmp_dirs(top);
  S->tmpdir = xprintf("%s/%ld", top, (long)getpid());
  free(top);
  if (S->n > 0) {
    obj_opts oo = {0}; /* each pulled object synced as it is stored */
    if (obj_open(ws_objects_dir(R->w), &oo, &S->objs, err, errlen) != 0)
      return -1;
  }
  return 0;
}

static void release_now(claim *c) { claim_release(c); }

void run_shared_node_free(struct sh_node *sh) {
  if (!sh)
    return;
  release_now(&sh->local);
  for (uint32_t i = 0; i < sh->n_shared; i++)
    release_now(&sh->shared[i]);
  free(sh->shared);
  free(sh);
}

void run_shared_free(runner *R) {
  run_shared *S = R->shared;
  if (!S)
    return;
  for (uint32_t i = 0; i < S->n_release; i++)
    release_now(&S->release[i]);
  free(S->release);
  for (uint32_t i = 0; i < S->n; i++)
    claim_dir_close(S->caches[i].claims);
  free(S->caches);
  free(S->order);
  shc_list_free(&S->list);
  claim_dir_close(S->claims);
  if (S->tmpdir)
    fs_rm_rf(S->tmpdir);
  free(S->tmpdir);
  free(S->waiting);
  free(S->bad);
  free(S->bad_cache);
  if (S->objs)
    obj_close(S->objs);
  free(S);
  R->shared = NULL;
}

void run_shared_begin(void *ctx, sched *s) {
  runner *R = ctx;
  if (R->shared)
    R->shared->s = s;
}

bool run_shared_any(const runner *R) {
  return R->shared && R->shared->n > 0;
}

/* ---- messages --------------------------------------------------------------- */

static void notice(runner *R, const char *msg) {
  pipec_event ev = {.kind = PIPEC_EV_NOTICE, .detail = msg};
  run_emit(R, &ev);
}

/* Cache i cannot be used: say so once, leave it alone from now on. */
static void cache_off(runner *R, uint32_t i, const char *why) {
  sh_cache *c = &R->shared->caches[i];
  if (c->off)
    return;
  c->off = true;
  char *msg = xprintf("shared cache '%s' (%s) cannot be used in this run: "
                      "%s",
                      c->spec->name, c->spec->location, why);
  notice(R, msg);
  free(msg);
}

/* An entry of cache i is unusable: said once per run. */
static void entry_bad(runner *R, uint32_t i, uint32_t node,
                      const hash128 *key, const char *why) {
  run_shared *S = R->shared;
  for (uint32_t k = 0; k < S->n_bad; k++)
    if (S->bad_cache[k] == i && hash_eq(&S->bad[k], key))
      return;
  S->bad = xrealloc(S->bad, (S->n_bad + 1) * sizeof *S->bad);
  S->bad_cache = xrealloc(S->bad_cache, (S->n_bad + 1) * sizeof *S->bad_cache);
  S->bad[S->n_bad] = *key;
  S->bad_cache[S->n_bad++] = i;
  char hex[HASH_HEX_LEN + 1];
  hash_hex(key, hex);
  char *msg = xprintf("shared cache '%s': the entry for node '%s' (key %s) "
                      "was ignored: %s; the node runs",
                      S->caches[i].spec->name, R->p->nodes[node].name, hex,
                      why);
  notice(R, msg);
  free(msg);
}

/* ---- per node --------------------------------------------------------------- */

static struct sh_node *node_state(runner *R, uint32_t node) {
  run_node *rn = &R->nodes[node];
  if (!rn->sh) {
    rn->sh = xcalloc(1, sizeof *rn->sh);
    rn->sh->local = (claim)CLAIM_NONE;
    rn->sh->n_shared = R->shared->n;
    rn->sh->shared = xcalloc(R->shared->n + 1, sizeof *rn->sh->shared);
    for (uint32_t i = 0; i < R->shared->n; i++)
      rn->sh->shared[i] = (claim)CLAIM_NONE;
    rn->sh->hit = -1;
  }
  return rn->sh;
}

/* Release c once the batch is committed. */
static void release_later(runner *R, claim *c) {
  if (!claim_held(c))
    return;
  run_shared *S = R->shared;
  if (S->n_release == S->cap_release) {
    S->cap_release = S->cap_release ? S->cap_release * 2 : 16;
    S->release = xrealloc(S->release, S->cap_release * sizeof *S->release);
  }
  S->release[S->n_release++] = *c;
  *c = (claim)CLAIM_NONE;
}

void run_shared_committed(runner *R) {
  run_shared *S = R->shared;
  if (!S)
    return;
  for (uint32_t i = 0; i < S->n_release; i++)
    release_now(&S->release[i]);
  S->n_release = 0;
}

/* Take the node's claims not held yet, in S->order: 1 all held, 0 one is
 * busy (holder says who holds it). A claim that cannot be used at all (a
 * cache's directory is not writable) is said and skipped. */
static int take_claims(runner *R, uint32_t node, char *holder,
                       size_t holderlen) {
  run_shared *S = R->shared;
  struct sh_node *sh = node_state(R, node);
  const hash128 *key = &R->nodes[node].key;
  char err[512];
  if (!claim_held(&sh->local)) {
    int rc = claim_try(S->claims, key, &sh->local, holder, holderlen, err,
                       sizeof err);
    if (rc == 0)
      return 0;
    if (rc < 0 && !S->said_claim_error) {
      /* work in flight is not shared then: only time may be lost */
      S->said_claim_error = true;
      char *msg = xprintf("cannot claim work in flight (other runs may "
                          "compute the same nodes): %s", err);
      notice(R, msg);
      free(msg);
    }
  }
  for (uint32_t k = 0; k < S->n; k++) {
    uint32_t i = S->order[k];
    sh_cache *c = &S->caches[i];
    if (!c->claims || c->off || claim_held(&sh->shared[i]))
      continue;
    int rc = claim_try(c->claims, key, &sh->shared[i], holder, holderlen,
                       err, sizeof err);
    if (rc == 0)
      return 0;
    struct stat sb;
    if (rc < 0 && stat(c->spec->dir, &sb) != 0) {
      char e2[600];
      snprintf(e2, sizeof e2, "cannot use %s: %s", c->spec->dir,
               strerror(errno));
      cache_off(R, i, e2);
    } else if (rc < 0) {
      cache_off(R, i, err);
    }
  }
  return 1;
}

static void release_all_later(runner *R, struct sh_node *sh) {
  release_later(R, &sh->local);
  for (uint32_t i = 0; i < R->shared->n; i++)
    release_later(R, &sh->shared[i]);
}

static void waiting_remove(run_shared *S, uint32_t node) {
  for (uint32_t i = 0; i < S->n_waiting; i++)
    if (S->waiting[i] == node) {
      S->waiting[i] = S->waiting[--S->n_waiting];
      return;
    }
}

static void on_poll(uv_timer_t *t) {
  runner *R = t->data;
  run_shared *S = R->shared;
  uint32_t *woken = xcalloc(S->n_waiting + 1, sizeof *woken), n_woken = 0;
  for (uint32_t i = 0; i < S->n_waiting;) {
    uint32_t node = S->waiting[i];
    if (take_claims(R, node, NULL, 0) == 1) {
      R->nodes[node].sh->phase = SH_HELD;
      woken[n_woken++] = node;
      S->waiting[i] = S->waiting[--S->n_waiting];
    } else {
      i++;
    }
  }
  if (!S->n_waiting) {
    uv_timer_stop(&S->poll);
    S->polling = false;
  }
  /* after the walk: waking prepares nodes, which may add waiters */
  for (uint32_t i = 0; i < n_woken; i++)
    if (S->s)
      sched_wake(S->s, woken[i]);
  free(woken);
}

static void wait_for_claim(runner *R, uint32_t node, const char *holder) {
  run_shared *S = R->shared;
  if (S->n_waiting == S->cap_waiting) {
    S->cap_waiting = S->cap_waiting ? S->cap_waiting * 2 : 16;
    S->waiting = xrealloc(S->waiting, S->cap_waiting * sizeof *S->waiting);
  }
  S->waiting[S->n_waiting++] = node;
  if (!S->poll_init) {
    uv_timer_init(&R->loop, &S->poll);
    S->poll.data = R;
    S->poll_init = true;
  }
  if (!S->polling) {
    uv_timer_start(&S->poll, on_poll, POLL_MS, POLL_MS);
    S->polling = true;
  }
  char who[320];
  snprintf(who, sizeof who, "%s", holder && *holder ? holder : "?");
  if (strcmp(S->said_holder, who) != 0) {
    snprintf(S->said_holder, sizeof S->said_holder, "%s", who);
    char host[256] = "";
    long pid = 0;
    char *msg;
    if (sscanf(who, "%255s %ld", host, &pid) == 2)
      msg = xprintf("node '%s' waits for another run computing the same "
                    "work (pid %ld on %s) and takes its result",
                    R->p->nodes[node].name, pid, host);
    else
      msg = xprintf("node '%s' waits for another run computing the same "
                    "work and takes its result",
                    R->p->nodes[node].name);
    notice(R, msg);
    free(msg);
  }
}

/* ---- lookups ------------------------------------------------------------------ */

static void look_work(uv_work_t *req) {
  look_job *j = req->data;
  runner *R = j->R;
  for (uint32_t k = 0; k < j->n; k++) {
    const shc_spec *c = R->shared->caches[j->caches[k]].spec;
    j->asked = k + 1;
    j->rc[k] = shc_pull(c, &j->key, R->shared->objs, R->shared->tmpdir,
                        &j->res, j->why[k], sizeof j->why[k]);
    if (j->rc[k] == 1)
      return;
  }
}

/* Record a pulled entry in the local store (objects' stats, trees, the
 * cache entry with the node's key parts). 0, or -1. */
static int record_pull(runner *R, uint32_t node, const shc_pull_result *res) {
  run_node *rn = &R->nodes[node];
  const pipec_component *c = run_comp(R, node);
  run_batch_open(R);
  for (uint32_t i = 0; i < res->n_objs; i++) {
    const shc_object *o = &res->objs[i];
    if (o->tree)
      store_tree_add(R->st, &o->hash);
    if (!o->fetched)
      continue; /* was local: checked like any local object */
    run_obj *ro = run_objs_get(R, &o->hash);
    ro->st = o->st;
    ro->known = true;
    ro->dirty = true; /* its stat row: run_objs_flush, or the entry below */
  }
  const shc_entry *e = &res->entry;
  store_output *outs = xcalloc(e->n_outs + 1, sizeof *outs);
  for (uint32_t i = 0; i < e->n_outs; i++) {
    const run_obj *ro = run_objs_find(R, &e->outs[i].hash);
    outs[i] = (store_output){.port = e->outs[i].port,
                             .hash = e->outs[i].hash,
                             .size = e->outs[i].size,
                             .st = ro && ro->known ? ro->st : (hash_stat){0},
                             .has_st = ro && ro->known};
  }
  char e2[256];
  int rc = run_compute_key(R, node, true, e2, sizeof e2);
  hash128 *ins = run_input_hashes(R, node);
  if (rc == 0)
    rc = store_cache_put(R->st, &rn->key, rn->parts_text, outs, e->n_outs,
                         ins, R->p->nodes[node].n_inputs, 0);
  (void)c;
  free(ins);
  free(outs);
  return rc;
}

/* Handle a finished lookup on the loop: what each cache said. true if it
 * was a hit now recorded in the local store. */
static bool look_result(runner *R, uint32_t node, look_job *j) {
  bool hit = false;
  for (uint32_t k = 0; k < j->asked; k++) {
    uint32_t i = j->caches[k];
    if (j->rc[k] < 0)
      cache_off(R, i, j->why[k]);
    else if (j->rc[k] == SHC_BAD) {
      entry_bad(R, i, node, &j->key, j->why[k]);
      run_node *rn = &R->nodes[node];
      if (!rn->reason) /* why it runs, unless the local store said */
        rn->reason = xprintf("the entry of shared cache '%s' was ignored: "
                             "%s",
                             R->shared->caches[i].spec->name, j->why[k]);
    }
    else if (j->rc[k] == 1) {
      if (record_pull(R, node, &j->res) == 0) {
        R->nodes[node].sh->hit = (int)i;
        hit = true;
      } else {
        char *msg = xprintf("cannot record what shared cache '%s' gave for "
                            "node '%s': %s",
                            R->shared->caches[i].spec->name,
                            R->p->nodes[node].name, store_errmsg(R->st));
        notice(R, msg);
        free(msg);
      }
    }
  }
  return hit;
}

static void look_free(look_job *j) {
  shc_pull_result_free(&j->res);
  free(j->caches);
  free(j->rc);
  free(j->why);
  free(j);
}

static void look_done(uv_work_t *req, int status) {
  look_job *j = req->data;
  runner *R = j->R;
  R->shared->jobs--;
  struct sh_node *sh = R->nodes[j->node].sh;
  (void)status;
  look_result(R, j->node, j);
  sh->phase = SH_LOOKED;
  if (!sh->settled && R->shared->s)
    sched_wake(R->shared->s, j->node);
  look_free(j);
}

static look_job *look_new(runner *R, uint32_t node) {
  run_shared *S = R->shared;
  look_job *j = xcalloc(1, sizeof *j);
  j->R = R;
  j->node = node;
  j->key = R->nodes[node].key;
  j->caches = xcalloc(S->n + 1, sizeof *j->caches);
  for (uint32_t i = 0; i < S->n; i++)
    if (!S->caches[i].off)
      j->caches[j->n++] = i;
  j->rc = xcalloc(j->n + 1, sizeof *j->rc);
  j->why = xcalloc(j->n + 1, sizeof *j->why);
  j->req.data = j;
  return j;
}

/* Start looking the node's key up in the shared caches: true if a lookup
 * is under way (false: no cache to ask). */
static bool start_lookup(runner *R, uint32_t node) {
  look_job *j = look_new(R, node);
  if (!j->n) {
    look_free(j);
    return false;
  }
  if (uv_queue_work(&R->loop, &j->req, look_work, look_done) != 0) {
    look_free(j);
    return false;
  }
  R->shared->jobs++;
  return true;
}

int run_shared_pull_now(runner *R, uint32_t node) {
  if (!run_shared_any(R) || R->o->dry_run)
    return 0;
  node_state(R, node);
  look_job *j = look_new(R, node);
  if (j->n)
    look_work(&j->req);
  bool was_open = R->in_batch;
  bool hit = j->n && look_result(R, node, j);
  if (!was_open)
    run_batch_close(R);
  look_free(j);
  return hit ? 1 : 0;
}

sched_status run_shared_prepare(runner *R, uint32_t node) {
  run_shared *S = R->shared;
  if (!S)
    return SCHED_RUNNING;
  struct sh_node *sh = node_state(R, node);
  char holder[320];
  switch (sh->phase) {
  case SH_IDLE:
  case SH_WAIT:
    /* (who holds it is said once, when the wait begins: a poll does not
     * look for the holder) */
    if (take_claims(R, node, sh->phase == SH_WAIT ? NULL : holder,
                    sizeof holder) == 0) {
      if (sh->phase != SH_WAIT)
        wait_for_claim(R, node, holder);
      sh->phase = SH_WAIT;
      return SCHED_PENDING;
    }
    sh->phase = SH_HELD;
    /* fall through */
  case SH_HELD:
    if (start_lookup(R, node)) {
      sh->phase = SH_LOOKING;
      return SCHED_PENDING;
    }
    sh->phase = SH_RUN;
    return SCHED_RUNNING;
  case SH_LOOKING: /* not woken before its lookup ends */
    return SCHED_PENDING;
  default:
    sh->phase = SH_RUN;
    sh->hit = -1; /* a hit the local lookup did not take: it runs */
    return SCHED_RUNNING;
  }
}

void run_shared_cached(runner *R, uint32_t node) {
  run_node *rn = &R->nodes[node];
  struct sh_node *sh = rn->sh;
  if (!sh)
    return;
  if (sh->hit >= 0) {
    free(rn->reason); /* a local miss it had: no reason to run now */
    rn->reason = NULL;
    if (rn->node_run)
      store_shared_hit_add(R->st, rn->node_run,
                           R->shared->caches[sh->hit].spec->name);
  }
  release_all_later(R, sh);
}

const char *run_shared_source(const runner *R, uint32_t node) {
  const struct sh_node *sh = R->nodes[node].sh;
  return sh && sh->hit >= 0 ? R->shared->caches[sh->hit].spec->name : NULL;
}

/* ---- pushes ------------------------------------------------------------------- */

static void push_work(uv_work_t *req) {
  push_job *j = req->data;
  runner *R = j->R;
  const shc_spec *c = R->shared->caches[j->cache].spec;
  j->rc = shc_push(c, &j->entry, R->shared->objs, j->objs, j->n_objs,
                   R->shared->tmpdir, &j->stats, j->err, sizeof j->err);
}

static void push_done(uv_work_t *req, int status);

static void push_start_queued(runner *R) {
  run_shared *S = R->shared;
  while (S->queue && S->pushing < PUSHES_AT_ONCE) {
    push_job *j = S->queue;
    S->queue = j->next;
    if (!S->queue)
      S->queue_tail = NULL;
    if (uv_queue_work(&R->loop, &j->req, push_work, push_done) == 0) {
      S->pushing++;
      S->jobs++;
      continue;
    }
    j->rc = -EAGAIN;
    snprintf(j->err, sizeof j->err, "cannot start the push");
    S->pushing++; /* push_done counts it off */
    S->jobs++;
    push_done(&j->req, 0);
    return;
  }
}

static void push_free(push_job *j) {
  shc_entry_free(&j->entry);
  free(j->objs);
  free(j);
}

static void push_done(uv_work_t *req, int status) {
  push_job *j = req->data;
  runner *R = j->R;
  run_shared *S = R->shared;
  (void)status;
  S->pushing--;
  S->jobs--;
  if (j->rc != 0) {
    if (j->rc == -ENOENT || j->rc == -EHOSTUNREACH || j->rc == -EACCES ||
        j->rc == -EROFS || j->rc == -ENOTDIR) {
      cache_off(R, j->cache, j->err);
    } else {
      char *msg = xprintf("cannot push node '%s' to shared cache '%s': %s "
                          "(`pipec cache push` tries again)",
                          R->p->nodes[j->node].name,
                          S->caches[j->cache].spec->name, j->err);
      notice(R, msg);
      free(msg);
    }
  }
  struct sh_node *sh = R->nodes[j->node].sh;
  if (sh) {
    sh->pushes--;
    release_now(&sh->shared[j->cache]); /* the entry is there now */
  }
  push_free(j);
  push_start_queued(R);
}

static int add_obj(void *ctx, const hash128 *h, char kind) {
  push_job *j = ctx;
  (void)kind;
  j->objs = xrealloc(j->objs, (j->n_objs + 1) * sizeof *j->objs);
  j->objs[j->n_objs++] = *h;
  return 0;
}

/* A push job of node's entry to cache i, or NULL (err) if its objects
 * cannot be listed. */
static push_job *push_new(runner *R, uint32_t node, uint32_t i, char *err,
                          size_t errlen) {
  run_node *rn = &R->nodes[node];
  const pipec_component *c = run_comp(R, node);
  push_job *j = xcalloc(1, sizeof *j);
  j->R = R;
  j->node = node;
  j->cache = i;
  j->req.data = j;
  j->entry.key = rn->key;
  j->entry.n_outs = c->n_outputs;
  j->entry.outs = xcalloc(c->n_outputs + 1, sizeof *j->entry.outs);
  for (uint32_t k = 0; k < c->n_outputs; k++) {
    bool tree = c->outputs[k].type == PIPEC_PORT_DIR;
    j->entry.outs[k] = (shc_output){.port = xstrdup(c->outputs[k].name),
                                    .hash = rn->out_hash[k],
                                    .size = rn->out_size[k],
                                    .tree = tree};
    if (!tree)
      add_obj(j, &rn->out_hash[k], 'f');
    else if (tree_walk(R->objs, &rn->out_hash[k], add_obj, j, err,
                       errlen) != 0) {
      push_free(j);
      return NULL;
    }
  }
  j->entry.inputs = run_input_hashes(R, node);
  j->entry.n_inputs = R->p->nodes[node].n_inputs;
  return j;
}

void run_shared_succeeded(runner *R, uint32_t node) {
  run_shared *S = R->shared;
  if (!S)
    return;
  struct sh_node *sh = node_state(R, node);
  release_later(R, &sh->local);
  for (uint32_t i = 0; i < S->n; i++) {
    sh_cache *c = &S->caches[i];
    if (c->spec->readonly || c->off) {
      release_later(R, &sh->shared[i]);
      continue;
    }
    char err[512];
    push_job *j = push_new(R, node, i, err, sizeof err);
    if (!j) {
      release_later(R, &sh->shared[i]);
      char *msg = xprintf("cannot push node '%s' to shared cache '%s': %s",
                          R->p->nodes[node].name, c->spec->name, err);
      notice(R, msg);
      free(msg);
      continue;
    }
    sh->pushes++;
    if (S->queue_tail)
      S->queue_tail->next = j;
    else
      S->queue = j;
    S->queue_tail = j;
  }
  push_start_queued(R);
}

void run_shared_settled(runner *R, uint32_t node) {
  struct sh_node *sh = R->nodes[node].sh;
  if (!R->shared || !sh)
    return;
  sh->settled = true;
  if (sh->phase == SH_WAIT)
    waiting_remove(R->shared, node);
  release_later(R, &sh->local);
  /* a cache's claim waits for the push of the node's result there
   * (run_shared_succeeded released the others) */
  if (!sh->pushes)
    for (uint32_t i = 0; i < sh->n_shared; i++)
      release_later(R, &sh->shared[i]);
}

void run_shared_close(runner *R) {
  run_shared *S = R->shared;
  if (!S)
    return;
  S->s = NULL;
  if (S->poll_init) {
    uv_timer_stop(&S->poll);
    uv_close((uv_handle_t *)&S->poll, NULL);
    S->poll_init = false;
    S->polling = false;
  }
  S->n_waiting = 0;
  run_shared_committed(R);
}

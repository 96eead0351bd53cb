/*
 * gc.c — `pipec cache gc` (gc.h).
 *
 * Order: with the workspace lock held exclusive (no run is going or can
 * start: ws_lock) and the database's write lock, forget the cache entries
 * of the objects to remove and remove the logs, commit, and only then
 * remove the objects. A crash in between leaves objects no entry names,
 * which the next gc removes; never an entry naming a missing object.
 */
#include "gc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "objstore.h"
#include "tree.h"

/* A set of hashes (sorted array, binary search). */
typedef struct hash_set {
  hash128 *v;
  size_t n, cap;
} hash_set;

static void set_add(void *ctx, const hash128 *h) {
  hash_set *s = ctx;
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 256;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    if (!s->v)
      abort();
  }
  s->v[s->n++] = *h;
}

static int hash_cmp(const void *a, const void *b) {
  return memcmp(a, b, sizeof(hash128));
}

static int add_entry(void *ctx, const hash128 *h, char kind) {
  (void)kind;
  set_add(ctx, h);
  return 0;
}

typedef struct gc_ctx {
  hash_set live, dead;
  gc_report *rep;
} gc_ctx;

static int on_object(void *ctx, const hash128 *h, uint64_t size) {
  gc_ctx *g = ctx;
  if (bsearch(h, g->live.v, g->live.n, sizeof *h, hash_cmp)) {
    g->rep->kept++;
    g->rep->kept_bytes += size;
  } else {
    set_add(&g->dead, h);
    g->rep->removed++;
    g->rep->freed_bytes += size;
  }
  return 0;
}

/* Remove a file, counting what it held. */
static void remove_counted(const char *path, gc_report *rep) {
  struct stat sb;
  if (lstat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || unlink(path) != 0)
    return;
  rep->logs_removed++;
  rep->log_bytes += (uint64_t)sb.st_size;
}

/* A collected node run's log, and what a remote target keeps beside it
 * (tgt_ssh's client messages and exit code); then its run's directory if
 * that is empty now. */
static void on_dead_log(void *ctx, int64_t run, const char *path) {
  gc_ctx *g = ctx;
  char side[PATH_MAX];
  (void)run;
  remove_counted(path, g->rep);
  snprintf(side, sizeof side, "%s.ssh", path);
  unlink(side);
  snprintf(side, sizeof side, "%s.ssh-rc", path);
  unlink(side);
  snprintf(side, sizeof side, "%s", path);
  char *slash = strrchr(side, '/');
  if (slash) {
    *slash = '\0';
    rmdir(side); /* fails while other logs of the run are kept */
  }
}

/* Remove scratch directories of runs that are over. */
static void clean_scratch(ws *w, store *st) {
  DIR *d = opendir(ws_runs_dir(w));
  struct dirent *e;
  while (d && (e = readdir(d))) {
    char *end;
    long long id = strtoll(e->d_name, &end, 10);
    if (*end || id <= 0)
      continue;
    store_run r;
    if (store_run_get(st, id, &r) == 1) {
      bool live = strcmp(r.status, "running") == 0 &&
                  store_pid_alive(r.pid);
      store_run_free(&r);
      if (live)
        continue;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", ws_runs_dir(w), e->d_name);
    fs_rm_rf(path);
  }
  if (d)
    closedir(d);
}

int gc_collect(ws *w, store *st, uint32_t keep_runs, gc_report *rep,
               char *err, size_t errlen) {
  obj_store *objs;
  memset(rep, 0, sizeof *rep);
  int rc = obj_open(ws_objects_dir(w), NULL, &objs, err, errlen);
  if (rc != 0)
    return rc;
  gc_ctx g = {.rep = rep};
  /* A running run may have put objects that it has not recorded yet, so
   * gc waits for none; and it holds the workspace lock to the end, so no
   * run starts meanwhile (one that tries waits for it). */
  store_runs_reap(st, store_pid_alive);
  int lock = -1;
  rc = ws_lock(w, true, false, NULL, &lock, err, errlen);
  if (rc == -EWOULDBLOCK) {
    int64_t going = store_run_running(st);
    rep->running = going > 0 ? going : 0;
    if (going > 0)
      snprintf(err, errlen, "run %lld is still going; run gc when it has "
                            "finished", (long long)going);
    else
      snprintf(err, errlen, "a run is starting or another gc is going; run "
                            "gc when it has finished");
    obj_close(objs);
    return -EBUSY;
  }
  if (rc != 0) {
    obj_close(objs);
    return rc;
  }
  if (store_begin(st) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    obj_close(objs);
    close(lock);
    return -EIO;
  }
  rc = -EIO;
  int64_t running = store_run_running(st);
  if (running != 0) {
    if (running > 0) {
      rep->running = running;
      snprintf(err, errlen, "run %lld is still going; run gc when it has "
                            "finished", (long long)running);
      rc = -EBUSY;
    } else {
      snprintf(err, errlen, "%s", store_errmsg(st));
    }
    goto out;
  }
  if (store_live_objects(st, keep_runs, set_add, &g.live) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    goto out;
  }
  /* a live tree keeps every object it names (walked once each) */
  for (size_t i = 0, n = g.live.n; i < n; i++) {
    hash128 t = g.live.v[i]; /* the walk grows the set */
    char e[256];
    if (store_is_tree(st, &t) == 1) /* a broken tree keeps what it can */
      tree_walk(objs, &t, add_entry, &g.live, e, sizeof e);
  }
  qsort(g.live.v, g.live.n, sizeof *g.live.v, hash_cmp);
  if ((rc = obj_foreach(objs, on_object, &g, err, errlen)) < 0)
    goto out;
  rc = -EIO;
  for (size_t i = 0; i < g.dead.n; i++)
    if (store_cache_drop_object(st, &g.dead.v[i]) != 0) {
      snprintf(err, errlen, "%s", store_errmsg(st));
      goto out;
    }
  if (store_dead_logs(st, keep_runs, on_dead_log, &g) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    goto out;
  }
  clean_scratch(w, st);
  if (store_commit(st) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(st));
    goto out;
  }
  /* no entry names them now: a crash from here leaves only garbage */
  char e[256];
  for (size_t i = 0; i < g.dead.n; i++)
    obj_remove(objs, &g.dead.v[i], e, sizeof e);
  obj_clean_tmp(objs, 3600, e, sizeof e);
  rc = 0;
out:
  if (rc != 0)
    store_rollback(st);
  close(lock);
  free(g.live.v);
  free(g.dead.v);
  obj_close(objs);
  return rc;
}

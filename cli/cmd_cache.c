/*
 * cmd_cache.c — `pipec cache verify` and `pipec cache gc`.
 *
 * verify re-hashes every object; a damaged one is removed together with
 * the cache entries that name it, so the nodes that produced it run again.
 * gc keeps what store_live_objects() names live (the newest N runs, each
 * snapshot's newest run, running runs, each node's newest success) and
 * removes the rest; it also clears scratch directories and temporary files
 * left by runs that are not running.
 */
#include <dirent.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fsutil.h"
#include "objstore.h"
#include "store.h"
#include "workspace.h"

typedef struct verify_ctx {
  obj_store *objs;
  store *st;
  uint32_t damaged;
} verify_ctx;

static int on_verified(void *ctx, const hash128 *h, int status,
                       const char *msg) {
  verify_ctx *v = ctx;
  if (status == 0)
    return 0;
  char hex[HASH_HEX_LEN + 1], err[256];
  hash_hex(h, hex);
  printf("damaged  %s: %s\n", hex, msg);
  v->damaged++;
  obj_remove(v->objs, h, err, sizeof err);
  store_cache_drop_object(v->st, h);
  return 0;
}

static int cache_verify(ws *w, store *st) {
  obj_store *objs;
  char err[512];
  if (obj_open(ws_objects_dir(w), NULL, &objs, err, sizeof err) != 0) {
    fprintf(stderr, "pipec cache verify: %s\n", err);
    return CLI_FAILED;
  }
  verify_ctx v = {objs, st, 0};
  int bad = obj_verify_all(objs, on_verified, &v, err, sizeof err);
  obj_close(objs);
  if (bad < 0) {
    fprintf(stderr, "pipec cache verify: %s\n", err);
    return CLI_FAILED;
  }
  if (v.damaged)
    printf("%u damaged object%s removed; the nodes that made them will run "
           "again\n",
           v.damaged, v.damaged == 1 ? "" : "s");
  else
    printf("every object is intact\n");
  return v.damaged ? CLI_FAILED : CLI_OK;
}

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

typedef struct gc_ctx {
  hash_set live;
  hash_set dead;
  uint64_t kept_bytes, freed_bytes;
  uint32_t kept;
} gc_ctx;

static int on_object(void *ctx, const hash128 *h, uint64_t size) {
  gc_ctx *g = ctx;
  if (bsearch(h, g->live.v, g->live.n, sizeof *h, hash_cmp)) {
    g->kept++;
    g->kept_bytes += size;
  } else {
    set_add(&g->dead, h);
    g->freed_bytes += size;
  }
  return 0;
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

static int cache_gc(ws *w, store *st, uint32_t keep) {
  obj_store *objs;
  char err[512];
  if (obj_open(ws_objects_dir(w), NULL, &objs, err, sizeof err) != 0) {
    fprintf(stderr, "pipec cache gc: %s\n", err);
    return CLI_FAILED;
  }
  gc_ctx g = {0};
  int rc = CLI_OK;
  /* A running run may have put objects that it has not recorded yet, so
   * gc waits for none; and it holds the write lock from here to the end,
   * so no run starts meanwhile (one that tries waits for the lock). */
  store_runs_reap(st, store_pid_alive);
  if (store_begin(st) != 0) {
    fprintf(stderr, "pipec cache gc: %s\n", store_errmsg(st));
    obj_close(objs);
    return CLI_FAILED;
  }
  int64_t running = store_run_running(st);
  if (running != 0) {
    if (running > 0)
      fprintf(stderr, "pipec cache gc: run %lld is still going; run gc "
                      "when it has finished\n", (long long)running);
    else
      fprintf(stderr, "pipec cache gc: %s\n", store_errmsg(st));
    store_rollback(st);
    obj_close(objs);
    return CLI_FAILED;
  }
  if (store_live_objects(st, keep, set_add, &g.live) != 0) {
    fprintf(stderr, "pipec cache gc: %s\n", store_errmsg(st));
    rc = CLI_FAILED;
    goto out;
  }
  qsort(g.live.v, g.live.n, sizeof *g.live.v, hash_cmp);
  if (obj_foreach(objs, on_object, &g, err, sizeof err) < 0) {
    fprintf(stderr, "pipec cache gc: %s\n", err);
    rc = CLI_FAILED;
    goto out;
  }
  /* forget the cache entries, remove the objects, then commit: a crash in
   * between leaves entries naming missing objects, which a cache hit
   * checks for (the node simply runs again) */
  for (size_t i = 0; i < g.dead.n; i++)
    store_cache_drop_object(st, &g.dead.v[i]);
  for (size_t i = 0; i < g.dead.n; i++)
    obj_remove(objs, &g.dead.v[i], err, sizeof err);
  obj_clean_tmp(objs, 3600, err, sizeof err);
  clean_scratch(w, st);
  if (store_commit(st) != 0) {
    fprintf(stderr, "pipec cache gc: %s\n", store_errmsg(st));
    rc = CLI_FAILED;
    goto out;
  }
  printf("removed %zu object%s (%.1f MB); kept %u (%.1f MB) that the "
         "last %u runs, a snapshot's last run or a node's last success "
         "uses\n",
         g.dead.n, g.dead.n == 1 ? "" : "s", (double)g.freed_bytes / 1e6,
         g.kept, (double)g.kept_bytes / 1e6, keep);
out:
  if (rc != CLI_OK)
    store_rollback(st);
  free(g.live.v);
  free(g.dead.v);
  obj_close(objs);
  return rc;
}

int cmd_cache(int argc, char **argv) {
  if (cli_wants_help("cache", argc, argv))
    return CLI_OK;
  static const cli_opt opts[] = {{"keep", 0, true, 1}, {0}};
  const char *sub = NULL;
  int64_t keep = 10;
  bool keep_given = false;
  cli_args it;
  cli_args_init(&it, "cache", argc, argv, opts);
  for (int k; (k = cli_args_next(&it)) != CLI_ARG_END;) {
    if (k == CLI_ARG_ERROR)
      return CLI_USAGE;
    if (k == 1) {
      if (cli_number("cache", it.opt, it.value, 0, UINT32_MAX, &keep) != 0)
        return CLI_USAGE;
      keep_given = true;
    } else if (!sub) {
      sub = it.value;
    } else {
      return cli_usage_error("cache", "unexpected '%s'", it.value);
    }
  }
  if (!sub)
    return cli_usage_error("cache", "expected gc or verify");
  bool gc = strcmp(sub, "gc") == 0;
  if (!gc && strcmp(sub, "verify") != 0)
    return cli_usage_error("cache", "unknown subcommand '%s' (gc or verify)",
                           sub);
  if (!gc && keep_given)
    return cli_usage_error("cache", "--keep is an option of gc");
  ws *w;
  store *st;
  int rc = cli_open_workspace("cache", &w, &st);
  if (rc != 0)
    return rc;
  rc = gc ? cache_gc(w, st, (uint32_t)keep) : cache_verify(w, st);
  cli_close_workspace(w, st);
  return rc;
}

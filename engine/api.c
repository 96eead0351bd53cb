/*
 * api.c — libpipec's public API (include/pipec/engine.h) over the engine's
 * modules: a pipec_ws is a workspace (workspace.h) with its store opened
 * on first use; everything else translates to and from store.h, run.h,
 * gc.h, integrity.h, quota.h, snapshot.h and draft.h.
 */
#include "pipec/engine.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"
#include "cachesync.h"
#include "checkout.h"
#include "container.h"
#include "draft.h"
#include "gc.h"
#include "integrity.h"
#include "loadid.h"
#include "objstore.h"
#include "pipec/stdlib.h"
#include "plugin.h"
#include "projpath.h"
#include "qgroup.h"
#include "quota.h"
#include "run.h"
#include "snapshot.h"
#include "store.h"
#include "target.h"
#include "workspace.h"

struct pipec_ws {
  ws *w;
  store *st;                 /* opened on first use */
  bool created;
};

static int fail(pipec_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(pipec_error *err, int code, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
  }
  return code;
}

static void ok(pipec_error *err) {
  if (err) {
    err->code = 0;
    err->msg[0] = '\0';
  }
}

void pipec_set_oom_handler(void (*fn)(size_t n)) { base_set_oom_handler(fn); }

const char *pipec_version(void) { return PIPEC_VERSION; }

/* ---- workspaces ---------------------------------------------------------- */

int pipec_ws_open(const pipec_ws_opts *o, pipec_ws **out, pipec_error *err) {
  pipec_ws_opts none = {0};
  if (!o)
    o = &none;
  *out = NULL;
  pipec_ws *w = xcalloc(1, sizeof *w);
  char e[1024];
  if (ws_find(o->file, o->create, &w->w, &w->created, e, sizeof e) != 0) {
    free(w);
    return fail(err, PIPEC_E_WORKSPACE, "%s", e);
  }
  *out = w;
  ok(err);
  return 0;
}

void pipec_ws_close(pipec_ws *w) {
  if (!w)
    return;
  store_close(w->st);
  ws_close(w->w);
  free(w);
}

const char *pipec_ws_root(const pipec_ws *w) { return ws_root(w->w); }
const char *pipec_ws_dir(const pipec_ws *w) { return ws_dir(w->w); }
bool pipec_ws_created(const pipec_ws *w) { return w->created; }

/* The store, opened (and runs killed before they could say so reaped, the
 * leftovers of a killed rollback removed) on first use. */
static store *ws_store(pipec_ws *w, pipec_error *err) {
  if (w->st)
    return w->st;
  char e[1024];
  if (store_open(ws_db_path(w->w), &w->st, e, sizeof e) != 0) {
    fail(err, PIPEC_E_WORKSPACE, "%s", e);
    return NULL;
  }
  if (store_runs_reap(w->st, store_pid_alive) < 0 && store_damaged(w->st)) {
    fail(err, PIPEC_E_WORKSPACE, "%s", store_errmsg(w->st));
    store_close(w->st);
    w->st = NULL;
    return NULL;
  }
  snap_clean_rollbacks(w->st);
  return w->st;
}

static int store_fail(pipec_ws *w, pipec_error *err) {
  return fail(err, PIPEC_E_WORKSPACE, "%s", store_errmsg(w->st));
}

int pipec_ws_check(pipec_ws *w, pipec_error *err) {
  if (!ws_store(w, err))
    return PIPEC_E_WORKSPACE;
  ok(err);
  return 0;
}

/* The id of the pipeline whose main file is `file` (as given on the
 * command line: recorded relative to the workspace root when inside it):
 * 0, PIPEC_E_USAGE if it never ran here, PIPEC_E_WORKSPACE. */
static int pipeline_of(pipec_ws *w, store *st, const char *file,
                       int64_t *id, pipec_error *err) {
  char abs[PATH_MAX];
  const char *rel = file, *root = ws_root(w->w);
  size_t n = strlen(root);
  if (realpath(file, abs) && strncmp(abs, root, n) == 0 && abs[n] == '/')
    rel = abs + n + 1;
  int found = store_pipeline_find(st, rel, id);
  if (found < 0)
    return store_fail(w, err);
  if (found == 0)
    return fail(err, PIPEC_E_USAGE, "%s has never run in this workspace",
                file);
  return 0;
}

/* ---- compiling ------------------------------------------------------------ */

/* The quota file a compile of `path` reads: o->quota_file, else its
 * workspace's .pipec/quotas.pipe (shown relative to the current directory
 * when inside it). Its text goes to *text (NULL: there is none). An
 * explicit file that cannot be read, or a workspace's that exists but
 * cannot, is an error in d: false. */
static bool load_quota_file(const char *path, const char *explicit_file,
                            char **qpath, char **text, size_t *len,
                            pipec_diags *d) {
  *qpath = *text = NULL;
  *len = 0;
  if (explicit_file) {
    *qpath = xstrdup(explicit_file);
  } else {
    ws *w = NULL;
    char e[1024];
    if (ws_find(path, false, &w, NULL, e, sizeof e) != 0)
      return true; /* no workspace: no groups */
    char *f = ws_quota_file(w);
    ws_close(w);
    struct stat sb;
    if (stat(f, &sb) != 0 && errno == ENOENT) {
      free(f);
      return true;
    }
    char cwd[PATH_MAX];
    size_t n = getcwd(cwd, sizeof cwd) ? strlen(cwd) : 0;
    if (n && strncmp(f, cwd, n) == 0 && f[n] == '/')
      memmove(f, f + n + 1, strlen(f + n + 1) + 1);
    *qpath = f;
  }
  int rc = pipec_read_disk(NULL, *qpath, text, len);
  if (rc != 0) {
    pipec_diag_add(d, PIPEC_SEV_ERROR, "no-file", -1, 0, 0,
                   "cannot read the quota file '%s': %s", *qpath,
                   strerror(rc));
    free(*qpath);
    *qpath = NULL;
    return false;
  }
  return true;
}

/* The quota groups a snapshot compiles with: the workspace's as they are
 * now (they are no part of a snapshot). */
static void quotas_now(ws *w, char **qpath, char **qtext, size_t *qlen,
                       pipec_diags *d) {
  char *qfile = ws_quota_file(w);
  struct stat sb;
  *qpath = *qtext = NULL;
  *qlen = 0;
  if (stat(qfile, &sb) == 0)
    load_quota_file(NULL, qfile, qpath, qtext, qlen, d);
  free(qfile);
}

pipec_pipeline *pipec_load(const char *path, const pipec_load_opts *o,
                           pipec_diags *d) {
  pipec_load_opts none = {0};
  if (!o)
    o = &none;
  char *qpath, *qtext;
  size_t qlen;
  if (!load_quota_file(path, o->quota_file, &qpath, &qtext, &qlen, d))
    return NULL;
  uint32_t n = 0;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  pipec_registry reg = {.items = items, .n = n};
  pipec_target_kinds kinds = tgt_kinds_schema(tgt_builtin_kinds());
  /* the project check is on unless the user allows files outside */
  char root[PATH_MAX];
  const char *allow = getenv("PIPEC_ALLOW_OUTSIDE");
  bool outside = allow && *allow && strcmp(allow, "0") != 0;
  pipec_compile_opts opts = {
      .registry = &reg,
      .target_kinds = &kinds,
      .overrides = o->overrides,
      .n_overrides = o->n_overrides,
      .load_plugin = plugin_load,
      .project_root = !outside && projpath_root(path, root, sizeof root) == 0
                          ? root
                          : NULL,
      .quota_path = qpath,
      .quota_text = qtext,
      .quota_len = qlen};
  loadid id;
  loadid_begin(&id, path, &opts);
  pipec_pipeline *p = pipec_compile(path, &opts, d);
  uint8_t lid[16];
  if (loadid_end(&id, lid) && p)
    memcpy(p->load_id, lid, sizeof lid);
  free(qpath);
  free(qtext);
  return p;
}

/* ---- running ---------------------------------------------------------------- */

static int exit_code(int rc) {
  switch (rc) {
  case RUN_OK: return PIPEC_EXIT_OK;
  case RUN_NODE_FAILED: return PIPEC_EXIT_FAILED;
  case RUN_WORKSPACE: return PIPEC_EXIT_WORKSPACE;
  case RUN_INTERRUPTED: return PIPEC_EXIT_INTERRUPTED;
  default: return PIPEC_EXIT_USAGE;
  }
}

int pipec_run(pipec_ws *w, const pipec_pipeline *p, const pipec_run_opts *o,
              pipec_run_summary *res, pipec_error *err) {
  pipec_run_opts none = {0};
  if (!o)
    o = &none;
  run_opts ro = {.overrides = o->overrides,
                 .n_overrides = o->n_overrides,
                 .sel = {.nodes = o->nodes,
                         .n_nodes = o->n_nodes,
                         .from = o->from,
                         .to = o->to},
                 .jobs = o->jobs,
                 .keep_going = o->keep_going,
                 .dry_run = o->dry_run,
                 .force = o->force,
                 .no_signals = o->no_signals,
                 .on_event = o->on_event,
                 .event_ctx = o->event_ctx,
                 .root = o->root,
                 .of_snapshot = o->of_snapshot};
  run_result rr;
  char e[1024] = "";
  int rc = run_pipeline(w->w, p, &ro, &rr, e, sizeof e);
  if (res)
    *res = (pipec_run_summary){.run = rr.run_id,
                               .snapshot = rr.snapshot_id,
                               .ran = rr.ran,
                               .cached = rr.cached,
                               .failed = rr.failed,
                               .skipped = rr.skipped,
                               .cancelled = rr.cancelled,
                               .interrupted = rr.interrupted};
  int code = exit_code(rc);
  if (e[0] && (code == PIPEC_EXIT_USAGE || code == PIPEC_EXIT_WORKSPACE))
    fail(err, code == PIPEC_EXIT_USAGE ? PIPEC_E_USAGE : PIPEC_E_WORKSPACE,
         "%s", e);
  else
    ok(err);
  return code;
}

int64_t pipec_memory_advice(int64_t memory, int64_t peak) {
  if (memory <= 0 || peak <= 0)
    return 0;
  /* a resident set counts shared library pages the limit may not: a
   * little over is not yet over */
  bool over = peak > memory + memory / 8;
  bool far_below = peak < memory / 4 && memory - peak >= (64 << 20);
  if (!over && !far_below)
    return 0;
  int64_t want = peak + peak / 4;
  return (want + (1 << 20) - 1) & ~(int64_t)((1 << 20) - 1); /* MiB */
}

/* What the newest run that ran `node` says of its memory. */
static void why_memory(pipec_ws *w, const char *node, pipec_why *y) {
  store *st = ws_store(w, NULL);
  int64_t run = 0, id = 0;
  if (!st || store_node_last_run(st, node, STORE_NR_LOG, &run, &id) != 1)
    return;
  store_node_run *nrs = NULL;
  uint32_t n = 0;
  if (store_node_run_list(st, run, &nrs, &n) != 0)
    return;
  for (uint32_t i = 0; i < n; i++)
    if (nrs[i].id == id) {
      y->memory = nrs[i].memory;
      y->peak_memory = nrs[i].peak_memory;
      y->advice_memory = pipec_memory_advice(y->memory, y->peak_memory);
    }
  store_node_runs_free(nrs, n);
}

int pipec_why_node(pipec_ws *w, const pipec_pipeline *p, const char *node,
                   pipec_why *out, pipec_error *err) {
  char e[1024] = "";
  int rc = run_why(w->w, p, node, out, e, sizeof e);
  if (rc == RUN_OK) {
    why_memory(w, node, out);
    ok(err);
    return 0;
  }
  return fail(err, rc == RUN_WORKSPACE ? PIPEC_E_WORKSPACE : PIPEC_E_USAGE,
              "%s", e);
}

void pipec_why_free(pipec_why *y) {
  if (!y)
    return;
  free(y->node);
  free(y->upstream);
  free(y->reason);
  free(y->image);
  free(y->image_id);
  memset(y, 0, sizeof *y);
}

/* ---- history ------------------------------------------------------------------ */

static pipec_run_info run_info(store_run *r) {
  pipec_run_info i = {.id = r->id,
                      .snapshot = r->snapshot_id,
                      .started_ms = r->started_ms,
                      .ended_ms = r->ended_ms,
                      .pipeline = r->pipeline,
                      .status = r->status,
                      .ran = r->ran,
                      .cached = r->cached,
                      .failed = r->failed,
                      .nodes = r->nodes};
  r->pipeline = r->status = NULL; /* moved */
  return i;
}

int pipec_runs(pipec_ws *w, uint32_t limit, pipec_run_info **out, uint32_t *n,
               pipec_error *err) {
  *out = NULL;
  *n = 0;
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  store_run *runs = NULL;
  uint32_t k = 0;
  if (store_run_list(st, limit ? limit : UINT32_MAX, &runs, &k) != 0)
    return store_fail(w, err);
  *out = xcalloc(k, sizeof **out);
  for (uint32_t i = 0; i < k; i++)
    (*out)[i] = run_info(&runs[i]);
  *n = k;
  store_runs_free(runs, k);
  ok(err);
  return 0;
}

int pipec_run_get(pipec_ws *w, int64_t id, pipec_run_info *out,
                  pipec_error *err) {
  memset(out, 0, sizeof *out);
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  store_run r;
  int found = store_run_get(st, id, &r);
  if (found < 0)
    return store_fail(w, err);
  if (found == 1) {
    *out = run_info(&r);
    store_run_free(&r);
  }
  ok(err);
  return found;
}

void pipec_run_info_free(pipec_run_info *r) {
  if (!r)
    return;
  free(r->pipeline);
  free(r->status);
  memset(r, 0, sizeof *r);
}

void pipec_run_infos_free(pipec_run_info *r, uint32_t n) {
  for (uint32_t i = 0; r && i < n; i++)
    pipec_run_info_free(&r[i]);
  free(r);
}

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

/* bsearch: the shared hit of a node run id */
static int by_hit_id(const void *key, const void *elem) {
  int64_t id = *(const int64_t *)key,
          hit = ((const store_shared_hit *)elem)->node_run;
  return (id > hit) - (id < hit);
}

int pipec_run_nodes(pipec_ws *w, int64_t run, pipec_node_info **out,
                    uint32_t *n, pipec_error *err) {
  *out = NULL;
  *n = 0;
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  store_node_run *nrs = NULL;
  uint32_t k = 0;
  if (store_node_run_list(st, run, &nrs, &k) != 0)
    return store_fail(w, err);
  *out = xcalloc(k, sizeof **out);
  for (uint32_t i = 0; i < k; i++) {
    const store_node_run *r = &nrs[i];
    (*out)[i] = (pipec_node_info){.id = r->id,
                                  .name = dup_or_null(r->node),
                                  .component = dup_or_null(r->component),
                                  .status = dup_or_null(r->status),
                                  .target = dup_or_null(r->target),
                                  .job = dup_or_null(r->job_id),
                                  .cache_key = dup_or_null(r->cache_key),
                                  .reason = dup_or_null(r->miss_reason),
                                  .message = dup_or_null(r->message),
                                  .log = dup_or_null(r->log_path),
                                  .cache_hit = r->cache_hit,
                                  .attempts = r->attempts,
                                  .exit_code = r->exit_code,
                                  .started_ms = r->started_ms,
                                  .ended_ms = r->ended_ms,
                                  .image = dup_or_null(r->image),
                                  .image_id = dup_or_null(r->image_id),
                                  .memory = r->memory,
                                  .peak_memory = r->peak_memory,
                                  .advice_memory = pipec_memory_advice(
                                      r->memory, r->peak_memory)};
  }
  *n = k;
  store_node_runs_free(nrs, k);
  /* where cached outputs came from, for those of a shared cache */
  store_shared_hit *hits = NULL;
  uint32_t n_hits = 0;
  if (k && store_shared_hits(st, run, &hits, &n_hits) == 0 && n_hits)
    for (uint32_t i = 0; i < k; i++) {
      /* hits come by id; the nodes in pipeline order */
      const store_shared_hit *h = bsearch(&(*out)[i].id, hits, n_hits,
                                          sizeof *hits, by_hit_id);
      if (h)
        (*out)[i].shared = xstrdup(h->cache);
    }
  store_shared_hits_free(hits, n_hits);
  ok(err);
  return 0;
}

void pipec_node_infos_free(pipec_node_info *v, uint32_t n) {
  for (uint32_t i = 0; v && i < n; i++) {
    free(v[i].name);
    free(v[i].component);
    free(v[i].status);
    free(v[i].target);
    free(v[i].job);
    free(v[i].cache_key);
    free(v[i].reason);
    free(v[i].message);
    free(v[i].log);
    free(v[i].image);
    free(v[i].image_id);
    free(v[i].shared);
  }
  free(v);
}

int pipec_node_last_run(pipec_ws *w, const char *node, pipec_node_want want,
                        int64_t *run, int64_t *node_run, pipec_error *err) {
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  store_nr_want sw = want == PIPEC_NODE_RAN ? STORE_NR_LOG
                     : want == PIPEC_NODE_HAS_OUTPUTS ? STORE_NR_OUTPUTS
                                                      : STORE_NR_ANY;
  int64_t r = 0, nr = 0;
  int found = store_node_last_run(st, node, sw, &r, &nr);
  if (found < 0)
    return store_fail(w, err);
  if (run)
    *run = found ? r : 0;
  if (node_run)
    *node_run = found ? nr : 0;
  ok(err);
  return found;
}

int pipec_node_names(pipec_ws *w, uint32_t limit, char ***names, uint32_t *n,
                     pipec_error *err) {
  *names = NULL;
  *n = 0;
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  if (store_node_names(st, limit ? limit : UINT32_MAX, names, n) != 0)
    return store_fail(w, err);
  ok(err);
  return 0;
}

void pipec_strings_free(char **v, uint32_t n) {
  for (uint32_t i = 0; v && i < n; i++)
    free(v[i]);
  free(v);
}

int pipec_node_outputs(pipec_ws *w, int64_t node_run, pipec_output_info **out,
                       uint32_t *n, pipec_error *err) {
  *out = NULL;
  *n = 0;
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  store_output *outs = NULL;
  uint32_t k = 0;
  if (store_node_run_outputs(st, node_run, &outs, &k) != 0)
    return store_fail(w, err);
  *out = xcalloc(k, sizeof **out);
  for (uint32_t i = 0; i < k; i++) {
    (*out)[i].port = xstrdup(outs[i].port);
    hash_hex(&outs[i].hash, (*out)[i].hash);
    (*out)[i].size = outs[i].size;
  }
  *n = k;
  store_outputs_free(outs, k);
  ok(err);
  return 0;
}

void pipec_output_infos_free(pipec_output_info *v, uint32_t n) {
  for (uint32_t i = 0; v && i < n; i++)
    free(v[i].port);
  free(v);
}

int pipec_output_open(pipec_ws *w, const char *hex, int *fd,
                      pipec_error *err) {
  *fd = -1;
  hash128 h;
  if (!hex || strlen(hex) != HASH_HEX_LEN || hash_from_hex(hex, &h) != 0)
    return fail(err, PIPEC_E_USAGE, "'%s' is not an object hash",
                hex ? hex : "");
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  obj_store *objs;
  char e[512];
  if (obj_open(ws_objects_dir(w->w), NULL, &objs, e, sizeof e) != 0)
    return fail(err, PIPEC_E_WORKSPACE, "%s", e);
  hash_stat rec, now;
  bool have = store_object_get(st, &h, NULL, &rec) == 1;
  int v = integ_check(st, objs, &h, have ? &rec : NULL, false, &now, NULL, e,
                      sizeof e);
  int rc = 0;
  if (v == -ENOENT) {
    rc = fail(err, PIPEC_E_GONE, "object %s is no longer in the store", hex);
  } else if (v > 0) {
    rc = fail(err, PIPEC_E_DAMAGED, "%s", e);
  } else if (v < 0) {
    rc = fail(err, PIPEC_E_IO, "%s", e);
  } else {
    char path[PATH_MAX];
    obj_path(objs, &h, path, sizeof path);
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat sb;
    hash_stat got = {0};
    if (f >= 0 && fstat(f, &sb) == 0)
      got = hash_stat_of(&sb);
    if (f < 0 || !hash_stat_eq(&got, &now)) {
      if (f >= 0)
        close(f);
      rc = fail(err, PIPEC_E_AGAIN, "object %s changed while it was "
                                    "opened; try again", hex);
    } else {
      *fd = f;
      ok(err);
    }
  }
  obj_close(objs);
  return rc;
}

/* ---- the cache -------------------------------------------------------------- */

typedef struct verify_cb {
  pipec_problem_fn fn;
  void *ctx;
} verify_cb;

static void on_problem(void *ctx, const char *kind, const hash128 *h,
                       const char *msg) {
  verify_cb *v = ctx;
  char hex[HASH_HEX_LEN + 1];
  hash_hex(h, hex);
  if (v->fn)
    v->fn(v->ctx, kind, hex, msg);
}

int pipec_cache_verify(pipec_ws *w, pipec_problem_fn fn, void *ctx,
                       pipec_verify_result *res, pipec_error *err) {
  memset(res, 0, sizeof *res);
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  obj_store *objs;
  char e[512];
  if (obj_open(ws_objects_dir(w->w), NULL, &objs, e, sizeof e) != 0)
    return fail(err, PIPEC_E_WORKSPACE, "%s", e);
  verify_cb v = {fn, ctx};
  integ_report r;
  int rc = integ_verify(st, objs, on_problem, &v, &r, e, sizeof e);
  obj_close(objs);
  if (rc < 0)
    return fail(err, PIPEC_E_IO, "%s", e);
  *res = (pipec_verify_result){.checked = r.checked,
                               .damaged = r.damaged,
                               .odd = r.odd,
                               .missing = r.missing,
                               .unreadable = r.unreadable,
                               .dropped = r.dropped};
  ok(err);
  return 0;
}

int pipec_cache_gc(pipec_ws *w, uint32_t keep, pipec_gc_result *res,
                   pipec_error *err) {
  memset(res, 0, sizeof *res);
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  gc_report r;
  char e[512];
  int rc = gc_collect(w->w, st, keep, &r, e, sizeof e);
  *res = (pipec_gc_result){.objects_removed = r.removed,
                           .objects_kept = r.kept,
                           .logs_removed = r.logs_removed,
                           .bytes_freed = r.freed_bytes,
                           .bytes_kept = r.kept_bytes,
                           .log_bytes_freed = r.log_bytes,
                           .running = rc == -EBUSY ? r.running : 0};
  if (rc == -EBUSY)
    return fail(err, PIPEC_E_BUSY, "%s", e);
  if (rc != 0)
    return fail(err, PIPEC_E_IO, "%s", e);
  ok(err);
  return 0;
}

/* The callbacks of cachesync.h, given the public ones. */
typedef struct sync_cb {
  const pipec_cache_sync_cbs *cb;
} sync_cb;

static void on_sync_problem(void *ctx, const char *cache, const char *key,
                            const char *msg) {
  const sync_cb *s = ctx;
  if (s->cb && s->cb->problem)
    s->cb->problem(s->cb->ctx, cache, key, msg);
}

static void on_sync_done(void *ctx, const csync_result *r) {
  const sync_cb *s = ctx;
  pipec_cache_sync out = {.cache = r->cache,
                          .copied = r->copied,
                          .present = r->present,
                          .bad = r->bad,
                          .objects = r->objects,
                          .bytes = r->bytes};
  if (s->cb && s->cb->done)
    s->cb->done(s->cb->ctx, &out);
}

static int cache_sync(pipec_ws *w, bool push, const char *name,
                      const pipec_cache_sync_cbs *cb, pipec_error *err) {
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  sync_cb s = {cb};
  csync_cbs c = {.ctx = &s, .problem = on_sync_problem, .done = on_sync_done};
  char e[1024];
  int rc = csync_run(w->w, st, push, name, &c, e, sizeof e);
  if (rc == -EINVAL)
    return fail(err, PIPEC_E_USAGE, "%s", e);
  if (rc != 0)
    return fail(err, PIPEC_E_IO, "%s", e);
  ok(err);
  return 0;
}

int pipec_cache_push(pipec_ws *w, const char *name,
                     const pipec_cache_sync_cbs *cb, pipec_error *err) {
  return cache_sync(w, true, name, cb, err);
}

int pipec_cache_pull(pipec_ws *w, const char *name,
                     const pipec_cache_sync_cbs *cb, pipec_error *err) {
  return cache_sync(w, false, name, cb, err);
}

/* ---- snapshots ------------------------------------------------------------------ */

static char **steal_strings(char **v, uint32_t n) {
  char **out = xcalloc(n + 1, sizeof *out);
  for (uint32_t i = 0; i < n; i++) {
    out[i] = v[i];
    v[i] = NULL;
  }
  return out;
}

int pipec_snapshots(pipec_ws *w, const char *file, uint32_t limit,
                    pipec_snapshot_info **out, uint32_t *n, pipec_error *err) {
  *out = NULL;
  *n = 0;
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  int64_t pipeline = 0;
  int rc = file ? pipeline_of(w, st, file, &pipeline, err) : 0;
  if (rc != 0)
    return rc;
  store_snapshot *snaps = NULL;
  uint32_t k = 0;
  if (store_snapshot_list_brief(st, pipeline, limit, &snaps, &k) != 0)
    return store_fail(w, err);
  pipec_snapshot_info *v = xcalloc(k + 1, sizeof *v);
  uint32_t got = 0;
  for (; got < k; got++) {
    store_snapshot *s = &snaps[got];
    store_override *ov = NULL;
    uint32_t n_ov = 0;
    store_selection sel;
    if (store_snapshot_overrides(st, s->id, &ov, &n_ov) != 0 ||
        store_snapshot_selection(st, s->id, &sel) < 0) {
      store_overrides_free(ov, n_ov);
      rc = store_fail(w, err);
      break;
    }
    pipec_snapshot_info *o = &v[got];
    *o = (pipec_snapshot_info){.id = s->id,
                               .created_ms = s->created_ms,
                               .draft = s->draft_id,
                               .run = s->last_run,
                               .pipeline = s->pipeline,
                               .file = s->main_path,
                               .mode = s->mode,
                               .label = s->label,
                               .n_overrides = n_ov,
                               .nodes = steal_strings(sel.nodes, sel.n_nodes),
                               .n_nodes = sel.n_nodes,
                               .from = sel.from,
                               .to = sel.to,
                               .force = sel.force,
                               .of_snapshot = sel.of_snapshot};
    s->pipeline = s->main_path = s->mode = s->label = NULL; /* moved */
    sel.from = sel.to = NULL;
    o->overrides = xcalloc(n_ov + 1, sizeof *o->overrides);
    for (uint32_t i = 0; i < n_ov; i++) {
      o->overrides[i] = (pipec_override){ov[i].name, ov[i].value};
      ov[i].name = ov[i].value = NULL;
    }
    store_overrides_free(ov, n_ov);
    store_selection_free(&sel);
  }
  store_snapshots_free(snaps, k);
  if (rc != 0) {
    pipec_snapshot_infos_free(v, got);
    return rc;
  }
  *out = v;
  *n = got;
  ok(err);
  return 0;
}

void pipec_snapshot_infos_free(pipec_snapshot_info *s, uint32_t n) {
  for (uint32_t i = 0; s && i < n; i++) {
    free(s[i].pipeline);
    free(s[i].file);
    free(s[i].mode);
    free(s[i].label);
    for (uint32_t k = 0; k < s[i].n_overrides; k++) {
      free(s[i].overrides[k].name);
      free(s[i].overrides[k].value);
    }
    free(s[i].overrides);
    pipec_strings_free(s[i].nodes, s[i].n_nodes);
    free(s[i].from);
    free(s[i].to);
  }
  free(s);
}

int pipec_snapshot_diff(pipec_ws *w, int64_t a, int64_t b, FILE *out,
                        pipec_diags *d, pipec_error *err) {
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  pipec_diags own;
  if (!d) {
    pipec_diags_init(&own);
    d = &own;
  }
  uint32_t n;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  pipec_registry reg = {.items = items, .n = n};
  char e[1024] = "";
  const char *root = ws_root(w->w);
  char *qpath, *qtext;
  size_t qlen;
  quotas_now(w->w, &qpath, &qtext, &qlen, d);
  pipec_pipeline *pa = snap_compile(st, a, root, &reg, qpath, qtext, qlen, d,
                                    e, sizeof e);
  pipec_pipeline *pb = pa ? snap_compile(st, b, root, &reg, qpath, qtext,
                                         qlen, d, e, sizeof e)
                          : NULL;
  int rc;
  if (!pa || !pb) {
    rc = fail(err, store_damaged(st) ? PIPEC_E_WORKSPACE : PIPEC_E_USAGE,
              "%s", e);
  } else {
    bool renamed = strcmp(pa->name, pb->name) != 0;
    if (renamed)
      fprintf(out, "pipeline %s -> %s\n", pa->name, pb->name);
    int k = snap_diff(w->w, st, a, b, pa, pb, out, e, sizeof e);
    if (k < 0) {
      rc = fail(err, PIPEC_E_WORKSPACE, "%s", e);
    } else {
      if (k == 0 && !renamed)
        fprintf(out, "snapshots %lld and %lld are the same configuration\n",
                (long long)a, (long long)b);
      rc = k + renamed;
      ok(err);
    }
  }
  pipec_pipeline_free(pa);
  pipec_pipeline_free(pb);
  free(qpath);
  free(qtext);
  if (d == &own)
    pipec_diags_free(&own);
  return rc;
}

int pipec_rollback(pipec_ws *w, int64_t id, bool dry_run, FILE *out,
                   int64_t *saved, pipec_error *err) {
  return pipec_rollback_ex(w, id, dry_run ? PIPEC_ROLLBACK_DRY_RUN : 0, out,
                           saved, err);
}

int pipec_rollback_ex(pipec_ws *w, int64_t id, unsigned flags, FILE *out,
                      int64_t *saved, pipec_error *err) {
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  char e[1024] = "";
  int64_t before = 0;
  unsigned sf = (flags & PIPEC_ROLLBACK_DRY_RUN ? SNAP_DRY_RUN : 0) |
                (flags & PIPEC_ROLLBACK_DATA ? SNAP_DATA : 0);
  int k = snap_rollback(w->w, st, id, sf, out, &before, e, sizeof e);
  if (k < 0) {
    store_snapshot s = {0};
    int found = store_damaged(st) ? -1 : store_snapshot_get(st, id, &s);
    store_snapshot_free(&s);
    return fail(err, store_damaged(st) ? PIPEC_E_WORKSPACE
                     : found == 0      ? PIPEC_E_USAGE
                                       : PIPEC_E_FAILED,
                "%s", e);
  }
  if (saved)
    *saved = before;
  ok(err);
  return k;
}

/* ---- drafts ---------------------------------------------------------------------- */

int pipec_drafts(pipec_ws *w, const char *file, uint32_t limit,
                 pipec_draft_info **out, uint32_t *n, pipec_error *err) {
  *out = NULL;
  *n = 0;
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  int64_t pipeline = 0;
  int rc = file ? pipeline_of(w, st, file, &pipeline, err) : 0;
  if (rc != 0)
    return rc;
  char e[1024];
  if (draft_list(st, pipeline, limit, out, n, e, sizeof e) != 0)
    return fail(err, PIPEC_E_WORKSPACE, "%s", e);
  ok(err);
  return 0;
}

int pipec_draft_get(pipec_ws *w, int64_t id, pipec_draft_info *out,
                    pipec_error *err) {
  memset(out, 0, sizeof *out);
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  char e[1024];
  int found = draft_get(st, id, out, e, sizeof e);
  if (found < 0)
    return fail(err, PIPEC_E_WORKSPACE, "%s", e);
  ok(err);
  return found;
}

void pipec_draft_info_free(pipec_draft_info *d) { draft_info_free(d); }

void pipec_draft_infos_free(pipec_draft_info *d, uint32_t n) {
  draft_infos_free(d, n);
}

int pipec_draft_diff(pipec_ws *w, int64_t id, FILE *out, pipec_error *err) {
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  char e[1024];
  int k = draft_diff(st, id, out, e, sizeof e);
  if (k < 0)
    return fail(err, k == DRAFT_NONE ? PIPEC_E_USAGE : PIPEC_E_WORKSPACE,
                "%s", e);
  ok(err);
  return k;
}

int pipec_draft_restore(pipec_ws *w, int64_t id, bool dry_run, FILE *out,
                        int64_t *saved, pipec_error *err) {
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  char root[PATH_MAX], e[1024] = "";
  if (!realpath(ws_root(w->w), root))
    return fail(err, PIPEC_E_IO, "cannot resolve %s: %s", ws_root(w->w),
                strerror(errno));
  int k = draft_restore(st, root, id, dry_run, out, saved, e, sizeof e);
  if (k < 0)
    return fail(err, k == DRAFT_NONE        ? PIPEC_E_USAGE
                     : store_damaged(st) ? PIPEC_E_WORKSPACE
                                         : PIPEC_E_FAILED,
                "%s", e);
  ok(err);
  return k;
}

/* ---- targets -------------------------------------------------------------------- */

int pipec_target_runtimes(const pipec_pipeline *p, pipec_target_runtime *out,
                          pipec_error *err) {
  ctr_runtime_info *info = xcalloc(p->n_targets + 1, sizeof *info);
  char e[512];
  if (ctr_runtimes(p, NULL, info, e, sizeof e) != 0) {
    free(info);
    return fail(err, PIPEC_E_FAILED, "%s", e);
  }
  for (uint32_t t = 0; t < p->n_targets; t++) /* the strings move over */
    out[t] = (pipec_target_runtime){.name = xstrdup(info[t].name),
                                    .path = info[t].path,
                                    .version = info[t].version,
                                    .error = info[t].error,
                                    .probed = info[t].probed};
  free(info);
  ok(err);
  return 0;
}

void pipec_target_runtimes_free(pipec_target_runtime *v, uint32_t n) {
  for (uint32_t i = 0; v && i < n; i++) {
    free(v[i].name);
    free(v[i].path);
    free(v[i].version);
    free(v[i].error);
  }
}

int pipec_images_check(const pipec_pipeline *p, pipec_image_fn fn, void *ctx,
                       pipec_error *err) {
  ctr_images im;
  char e[512];
  if (ctr_resolve(p, NULL, "local", &im, e, sizeof e) != 0)
    return fail(err, PIPEC_E_FAILED, "%s", e);
  int count = 0;
  for (uint32_t i = 0; i < im.n; i++) {
    if (im.v[i].id)
      continue;
    const pipec_node *first = NULL;
    for (uint32_t k = 0; k < p->n_nodes + p->n_templates && !first; k++) {
      const pipec_node *n = k < p->n_nodes ? &p->nodes[k]
                                           : &p->templates[k - p->n_nodes];
      if (n->image && n->target == im.v[i].target &&
          strcmp(n->image, im.v[i].ref) == 0)
        first = n;
    }
    if (fn && first)
      fn(ctx, first, im.v[i].error);
    count++;
  }
  ctr_images_free(&im);
  ok(err);
  return count;
}

int pipec_targets_use(pipec_ws *w, const pipec_pipeline *p,
                      pipec_target_use *use, pipec_error *err) {
  quota *q = xcalloc(p->n_targets, sizeof *q);
  const tgt_kinds *kinds = tgt_builtin_kinds();
  for (uint32_t t = 0; t < p->n_targets; t++) {
    use[t] = (pipec_target_use){0};
    quota_init(&q[t], tgt_kinds_find(kinds, p->targets[t].kind), &p->targets[t]);
  }
  store *st = w ? ws_store(w, err) : NULL;
  store_run *runs = NULL;
  uint32_t n_runs = 0;
  if (st && store_run_list(st, 100, &runs, &n_runs) == 0)
    for (uint32_t r = 0; r < n_runs; r++) {
      if (strcmp(runs[r].status, "running") != 0 ||
          strcmp(runs[r].pipeline, p->name) != 0)
        continue;
      store_node_run *nr = NULL;
      uint32_t n = 0;
      if (store_node_run_list(st, runs[r].id, &nr, &n) != 0)
        continue;
      for (uint32_t i = 0; i < n; i++) {
        uint32_t node = pipec_pipeline_node(p, nr[i].node);
        if (strcmp(nr[i].status, "running") != 0 || node == PIPEC_NONE)
          continue;
        uint32_t t = p->nodes[node].target;
        char gpus[128];
        quota_take(&q[t], &p->nodes[node].resources, gpus, sizeof gpus);
        use[t].nodes++;
      }
      store_node_runs_free(nr, n);
    }
  store_runs_free(runs, n_runs);
  for (uint32_t t = 0; t < p->n_targets; t++) {
    uint32_t busy = 0;
    for (uint32_t g = 0; g < q[t].n_gpus; g++)
      busy += q[t].gpu_busy[g];
    use[t].cpus = q[t].used_cpus;
    use[t].memory = q[t].used_memory;
    use[t].gpus = busy;
    use[t].slots = q[t].used_slots;
    use[t].max_cpus = q[t].cpus;
    use[t].max_memory = q[t].memory;
    use[t].max_gpus = q[t].gpus_limited ? q[t].n_gpus : 0;
    use[t].limits_gpus = q[t].gpus_limited;
    use[t].max_slots = q[t].slots;
  }
  free(q);
  ok(err);
  return 0;
}

int pipec_groups_use(pipec_ws *w, const pipec_pipeline *p,
                     pipec_group_use *use, pipec_error *err) {
  for (uint32_t g = 0; g < p->n_quotas; g++)
    use[g] = (pipec_group_use){0};
  if (!w) {
    ok(err);
    return 0;
  }
  char *dir = ws_quota_dir(w->w);
  int rc = 0;
  for (uint32_t g = 0; g < p->n_quotas && rc == 0; g++) {
    qgroup_use u;
    char e[512];
    if (qgroup_usage(dir, p->quotas[g].name, &u, e, sizeof e) != 0)
      rc = fail(err, PIPEC_E_WORKSPACE, "%s", e);
    else
      use[g] = (pipec_group_use){u.cpus, u.memory, u.gpus, u.jobs,
                                 u.holders, u.waiting};
  }
  free(dir);
  if (rc == 0)
    ok(err);
  return rc;
}

/* ---- running a snapshot --------------------------------------------------------- */

int pipec_snapshot_checkout(pipec_ws *w, int64_t id, pipec_checkout *out,
                            pipec_error *err) {
  memset(out, 0, sizeof *out);
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  checkout c;
  char e[1024];
  if (checkout_make(w->w, st, id, &c, e, sizeof e) != 0) {
    store_snapshot s = {0};
    int found = store_snapshot_get(st, id, &s);
    store_snapshot_free(&s);
    return fail(err, found == 1 ? PIPEC_E_FAILED : PIPEC_E_USAGE, "%s", e);
  }
  out->dir = c.dir;
  out->main = c.main;
  out->main_rec = c.main_rec;
  out->overrides = xcalloc(c.n_ov + 1, sizeof *out->overrides);
  for (uint32_t i = 0; i < c.n_ov; i++)
    out->overrides[i] = xprintf("%s=%s", c.ov[i].name, c.ov[i].value);
  out->n_overrides = c.n_ov;
  store_overrides_free(c.ov, c.n_ov);
  ok(err);
  return 0;
}

void pipec_checkout_free(pipec_checkout *c) {
  if (!c)
    return;
  free(c->dir);
  free(c->main);
  free(c->main_rec);
  for (uint32_t i = 0; i < c->n_overrides; i++)
    free(c->overrides[i]);
  free(c->overrides);
  memset(c, 0, sizeof *c);
}

/* ---- views (pipec ui) ----------------------------------------------------------- */

int pipec_pipelines(pipec_ws *w, pipec_pipeline_info **out, uint32_t *n,
                    pipec_error *err) {
  *out = NULL;
  *n = 0;
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  store_pipeline *ps = NULL;
  uint32_t k = 0;
  if (store_pipeline_list(st, &ps, &k) != 0)
    return store_fail(w, err);
  *out = xcalloc(k + 1, sizeof **out);
  for (uint32_t i = 0; i < k; i++) {
    (*out)[i] = (pipec_pipeline_info){.id = ps[i].id,
                                      .name = ps[i].name,
                                      .file = ps[i].main_path,
                                      .last_run = ps[i].last_run,
                                      .runs = ps[i].runs};
    ps[i].name = ps[i].main_path = NULL; /* moved */
  }
  *n = k;
  store_pipelines_free(ps, k);
  ok(err);
  return 0;
}

void pipec_pipeline_infos_free(pipec_pipeline_info *p, uint32_t n) {
  for (uint32_t i = 0; p && i < n; i++) {
    free(p[i].name);
    free(p[i].file);
  }
  free(p);
}

int pipec_runs_page(pipec_ws *w, int64_t pipeline, int64_t before,
                    uint32_t limit, pipec_run_info **out, uint32_t *n,
                    uint32_t *total, pipec_error *err) {
  *out = NULL;
  *n = 0;
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  store_run *runs = NULL;
  uint32_t k = 0;
  if (store_run_page(st, pipeline, before, limit, &runs, &k, total) != 0)
    return store_fail(w, err);
  *out = xcalloc(k + 1, sizeof **out);
  for (uint32_t i = 0; i < k; i++)
    (*out)[i] = run_info(&runs[i]);
  *n = k;
  store_runs_free(runs, k);
  ok(err);
  return 0;
}

int pipec_run_by_pid(pipec_ws *w, int64_t pid, int64_t after, int64_t *run,
                     pipec_error *err) {
  *run = 0;
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  int found = store_run_by_pid(st, pid, after, run);
  if (found < 0)
    return store_fail(w, err);
  ok(err);
  return found;
}

int pipec_run_statuses(pipec_ws *w, int64_t run, pipec_status_fn fn,
                       void *ctx, pipec_error *err) {
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  if (store_node_run_statuses(st, run, fn, ctx) != 0)
    return store_fail(w, err);
  ok(err);
  return 0;
}

pipec_pipeline *pipec_snapshot_load(pipec_ws *w, int64_t id, pipec_diags *d,
                                    pipec_error *err) {
  store *st = ws_store(w, err);
  if (!st)
    return NULL;
  pipec_diags own;
  if (!d) {
    pipec_diags_init(&own);
    d = &own;
  }
  uint32_t n;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  pipec_registry reg = {.items = items, .n = n};
  char e[1024] = "";
  char *qpath, *qtext;
  size_t qlen;
  quotas_now(w->w, &qpath, &qtext, &qlen, d);
  pipec_pipeline *p = snap_compile(st, id, ws_root(w->w), &reg, qpath, qtext,
                                   qlen, d, e, sizeof e);
  free(qpath);
  free(qtext);
  if (!p)
    fail(err, store_damaged(st) ? PIPEC_E_WORKSPACE : PIPEC_E_USAGE, "%s",
         e[0] ? e : "snapshot does not compile");
  else
    ok(err);
  if (d == &own)
    pipec_diags_free(&own);
  return p;
}

int pipec_snapshot_get(pipec_ws *w, int64_t id, pipec_snapshot_info *out,
                       pipec_error *err) {
  memset(out, 0, sizeof *out);
  store *st = ws_store(w, err);
  if (!st)
    return PIPEC_E_WORKSPACE;
  store_snapshot s;
  int found = store_snapshot_brief(st, id, &s);
  if (found <= 0) {
    store_snapshot_free(&s);
    if (found < 0)
      return store_fail(w, err);
    ok(err);
    return 0;
  }
  store_override *ov = NULL;
  uint32_t n_ov = 0;
  store_selection sel;
  if (store_snapshot_overrides(st, id, &ov, &n_ov) != 0 ||
      store_snapshot_selection(st, id, &sel) < 0) {
    store_overrides_free(ov, n_ov);
    store_snapshot_free(&s);
    return store_fail(w, err);
  }
  *out = (pipec_snapshot_info){.id = s.id,
                               .created_ms = s.created_ms,
                               .draft = s.draft_id,
                               .run = s.last_run,
                               .pipeline = s.pipeline,
                               .file = s.main_path,
                               .mode = s.mode,
                               .label = s.label,
                               .n_overrides = n_ov,
                               .nodes = steal_strings(sel.nodes, sel.n_nodes),
                               .n_nodes = sel.n_nodes,
                               .from = sel.from,
                               .to = sel.to,
                               .force = sel.force};
  s.pipeline = s.main_path = s.mode = s.label = NULL; /* moved */
  sel.from = sel.to = NULL;
  out->overrides = xcalloc(n_ov + 1, sizeof *out->overrides);
  for (uint32_t i = 0; i < n_ov; i++) {
    out->overrides[i] = (pipec_override){ov[i].name, ov[i].value};
    ov[i].name = ov[i].value = NULL;
  }
  store_overrides_free(ov, n_ov);
  store_selection_free(&sel);
  store_snapshot_free(&s);
  ok(err);
  return 1;
}

void pipec_snapshot_info_free(pipec_snapshot_info *s) {
  if (!s)
    return;
  free(s->pipeline);
  free(s->file);
  free(s->mode);
  free(s->label);
  for (uint32_t k = 0; k < s->n_overrides; k++) {
    free(s->overrides[k].name);
    free(s->overrides[k].value);
  }
  free(s->overrides);
  pipec_strings_free(s->nodes, s->n_nodes);
  free(s->from);
  free(s->to);
  memset(s, 0, sizeof *s);
}

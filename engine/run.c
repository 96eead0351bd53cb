/*
 * run.c — `pipec run` (run.h): record, plan, schedule, collect, record.
 *
 * The scheduler (sched.c) decides when a node starts; this file decides
 * what starting means. Its hooks, per node:
 *
 *   prepare       hash the inputs' objects into the node's cache key; a
 *                 hit whose objects are intact settles the node as cached;
 *                 a miss builds the job (command line, scratch directory,
 *                 log file) for the node's target and records why it ran
 *   started       record the attempt and its job id
 *   attempt_done  a zero exit with every output present moves the outputs
 *                 into the object store, then commits the cache entry and
 *                 the artifacts in one transaction (objects first: a cache
 *                 entry never names an object that is not whole on disk)
 *   settled       record the final state and print it
 */
#define _GNU_SOURCE /* vasprintf */
#include "run.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cachekey.h"
#include "fsutil.h"
#include "editdist.h"
#include "command.h"
#include "hash.h"
#include "objstore.h"
#include "pipec/graph.h"
#include "scheduler.h"
#include "store.h"
#include "target.h"
#include "workspace.h"

typedef struct run_node {
  bool known;               /* out_hash/out_size are set */
  hash128 *out_hash;        /* per component output */
  uint64_t *out_size;
  hash128 key;
  bool have_key;
  ck_parts parts;
  char *parts_text;
  int64_t node_run;         /* store id, 0 until recorded */
  char *scratch;
  char *log_path;
  char **in_paths, **out_paths;
  pipec_named_path *ins, *outs;
  char **argv, **env;
  char **files;             /* code files and plugin, absolute (staging) */
  tgt_job job;
  double t_start;
  char *reason;             /* why it runs (a cache miss), or NULL */
} run_node;

typedef struct runner {
  const pipec_pipeline *p;
  const run_opts *o;
  run_result *res;
  ws *w;
  store *st;
  obj_store *objs;
  hash_index idx;
  hash_memo *memo;
  uv_loop_t loop;
  tgt **targets;            /* per pipeline target, opened on first use */
  run_node *nodes;
  bool *in_plan, *upstream;
  int64_t pipeline_id, run_id, snapshot_id;
  char *abs_dir;            /* the pipeline's directory, absolute */
  char exe[PATH_MAX];       /* this pipec, for `pipec exec` */
  status_printer sp;
  uv_prepare_t batch_commit; /* commits the batch before the loop waits */
  bool in_batch;
  bool record_failed;
} runner;

/* ---- small helpers ----------------------------------------------------- */

static char *xstrdup(const char *s) {
  char *d = strdup(s ? s : "");
  if (!d) {
    fputs("pipec: out of memory\n", stderr);
    abort();
  }
  return d;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) {
    fputs("pipec: out of memory\n", stderr);
    abort();
  }
  va_end(ap);
  return s;
}

static void *xcalloc(size_t n, size_t size) {
  void *p = calloc(n ? n : 1, size);
  if (!p) {
    fputs("pipec: out of memory\n", stderr);
    abort();
  }
  return p;
}

/* Is the filesystem holding path (or its parent) out of space? */
static bool disk_full(const char *path) {
  struct statvfs sv;
  char dir[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (slash)
    *slash = 0;
  return statvfs(dir, &sv) == 0 && sv.f_bavail * sv.f_frsize < 64 * 1024;
}

static int output_index(const pipec_component *c, const char *port) {
  for (uint32_t i = 0; i < c->n_outputs; i++)
    if (strcmp(c->outputs[i].name, port) == 0)
      return (int)i;
  return -1;
}

static const pipec_component *comp_of(const runner *R, uint32_t node) {
  return &R->p->components[R->p->nodes[node].component];
}

/* File name of an output in the scratch directory: the port, with an
 * extension tools recognise for its type. */
static char *output_file(const char *scratch, const pipec_port_decl *port) {
  const char *ext = port->type == PIPEC_PORT_TABLE   ? ".csv"
                    : port->type == PIPEC_PORT_JSON  ? ".json"
                    : port->type == PIPEC_PORT_MODEL ? ".model"
                                                     : "";
  return xprintf("%s/%s%s", scratch, port->name, ext);
}

/* ---- the file-hash index, backed by the store ---------------------------- */

static int idx_get(void *ctx, const char *path, hash_stat *st, hash128 *h) {
  return store_file_get(ctx, path, st, h);
}

static int idx_put(void *ctx, const char *path, const hash_stat *st,
                   const hash128 *h) {
  return store_file_put(ctx, path, st, h);
}

/* ---- batched writes --------------------------------------------------------
 * The hooks' writes go into one transaction per event-loop iteration, so a
 * fully cached run of 10k nodes is one commit, and no transaction stays
 * open while the loop waits for a process. Objects are fsync'd when they
 * enter the store, before the transaction that names them commits. */

static void batch_open(runner *R) {
  if (!R->in_batch && store_begin(R->st) == 0)
    R->in_batch = true;
}

static void batch_close(runner *R) {
  if (!R->in_batch)
    return;
  R->in_batch = false;
  if (store_commit(R->st) != 0 && !R->record_failed) {
    R->record_failed = true;
    status_clear(&R->sp);
    fprintf(stderr, "pipec: cannot record the run: %s\n",
            store_errmsg(R->st));
  }
}

/* A prepare callback runs right before the loop blocks for I/O, after
 * everything the iteration did (a check callback would run after the
 * poll: writes made before the first poll, or in a later phase, would
 * hold the write lock while the loop waits for a node, and every other
 * pipec on the workspace would wait behind it). */
static void on_loop_prepare(uv_prepare_t *h) { batch_close(h->data); }

/* ---- cache lookups ------------------------------------------------------- */

/* The hashes of the files wired to node's inputs; all producers known. */
static hash128 *input_hashes(runner *R, uint32_t node) {
  const pipec_node *n = &R->p->nodes[node];
  hash128 *hs = xcalloc(n->n_inputs, sizeof *hs);
  for (uint32_t i = 0; i < n->n_inputs; i++) {
    const pipec_input *in = &n->inputs[i];
    int k = output_index(comp_of(R, in->producer), in->producer_port);
    hs[i] = R->nodes[in->producer].out_hash[k];
  }
  return hs;
}

/* The node's cache key. Its parts (readable, for `why` and the miss
 * reason) cost more than the key: only a node that runs needs them, so
 * with_parts is false on the cache-hit path. */
static int compute_key(runner *R, uint32_t node, bool with_parts, char *err,
                       size_t errlen) {
  run_node *rn = &R->nodes[node];
  hash128 *hs = input_hashes(R, node);
  ck_parts_clear(&rn->parts);
  int rc = ck_compute(R->p, node, hs, hash_memo_cb, R->memo, &rn->key,
                      with_parts ? &rn->parts : NULL, err, errlen);
  free(hs);
  if (rc != 0)
    return rc;
  rn->have_key = true;
  free(rn->parts_text);
  rn->parts_text = with_parts ? ck_parts_format(&rn->parts, NULL) : NULL;
  return 0;
}

/* Look the node's key up in the cache: 1 and its outputs known if every
 * object is there whole-sized, 0 on a miss (a damaged entry is dropped). */
static int cache_lookup(runner *R, uint32_t node) {
  run_node *rn = &R->nodes[node];
  const pipec_component *c = comp_of(R, node);
  store_output *outs = NULL;
  uint32_t n = 0;
  if (store_cache_get(R->st, &rn->key, &outs, &n) != 1)
    return 0;
  int hit = 1;
  for (uint32_t i = 0; i < c->n_outputs && hit; i++) {
    uint32_t k = 0;
    while (k < n && strcmp(outs[k].port, c->outputs[i].name) != 0)
      k++;
    if (k == n || !obj_exists(R->objs, &outs[k].hash, outs[k].size)) {
      hit = 0;
      break;
    }
    rn->out_hash[i] = outs[k].hash;
    rn->out_size[i] = outs[k].size;
  }
  store_outputs_free(outs, n);
  if (!hit) { /* an object went missing: forget the entry, run again */
    store_cache_delete(R->st, &rn->key);
    free(rn->reason);
    rn->reason = xstrdup("a cached output is missing from the object store");
    return 0;
  }
  rn->known = true;
  return 1;
}

/* Why the node must run: what changed since its last success. */
static char *miss_reason(runner *R, uint32_t node) {
  run_node *rn = &R->nodes[node];
  if (rn->reason)
    return xstrdup(rn->reason);
  if (R->o->force && R->in_plan[node])
    return xstrdup("--force");
  if (!R->p->nodes[node].cache)
    return xstrdup("cache = false");
  char *old_text = NULL;
  if (store_last_parts(R->st, R->pipeline_id, R->p->nodes[node].name,
                       &old_text) != 1)
    return xstrdup("never ran");
  ck_parts old = {0};
  char err[256], *diff = NULL;
  char *why;
  if (ck_parts_parse(old_text, strlen(old_text), &old, err, sizeof err) != 0)
    why = xstrdup("the last run's key cannot be read");
  else if (ck_explain(&old, &rn->parts, &diff) > 0)
    why = xstrdup(diff);
  else
    why = xstrdup("its last outputs are no longer in the store");
  /* ck_explain lines are newline-separated; one line reads better */
  for (char *q = why; *q; q++)
    if (*q == '\n')
      *q = q[1] ? ';' : 0;
  free(diff);
  free(old_text);
  ck_parts_free(&old);
  return why;
}

/* ---- building a job ------------------------------------------------------ */

static void free_strv(char **v) {
  if (!v)
    return;
  for (char **q = v; *q; q++)
    free(*q);
  free(v);
}

static void node_release(run_node *rn, uint32_t n_in, uint32_t n_out) {
  for (uint32_t i = 0; rn->in_paths && i < n_in; i++)
    free(rn->in_paths[i]);
  for (uint32_t i = 0; rn->out_paths && i < n_out; i++)
    free(rn->out_paths[i]);
  free(rn->in_paths);
  free(rn->out_paths);
  free(rn->ins);
  free(rn->outs);
  free_strv(rn->argv);
  free_strv(rn->env);
  free_strv(rn->files);
  rn->in_paths = rn->out_paths = NULL;
  rn->ins = rn->outs = NULL;
  rn->argv = rn->env = rn->files = NULL;
}

static int open_target(runner *R, uint32_t t, tgt **out, char *err,
                       size_t errlen) {
  if (!R->targets[t]) {
    int rc = tgt_open(&R->loop, &R->p->targets[t], &R->targets[t], err,
                      errlen);
    if (rc != 0)
      return rc;
  }
  *out = R->targets[t];
  return 0;
}

static sched_status build_job(runner *R, uint32_t node, tgt_job **job,
                              tgt **target, char *err, size_t errlen) {
  const pipec_node *n = &R->p->nodes[node];
  const pipec_component *c = comp_of(R, node);
  run_node *rn = &R->nodes[node];
  rn->scratch = xprintf("%s/%lld/%s", ws_runs_dir(R->w),
                        (long long)R->run_id, n->name);
  fs_rm_rf(rn->scratch); /* left by a crashed attempt: never trusted */
  /* the run's directories exist (run_schedule); a node name is one level */
  int rc = mkdir(rn->scratch, 0755) == 0 ? 0 : fs_mkdir_p(rn->scratch);
  if (rc != 0) {
    snprintf(err, errlen, "cannot create the scratch directory %s: %s",
             rn->scratch, strerror(-rc));
    return SCHED_FAILED;
  }
  rn->log_path = xprintf("%s/%lld/%s.log", ws_logs_dir(R->w),
                         (long long)R->run_id, n->name);
  rn->in_paths = xcalloc(n->n_inputs + 1, sizeof *rn->in_paths);
  rn->ins = xcalloc(n->n_inputs + 1, sizeof *rn->ins);
  hash128 *hs = input_hashes(R, node);
  for (uint32_t i = 0; i < n->n_inputs; i++) {
    char path[PATH_MAX];
    obj_path(R->objs, &hs[i], path, sizeof path);
    rn->in_paths[i] = xstrdup(path);
    rn->ins[i] = (pipec_named_path){n->inputs[i].port, rn->in_paths[i]};
  }
  free(hs);
  rn->out_paths = xcalloc(c->n_outputs + 1, sizeof *rn->out_paths);
  rn->outs = xcalloc(c->n_outputs + 1, sizeof *rn->outs);
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    rn->out_paths[i] = output_file(rn->scratch, &c->outputs[i]);
    rn->outs[i] = (pipec_named_path){c->outputs[i].name, rn->out_paths[i]};
  }
  if (cmd_build(R->p, node, rn->ins, n->n_inputs, rn->outs, c->n_outputs,
                R->exe, &rn->argv, &rn->env, err, errlen) != 0)
    return SCHED_FAILED;
  /* exec's limits are this machine's; remote targets have their own */
  if (R->p->targets[n->target].kind == PIPEC_TARGET_LOCAL &&
      cmd_fits(rn->argv, rn->env, n->name, err, errlen) != 0)
    return SCHED_FAILED;
  if (open_target(R, n->target, target, err, errlen) != 0)
    return SCHED_FAILED;
  /* what a remote target must copy besides the inputs */
  rn->files = xcalloc(c->n_code + 2, sizeof *rn->files);
  uint32_t n_files = 0;
  for (uint32_t i = 0; i < c->n_code; i++)
    rn->files[n_files++] = xprintf("%s/%s", R->abs_dir, c->code[i]);
  if (c->plugin)
    rn->files[n_files++] = xprintf("%s/%s", R->abs_dir, c->plugin);
  rn->job = (tgt_job){.node_name = n->name,
                      .argv = rn->argv,
                      .env = rn->env,
                      .cwd = R->abs_dir,
                      .log_path = rn->log_path,
                      .scratch = rn->scratch,
                      .in_paths = (const char **)rn->in_paths,
                      .n_in = n->n_inputs,
                      .out_paths = (const char **)rn->out_paths,
                      .n_out = c->n_outputs,
                      .files = (const char **)rn->files,
                      .n_files = n_files,
                      .builtin = c->kind != PIPEC_COMP_COMMAND &&
                                 !(c->desc && (c->desc->flags &
                                               PIPEC_COMP_COMMAND_TEMPLATE)),
                      .res = n->resources,
                      .node = node,
                      .data = R};
  *job = &rn->job;
  return SCHED_RUNNING;
}

/* ---- scheduler hooks ------------------------------------------------------ */

static void record_node(runner *R, uint32_t node, const char *status) {
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  store_node_run nr = {.run_id = R->run_id,
                       .node = n->name,
                       .component = comp_of(R, node)->name,
                       .status = status,
                       .target = R->p->targets[n->target].name,
                       .cache_hit = strcmp(status, "cached") == 0,
                       .miss_reason = rn->reason,
                       .log_path = rn->log_path};
  char hex[HASH_HEX_LEN + 1] = "";
  if (rn->have_key) {
    hash_hex(&rn->key, hex);
    nr.cache_key = hex;
  }
  if (store_node_run_add(R->st, &nr, &rn->node_run) != 0)
    fprintf(stderr, "pipec: cannot record node '%s': %s\n", n->name,
            store_errmsg(R->st));
}

static sched_status hook_prepare(void *ctx, uint32_t node, tgt_job **job,
                                 tgt **target, char *err, size_t errlen) {
  runner *R = ctx;
  const pipec_node *n = &R->p->nodes[node];
  run_node *rn = &R->nodes[node];
  batch_open(R);
  if (compute_key(R, node, false, err, errlen) != 0)
    return SCHED_FAILED;
  bool use_cache = n->cache && !R->o->force;
  if (use_cache && cache_lookup(R, node)) {
    record_node(R, node, "cached");
    return SCHED_CACHED;
  }
  if (compute_key(R, node, true, err, errlen) != 0) /* with its parts */
    return SCHED_FAILED;
  char *why = miss_reason(R, node);
  free(rn->reason);
  rn->reason = why;
  sched_status st = build_job(R, node, job, target, err, errlen);
  record_node(R, node, st == SCHED_RUNNING ? "running" : "failed");
  /* commit what finished before this node starts: a node that fills the
   * disk must not take the records of earlier ones down with it */
  if (st == SCHED_RUNNING)
    batch_close(R);
  return st;
}

static void hook_started(void *ctx, uint32_t node, tgt_job *job, int attempt) {
  runner *R = ctx;
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  rn->t_start = status_now();
  batch_open(R);
  store_node_run_started(R->st, rn->node_run, attempt, job->job_id);
  status_started(&R->sp, n->name, R->p->targets[n->target].name, job->job_id,
                 attempt);
}

/* Move every output into the object store. 0, or -1 with err set. */
static int collect_outputs(runner *R, uint32_t node, char *err,
                           size_t errlen) {
  const pipec_component *c = comp_of(R, node);
  run_node *rn = &R->nodes[node];
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    struct stat sb;
    const char *name = c->outputs[i].name;
    if (stat(rn->out_paths[i], &sb) != 0) {
      snprintf(err, errlen,
               "the command exited 0 but did not write output '%s' (%s)",
               name, rn->out_paths[i]);
      return -1;
    }
    if (S_ISDIR(sb.st_mode)) {
      snprintf(err, errlen,
               "output '%s' is a directory, but a port holds one file: "
               "write an archive of it instead (tar -cf {%s} -C DIR .)",
               name, name);
      return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
      snprintf(err, errlen, "output '%s' is not a regular file (%s)", name,
               rn->out_paths[i]);
      return -1;
    }
  }
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    char e[512];
    if (obj_put_move(R->objs, rn->out_paths[i], &rn->out_hash[i],
                     &rn->out_size[i], e, sizeof e) != 0) {
      snprintf(err, errlen, "cannot store output '%s': %s",
               c->outputs[i].name, e);
      return -1;
    }
  }
  return 0;
}

/* Commit the node's success: cache entry, artifacts, node run. */
static int commit_success(runner *R, uint32_t node, const tgt_result *r,
                          int attempt, char *err, size_t errlen) {
  const pipec_component *c = comp_of(R, node);
  run_node *rn = &R->nodes[node];
  store_output *outs = xcalloc(c->n_outputs, sizeof *outs);
  for (uint32_t i = 0; i < c->n_outputs; i++)
    outs[i] = (store_output){(char *)c->outputs[i].name, rn->out_hash[i],
                             rn->out_size[i]};
  batch_open(R);
  int rc = store_cache_put(R->st, &rn->key, rn->parts_text, outs,
                           c->n_outputs, rn->node_run);
  for (uint32_t i = 0; rc == 0 && i < c->n_outputs; i++)
    rc = store_artifact_add(R->st, rn->node_run, &outs[i]);
  if (rc == 0)
    rc = store_node_run_finish(R->st, rn->node_run, "succeeded", attempt,
                               r->exit_code, NULL);
  free(outs);
  if (rc != 0)
    snprintf(err, errlen, "cannot record the outputs: %s",
             store_errmsg(R->st));
  return rc;
}

static sched_status hook_attempt_done(void *ctx, uint32_t node, tgt_job *job,
                                      const tgt_result *r, int attempt,
                                      bool timed_out) {
  runner *R = ctx;
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  char msg[1024] = "";
  (void)job;
  batch_open(R);
  if (timed_out)
    snprintf(msg, sizeof msg, "timed out after %llds",
             (long long)n->timeout_s);
  else if (r->cancelled)
    snprintf(msg, sizeof msg, "cancelled");
  else if (r->message[0])
    snprintf(msg, sizeof msg, "%s", r->message);
  else if (r->term_signal)
    snprintf(msg, sizeof msg, "killed by signal %d", r->term_signal);
  else if (r->exit_code != 0)
    snprintf(msg, sizeof msg, "exit code %d", r->exit_code);
  if (!msg[0] && collect_outputs(R, node, msg, sizeof msg) == 0 &&
      commit_success(R, node, r, attempt, msg, sizeof msg) == 0) {
    rn->known = true;
    fs_rm_rf(rn->scratch);
    return SCHED_SUCCEEDED;
  }
  if (disk_full(rn->scratch))
    snprintf(msg + strlen(msg), sizeof msg - strlen(msg),
             "%sthe disk holding the workspace is full (no space left)",
             msg[0] ? "; " : "");
  /* a failed attempt's outputs are never used: free their space now (and
   * leave an empty scratch directory for a retry) */
  fs_rm_rf(rn->scratch);
  mkdir(rn->scratch, 0755);
  store_node_run_finish(R->st, rn->node_run, "failed", attempt, r->exit_code,
                        msg);
  if (attempt <= n->retries)
    status_retrying(&R->sp, n->name, attempt, msg);
  /* the scheduler reports the final message through settled() */
  free(rn->reason);
  rn->reason = xstrdup(msg);
  return SCHED_FAILED;
}

static const char *store_status(sched_status st) {
  switch (st) {
  case SCHED_SUCCEEDED: return "succeeded";
  case SCHED_CACHED: return "cached";
  case SCHED_FAILED: return "failed";
  case SCHED_SKIPPED: return "skipped";
  case SCHED_CANCELLED: return "cancelled";
  default: return "pending";
  }
}

static void hook_settled(void *ctx, uint32_t node, sched_status st,
                         int attempts, const char *message) {
  runner *R = ctx;
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  const pipec_component *c = comp_of(R, node);
  batch_open(R);
  if (!rn->node_run)
    record_node(R, node, store_status(st));
  else if (st != SCHED_SUCCEEDED && st != SCHED_CACHED)
    store_node_run_finish(R->st, rn->node_run, store_status(st), attempts, -1,
                          message && *message ? message : rn->reason);
  double secs = rn->t_start > 0 ? status_now() - rn->t_start : -1;
  const char *detail = st == SCHED_SUCCEEDED ? NULL
                       : st == SCHED_CACHED  ? NULL
                       : message && *message ? message
                                             : rn->reason;
  status_settled(&R->sp, n->name, sched_status_name(st), detail, secs);
  if (st == SCHED_FAILED && rn->log_path)
    status_log_tail(&R->sp, rn->log_path, 10);
  if (st == SCHED_SUCCEEDED)
    R->res->ran++;
  else if (st == SCHED_CACHED)
    R->res->cached++;
  else if (st == SCHED_FAILED)
    R->res->failed++;
  else if (st == SCHED_SKIPPED)
    R->res->skipped++;
  else if (st == SCHED_CANCELLED)
    R->res->cancelled++;
  node_release(rn, n->n_inputs, c->n_outputs);
}

/* ---- what the run is: draft, snapshot, run records ------------------------ */

/* A source path as the workspace records it: relative to the workspace
 * root when inside it (so a moved project still rolls back), else absolute. */
static char *workspace_path(const runner *R, const char *path) {
  char abs[PATH_MAX];
  if (!realpath(path, abs))
    return xstrdup(path);
  const char *root = ws_root(R->w);
  size_t n = strlen(root);
  if (strncmp(abs, root, n) == 0 && abs[n] == '/')
    return xstrdup(abs + n + 1);
  return xstrdup(abs);
}

static char *json_of(void (*write)(const runner *, pipec_json *),
                     const runner *R) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f)
    return xstrdup("{}");
  pipec_json j;
  pipec_json_init(&j, f, false);
  write(R, &j);
  pipec_json_done(&j);
  fclose(f);
  return buf;
}

static void params_json(const runner *R, pipec_json *j) {
  pipec_json_obj(j);
  pipec_json_key(j, "overrides");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < R->o->n_overrides; i++)
    pipec_json_str(j, R->o->overrides[i]);
  pipec_json_end(j);
  pipec_json_key(j, "values");
  pipec_json_obj(j);
  for (uint32_t i = 0; i < R->p->n_params; i++) {
    pipec_json_key(j, R->p->params[i].name);
    pipec_value_json(j, &R->p->params[i].value);
  }
  pipec_json_end(j);
  pipec_json_end(j);
}

static void selection_json(const runner *R, pipec_json *j) {
  const plan_sel *s = &R->o->sel;
  pipec_json_obj(j);
  pipec_json_key(j, "nodes");
  pipec_json_arr(j);
  for (uint32_t i = 0; i < s->n_nodes; i++)
    pipec_json_str(j, s->nodes[i]);
  pipec_json_end(j);
  pipec_json_key(j, "from");
  pipec_json_str(j, s->from);
  pipec_json_key(j, "to");
  pipec_json_str(j, s->to);
  pipec_json_key(j, "force");
  pipec_json_bool(j, R->o->force);
  pipec_json_end(j);
}

static int record_snapshot(runner *R, char *err, size_t errlen) {
  const pipec_pipeline *p = R->p;
  store_runs_reap(R->st, store_pid_alive); /* runs killed before they could say */
  char *main_rel = workspace_path(R, p->file);
  int rc = store_pipeline_get_or_create(R->st, p->name, main_rel,
                                        &R->pipeline_id);
  free(main_rel);
  store_file *files = xcalloc(p->n_sources, sizeof *files);
  for (uint32_t i = 0; i < p->n_sources; i++)
    files[i] = (store_file){workspace_path(R, p->sources[i].path),
                            p->sources[i].text, p->sources[i].len};
  int64_t draft = 0;
  if (rc == 0)
    rc = store_draft_record(R->st, R->pipeline_id, files, p->n_sources,
                            &draft);
  for (uint32_t i = 0; i < p->n_sources; i++)
    free((char *)files[i].path);
  free(files);
  char *config = NULL, *params = json_of(params_json, R),
       *sel = json_of(selection_json, R);
  {
    size_t len = 0;
    FILE *f = open_memstream(&config, &len);
    if (f) {
      pipec_graph_write(p, PIPEC_GRAPH_JSON_COMPACT, f);
      fclose(f);
    }
  }
  if (rc == 0 && !R->o->dry_run) /* a dry run records the draft only */
    rc = store_snapshot_add(R->st, R->pipeline_id, draft, config ? config : "{}",
                            params, plan_mode_name(&R->o->sel), sel,
                            &R->snapshot_id);
  if (rc == 0 && !R->o->dry_run)
    rc = store_run_add(R->st, R->snapshot_id, R->pipeline_id, (int64_t)getpid(),
                       &R->run_id);
  free(config);
  free(params);
  free(sel);
  if (rc != 0)
    snprintf(err, errlen, "cannot record the run: %s", store_errmsg(R->st));
  return rc;
}

/* ---- nodes outside the plan ---------------------------------------------- */

/* Upstream nodes give their outputs from the store: their key, from their
 * own inputs, must have a cache entry. */
static int resolve_upstream(runner *R, char *err, size_t errlen) {
  for (uint32_t i = 0; i < R->p->n_nodes; i++) {
    if (!R->upstream[i])
      continue;
    const char *name = R->p->nodes[i].name;
    char e[512];
    if (compute_key(R, i, false, e, sizeof e) != 0) {
      snprintf(err, errlen, "node '%s' (needed by the selection): %s", name,
               e);
      return -1;
    }
    if (!cache_lookup(R, i)) {
      snprintf(err, errlen,
               "node '%s' is needed by the selection but has no stored "
               "outputs for its current inputs; run it first (e.g. pipec "
               "run FILE --to %s)",
               name, name);
      return -1;
    }
  }
  return 0;
}

/* --dry-run: what would run and why, in order; runs nothing. A node whose
 * input would be recomputed runs too (its key depends on that content). */
static void dry_run(runner *R) {
  FILE *out = R->o->out;
  for (uint32_t i = 0; i < R->p->n_nodes; i++) {
    if (!R->in_plan[i])
      continue;
    const pipec_node *n = &R->p->nodes[i];
    const char *pending = NULL;
    for (uint32_t k = 0; k < n->n_inputs && !pending; k++)
      if (!R->nodes[n->inputs[k].producer].known)
        pending = R->p->nodes[n->inputs[k].producer].name;
    if (pending) {
      fprintf(out, "would run  %-16s (input from '%s', which runs first)\n",
              n->name, pending);
      R->res->ran++;
      continue;
    }
    char err[512];
    if (compute_key(R, i, true, err, sizeof err) != 0) {
      fprintf(out, "would fail %-16s %s\n", n->name, err);
      R->res->failed++;
      continue;
    }
    if (n->cache && !R->o->force && cache_lookup(R, i)) {
      fprintf(out, "cached     %s\n", n->name);
      R->res->cached++;
      continue;
    }
    char *why = miss_reason(R, i);
    fprintf(out, "would run  %-16s (%s)\n", n->name, why);
    free(why);
    R->res->ran++;
  }
  fprintf(out, "%u would run, %u cached (dry run: nothing was run)\n",
          R->res->ran, R->res->cached);
}

/* ---- the run ------------------------------------------------------------- */

static void runner_free(runner *R) {
  for (uint32_t i = 0; R->nodes && i < R->p->n_nodes; i++) {
    run_node *rn = &R->nodes[i];
    node_release(rn, R->p->nodes[i].n_inputs, comp_of(R, i)->n_outputs);
    free(rn->out_hash);
    free(rn->out_size);
    ck_parts_free(&rn->parts);
    free(rn->parts_text);
    free(rn->scratch);
    free(rn->log_path);
    free(rn->reason);
  }
  free(R->nodes);
  if (R->targets) {
    for (uint32_t t = 0; t < R->p->n_targets; t++)
      if (R->targets[t])
        R->targets[t]->ops->close(R->targets[t]);
    free(R->targets);
  }
  free(R->in_plan);
  free(R->upstream);
  hash_memo_free(R->memo);
  if (R->objs)
    obj_close(R->objs);
  if (R->st)
    store_close(R->st);
  free(R->abs_dir);
}

static int run_setup(runner *R, char *err, size_t errlen) {
  const pipec_pipeline *p = R->p;
  ssize_t n = readlink("/proc/self/exe", R->exe, sizeof R->exe - 1);
  if (n <= 0)
    snprintf(R->exe, sizeof R->exe, "pipec");
  else
    R->exe[n] = 0;
  char abs[PATH_MAX];
  if (!realpath(p->dir, abs)) {
    snprintf(err, errlen, "cannot resolve %s: %s", p->dir, strerror(errno));
    return -1;
  }
  R->abs_dir = xstrdup(abs);
  if (store_open(ws_db_path(R->w), &R->st, err, errlen) != 0)
    return -1;
  if (obj_open(ws_objects_dir(R->w), NULL, &R->objs, err, errlen) != 0)
    return -1;
  R->idx = (hash_index){.ctx = R->st, .get = idx_get, .put = idx_put};
  R->memo = hash_memo_new(R->abs_dir, &R->idx);
  if (!R->memo) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  R->nodes = xcalloc(p->n_nodes, sizeof *R->nodes);
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    uint32_t outs = comp_of(R, i)->n_outputs;
    R->nodes[i].out_hash = xcalloc(outs, sizeof(hash128));
    R->nodes[i].out_size = xcalloc(outs, sizeof(uint64_t));
  }
  R->targets = xcalloc(p->n_targets, sizeof *R->targets);
  R->in_plan = xcalloc(p->n_nodes, sizeof(bool));
  R->upstream = xcalloc(p->n_nodes, sizeof(bool));
  if (plan_runnable(p, err, errlen) != 0 ||
      plan_select(p, &R->o->sel, R->in_plan, err, errlen) != 0)
    return -1;
  plan_upstream(p, R->in_plan, R->upstream);
  return 0;
}

/* After a run: where the final outputs (those no node reads) are. */
static void print_results(const runner *R) {
  if (R->sp.mode != STATUS_LINES && R->sp.mode != STATUS_LIVE)
    return;
  const pipec_pipeline *p = R->p;
  bool *read = xcalloc(p->n_nodes, sizeof *read);
  for (uint32_t i = 0; i < p->n_nodes; i++)
    for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
      read[p->nodes[i].inputs[k].producer] = true;
  int shown = 0;
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    if (read[i] || !R->in_plan[i] || !R->nodes[i].known)
      continue;
    const pipec_component *c = comp_of(R, i);
    for (uint32_t k = 0; k < c->n_outputs; k++) {
      if (shown++ == 12) {
        fprintf(R->o->out, "  ... (pipec show %lld lists every node)\n",
                (long long)R->run_id);
        free(read);
        return;
      }
      if (shown == 1)
        fprintf(R->o->out, "results (pipec cat NODE.PORT prints one):\n");
      char name[256];
      snprintf(name, sizeof name, "%s.%s", p->nodes[i].name,
               c->outputs[k].name);
      fprintf(R->o->out, "  %-24s %-6s %llu bytes\n", name,
              pipec_port_type_name(c->outputs[k].type),
              (unsigned long long)R->nodes[i].out_size[k]);
    }
  }
  free(read);
}

static int run_schedule(runner *R, char *err, size_t errlen) {
  uint32_t total = 0;
  for (uint32_t i = 0; i < R->p->n_nodes; i++)
    total += R->in_plan[i];
  status_init(&R->sp, R->o->out, R->o->mode, total);
  if (uv_loop_init(&R->loop) != 0) {
    snprintf(err, errlen, "cannot start the event loop");
    return -1;
  }
  sched_opts so = {.jobs = R->o->jobs,
                   .keep_going = R->o->keep_going,
                   .handle_signals = true,
                   .backoff_s = 1.0};
  sched_hooks hooks = {.ctx = R,
                       .prepare = hook_prepare,
                       .started = hook_started,
                       .attempt_done = hook_attempt_done,
                       .settled = hook_settled};
  char *dirs[2] = {
      xprintf("%s/%lld", ws_runs_dir(R->w), (long long)R->run_id),
      xprintf("%s/%lld", ws_logs_dir(R->w), (long long)R->run_id)};
  for (int i = 0; i < 2; i++) {
    int mrc = fs_mkdir_p(dirs[i]);
    if (mrc != 0) {
      snprintf(err, errlen, "cannot create %s: %s", dirs[i], strerror(-mrc));
      free(dirs[0]), free(dirs[1]);
      uv_loop_close(&R->loop);
      return -1;
    }
  }
  free(dirs[0]), free(dirs[1]);
  sched_summary sum = {0};
  double t0 = status_now();
  uv_prepare_init(&R->loop, &R->batch_commit);
  R->batch_commit.data = R;
  uv_prepare_start(&R->batch_commit, on_loop_prepare);
  uv_unref((uv_handle_t *)&R->batch_commit); /* never keeps the loop alive */
  int rc = sched_run(&R->loop, R->p, R->in_plan, &so, &hooks, NULL, &sum);
  batch_close(R);
  uv_close((uv_handle_t *)&R->batch_commit, NULL);
  /* close the targets on the loop, then the loop */
  for (uint32_t t = 0; t < R->p->n_targets; t++)
    if (R->targets[t]) {
      R->targets[t]->ops->close(R->targets[t]);
      R->targets[t] = NULL;
    }
  uv_run(&R->loop, UV_RUN_DEFAULT);
  uv_loop_close(&R->loop);
  R->res->interrupted = sum.interrupted;
  const char *status = sum.interrupted ? "cancelled"
                       : R->res->failed ? "failed"
                                        : "succeeded";
  store_run_finish(R->st, R->run_id, status, R->res->ran, R->res->cached,
                   R->res->failed);
  status_summary(&R->sp, R->res->ran, R->res->cached, R->res->failed,
                 R->res->skipped, R->res->cancelled, status_now() - t0,
                 R->run_id);
  print_results(R);
  if (rc < 0) {
    snprintf(err, errlen, "the event loop failed: %s", uv_strerror(rc));
    return -1;
  }
  return 0;
}

int run_pipeline(ws *w, const pipec_pipeline *p, const run_opts *o,
                 run_result *res, char *err, size_t errlen) {
  runner R = {.p = p, .o = o, .res = res, .w = w};
  memset(res, 0, sizeof *res);
  int code = RUN_USAGE;
  if (run_setup(&R, err, errlen) != 0 || record_snapshot(&R, err, errlen) != 0)
    goto out;
  res->snapshot_id = R.snapshot_id;
  res->run_id = R.run_id;
  if (resolve_upstream(&R, err, errlen) != 0) {
    if (R.run_id)
      store_run_finish(R.st, R.run_id, "failed", 0, 0, 0);
    goto out;
  }
  if (o->dry_run) {
    dry_run(&R);
    code = RUN_OK;
    goto out;
  }
  if (run_schedule(&R, err, errlen) != 0)
    goto out;
  code = res->interrupted ? RUN_INTERRUPTED
         : res->failed || res->cancelled ? RUN_NODE_FAILED
                                         : RUN_OK;
out:
  runner_free(&R);
  return code;
}

/* ---- pipec why ------------------------------------------------------------ */

int run_why(ws *w, const pipec_pipeline *p, const char *node_name, FILE *out,
            char *err, size_t errlen) {
  run_opts o = {.out = out, .dry_run = true};
  run_result res;
  runner R = {.p = p, .o = &o, .res = &res, .w = w};
  memset(&res, 0, sizeof res);
  int code = RUN_USAGE;
  uint32_t node = pipec_pipeline_node(p, node_name);
  if (node == PIPEC_NONE) {
    const char **names = xcalloc(p->n_nodes, sizeof *names);
    for (uint32_t i = 0; i < p->n_nodes; i++)
      names[i] = p->nodes[i].name;
    const char *best = editdist_suggest(node_name, names, p->n_nodes);
    snprintf(err, errlen, "pipeline '%s' has no node '%s'%s%s%s", p->name,
             node_name, best ? "; did you mean '" : "", best ? best : "",
             best ? "'?" : "");
    free(names);
    return RUN_USAGE;
  }
  if (run_setup(&R, err, errlen) != 0)
    goto out;
  char *main_rel = workspace_path(&R, p->file);
  int rc = store_pipeline_get_or_create(R.st, p->name, main_rel,
                                        &R.pipeline_id);
  free(main_rel);
  if (rc != 0) {
    snprintf(err, errlen, "%s", store_errmsg(R.st));
    goto out;
  }
  /* the node and everything upstream, in order: the first that misses the
   * cache is the reason everything below it would run */
  bool *need = xcalloc(p->n_nodes, sizeof *need);
  need[node] = true;
  for (uint32_t i = node + 1; i-- > 0;)
    if (need[i])
      for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
        need[p->nodes[i].inputs[k].producer] = true;
  code = RUN_OK;
  for (uint32_t i = 0; i <= node; i++) {
    if (!need[i])
      continue;
    char e[512];
    if (compute_key(&R, i, true, e, sizeof e) != 0) {
      fprintf(out, "%s cannot be keyed: %s\n", p->nodes[i].name, e);
      break;
    }
    if (p->nodes[i].cache && cache_lookup(&R, i)) {
      if (i == node) {
        char hex[HASH_HEX_LEN + 1];
        hash_hex(&R.nodes[i].key, hex);
        fprintf(out, "%s is cached: it would not run (key %s)\n",
                p->nodes[i].name, hex);
      }
      continue;
    }
    char *why = miss_reason(&R, i);
    if (i == node)
      fprintf(out, "%s would run: %s\n", p->nodes[i].name, why);
    else
      fprintf(out, "%s would run: upstream node '%s' would run first (%s), "
                   "so its input may change\n",
              p->nodes[node].name, p->nodes[i].name, why);
    free(why);
    break;
  }
  free(need);
out:
  runner_free(&R);
  return code;
}

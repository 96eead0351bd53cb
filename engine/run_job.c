/*
 * run_job.c — a node's job and the scheduler's hooks (run_int.h):
 *
 *   prepare       hash the inputs' objects into the node's cache key; a
 *                 hit whose objects are intact (their stat as recorded, or
 *                 re-hashed) settles the node as cached; a miss builds the
 *                 job (command line, scratch directory, log file, the
 *                 inputs as links in the scratch directory) for the node's
 *                 target and records why it ran
 *   started       record the attempt and its job id
 *   attempt_done  check that the attempt left its inputs as they were; a
 *                 zero exit with every output present moves the outputs
 *                 into the object store, then commits the cache entry and
 *                 the artifacts in one transaction (objects first: a cache
 *                 entry never names an object that is not whole on disk)
 *   settled       record the final state and report it
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "clock.h"
#include "command.h"
#include "fsutil.h"
#include "logcap.h"
#include "tree.h"
#include "units.h"
#include "run_int.h"

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

/* Where a node's files go while it runs. A node of a target that execs
 * here (local) has no directory of its own: its files are named
 * runs/RUN/NODE.PORT... ("flat": no mkdir and rmdir per node), which the
 * node's name keeps apart from every other node's (see flat_name). A
 * remote target stages "the scratch directory" as a whole, and a container
 * mounts it: their nodes get runs/RUN/NODE/PORT... */
static char *in_scratch(const run_exec *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static char *in_scratch(const run_exec *x, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *rest = xvprintf(fmt, ap);
  va_end(ap);
  char *path = xprintf("%s%c%s", x->scratch, x->flat ? '.' : '/', rest);
  free(rest);
  return path;
}

/* Can node files be named NAME.PORT... side by side? Yes if NAME ends where
 * its first ']' is (a member: "aligned[S1]") or, without one, at its first
 * '.' (a plain name has none): then no two nodes' files can share a name,
 * whatever their keys hold. Also every name must fit one path component. */
static bool flat_name(const pipec_node *n, const pipec_component *c) {
  const char *name = n->name, *open = strchr(name, '['),
             *close = strchr(name, ']');
  if (open ? !close || close[1] : strchr(name, '.') != NULL)
    return false;
  size_t longest = 0;
  for (uint32_t i = 0; i < n->n_inputs; i++)
    if (strlen(n->inputs[i].port) > longest)
      longest = strlen(n->inputs[i].port);
  for (uint32_t i = 0; i < c->n_outputs; i++)
    if (strlen(c->outputs[i].name) > longest)
      longest = strlen(c->outputs[i].name);
  /* NAME.PORT.in.K.model */
  return strlen(name) + longest + 24 <= NAME_MAX;
}

/* File name of an output in the scratch directory: the port, with an
 * extension tools recognise for its type; a named output
 * (`bam: file "aligned.bam"`) is that name in a directory of the port's
 * name; a dir output is a directory of the port's name. */
static char *output_file(const run_exec *x, const pipec_port_decl *port) {
  if (port->type == PIPEC_PORT_DIR)
    return in_scratch(x, "%s", port->name);
  if (port->filename)
    return in_scratch(x, "%s/%s", port->name, port->filename);
  return in_scratch(x, "%s%s", port->name, run_port_ext(port->type));
}

/* Make what the command writes into exist where it must: the empty
 * directory of a dir output, the directory of a named output file. */
static int output_place(const run_exec *x, const pipec_port_decl *port,
                        char *err, size_t errlen) {
  if (port->type != PIPEC_PORT_DIR && !port->filename)
    return 0;
  char *dir = in_scratch(x, "%s", port->name);
  int rc = mkdir(dir, 0755) == 0 || errno == EEXIST ? 0 : -errno;
  if (rc != 0)
    snprintf(err, errlen, "cannot create %s: %s", dir, strerror(-rc));
  free(dir);
  return rc;
}

/* Remove what an attempt left of its outputs (the inputs' links go with
 * run_inputs_release): the whole directory, or a flat node's own names. */
static void scratch_clear(runner *R, uint32_t node) {
  run_exec *x = R->nodes[node].x;
  if (!x || !x->scratch)
    return;
  if (!x->flat) {
    fs_rm_rf(x->scratch);
    return;
  }
  const pipec_component *c = run_comp(R, node);
  for (uint32_t i = 0; x->out_paths && i < c->n_outputs; i++) {
    if (c->outputs[i].filename && c->outputs[i].type != PIPEC_PORT_DIR) {
      char *dir = in_scratch(x, "%s", c->outputs[i].name);
      fs_rm_rf(dir);
      free(dir);
    } else if (unlink(x->out_paths[i]) != 0 && errno != ENOENT) {
      fs_rm_rf(x->out_paths[i]);
    }
  }
}

/* Make the scratch ready for an attempt: its directory, and the places of
 * outputs that need one. 0, or -1 with err. */
static int scratch_ready(runner *R, uint32_t node, char *err, size_t errlen) {
  run_exec *x = R->nodes[node].x;
  const pipec_component *c = run_comp(R, node);
  if (!x->flat && mkdir(x->scratch, 0755) != 0 && errno != EEXIST) {
    /* the run's directories exist (run_schedule); a node name is one
     * level */
    int rc = fs_mkdir_p(x->scratch);
    if (rc != 0) {
      snprintf(err, errlen, "cannot create the scratch directory %s: %s",
               x->scratch, strerror(-rc));
      return -1;
    }
  }
  for (uint32_t i = 0; i < c->n_outputs; i++)
    if (output_place(x, &c->outputs[i], err, errlen) != 0)
      return -1;
  return 0;
}


/* ---- building a job ------------------------------------------------------ */

static void free_strv(char **v) {
  if (!v)
    return;
  for (char **q = v; *q; q++)
    free(*q);
  free(v);
}

void run_node_release(run_node *rn, uint32_t n_in, uint32_t n_out) {
  run_exec *x = rn->x;
  if (!x)
    return;
  for (uint32_t i = 0; x->in_paths && i < n_in; i++)
    free(x->in_paths[i]);
  for (uint32_t i = 0; x->out_paths && i < n_out; i++)
    free(x->out_paths[i]);
  free(x->in_paths);
  free(x->out_paths);
  free(x->ins);
  free(x->outs);
  free_strv(x->argv);
  free_strv(x->env);
  free_strv(x->files);
  run_inputs_free(rn, n_in);
  free(x->scratch);
  free(x);
  rn->x = NULL;
}

static int open_target(runner *R, uint32_t t, tgt **out, char *err,
                       size_t errlen) {
  if (!R->targets[t]) {
    int rc = tgt_open(&R->loop, R->o->kinds, &R->p->targets[t],
                      &R->targets[t], err, errlen);
    if (rc != 0)
      return rc;
  }
  *out = R->targets[t];
  return 0;
}

static sched_status build_job(runner *R, uint32_t node, tgt_job **job,
                              tgt **target, char *err, size_t errlen) {
  const pipec_node *n = &R->p->nodes[node];
  const pipec_component *c = run_comp(R, node);
  run_node *rn = &R->nodes[node];
  if (open_target(R, n->target, target, err, errlen) != 0)
    return SCHED_FAILED;
  if (!rn->x)
    rn->x = xcalloc(1, sizeof *rn->x);
  run_exec *x = rn->x;
  /* a container mounts its node's directory, which must be its own */
  x->flat = (*target)->kind->execs_here && !run_node_image(R, node) &&
            flat_name(n, c);
  x->scratch = xprintf("%s/%lld/%s", ws_runs_dir(R->w), (long long)R->run_id,
                       n->name);
  if (!x->flat)
    fs_rm_rf(x->scratch); /* left by a crashed attempt: never trusted */
  rn->log_path = xprintf("%s/%lld/%s.log", ws_logs_dir(R->w),
                         (long long)R->run_id, n->name);
  x->in_paths = xcalloc(n->n_inputs + 1, sizeof *x->in_paths);
  x->ins = xcalloc(n->n_inputs + 1, sizeof *x->ins);
  x->inputs = xcalloc(n->n_inputs + 1, sizeof *x->inputs);
  hash128 *hs = run_input_hashes(R, node);
  for (uint32_t i = 0; i < n->n_inputs; i++) {
    const pipec_input *in = &n->inputs[i];
    /* PORT.in.ext (a mkdir per node would cost more than the links); a
     * port wired more than once (a list) numbers its items: PORT.in.K.ext */
    bool many = (i > 0 && strcmp(n->inputs[i - 1].port, in->port) == 0) ||
                (i + 1 < n->n_inputs &&
                 strcmp(n->inputs[i + 1].port, in->port) == 0);
    uint32_t k = 0;
    while (many && k < i && strcmp(n->inputs[i - k - 1].port, in->port) == 0)
      k++;
    char num[16] = "";
    if (many)
      snprintf(num, sizeof num, ".%u", k);
    bool dir = in->type == PIPEC_PORT_DIR;
    x->inputs[i] = (run_input){
        .link = in_scratch(x, "%s.in%s%s", in->port, num,
                           dir ? "" : run_port_ext(in->type)),
        .hash = hs[i],
        .dir = dir};
    x->in_paths[i] = xstrdup(x->inputs[i].link);
    x->ins[i] = (pipec_named_path){in->port, x->in_paths[i]};
  }
  free(hs);
  x->out_paths = xcalloc(c->n_outputs + 1, sizeof *x->out_paths);
  x->outs = xcalloc(c->n_outputs + 1, sizeof *x->outs);
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    x->out_paths[i] = output_file(x, &c->outputs[i]);
    x->outs[i] = (pipec_named_path){c->outputs[i].name, x->out_paths[i]};
  }
  if (scratch_ready(R, node, err, errlen) != 0)
    return SCHED_FAILED;
  if (run_inputs_link(R, node, err, errlen) != 0)
    return SCHED_FAILED;
  if (cmd_build(R->p, node, x->ins, n->n_inputs, x->outs, c->n_outputs,
                R->exe, &x->argv, &x->env, err, errlen) != 0)
    return SCHED_FAILED;
  /* exec's limits are this machine's; remote targets have their own */
  if ((*target)->kind->execs_here &&
      cmd_fits(x->argv, x->env, n->name, err, errlen) != 0)
    return SCHED_FAILED;
  /* what a remote target must copy besides the inputs */
  x->files = xcalloc(c->n_code + 2, sizeof *x->files);
  uint32_t n_files = 0;
  for (uint32_t i = 0; i < c->n_code; i++)
    x->files[n_files++] = xprintf("%s/%s", R->abs_dir, c->code[i]);
  if (c->plugin)
    x->files[n_files++] = xprintf("%s/%s", R->abs_dir, c->plugin);
  x->job = (tgt_job){.node_name = n->name,
                     .argv = x->argv,
                     .env = x->env,
                     .cwd = R->abs_dir,
                     .log_path = rn->log_path,
                     .scratch = x->scratch,
                     .in_paths = (const char **)x->in_paths,
                     .n_in = n->n_inputs,
                     .out_paths = (const char **)x->out_paths,
                     .n_out = c->n_outputs,
                     .files = (const char **)x->files,
                     .n_files = n_files,
                     .builtin = c->kind != PIPEC_COMP_COMMAND &&
                                !(c->desc && (c->desc->flags &
                                              PIPEC_COMP_COMMAND_TEMPLATE)),
                     .res = n->resources,
                     .node = node,
                     .data = R};
  const ctr_image *im = run_node_image(R, node);
  if (im) { /* its key has the id: the image was resolved */
    x->ctr = (ctr_job){.runtime = ctr_runtime_of(&R->p->targets[n->target]),
                       .image_id = im->id,
                       .ref = im->ref,
                       .network = n->network};
    ctr_job_name(&x->ctr, R->run_id, n->name, ws_dir(R->w));
    x->job.container = &x->ctr;
  }
  *job = &x->job;
  return SCHED_RUNNING;
}

/* ---- the same work once ---------------------------------------------------
 * Nodes of one run whose keys are equal compute the same outputs: while
 * one of them runs, the others wait for it (run_hook_wait_for) and then
 * find its outputs in the cache. */

static size_t inflight_slot(const runner *R, const hash128 *key) {
  uint64_t k;
  memcpy(&k, key->b, sizeof k);
  return (size_t)k & (R->inflight_cap - 1);
}

/* The running node with this key, or PIPEC_NONE. */
static uint32_t inflight_find(const runner *R, const hash128 *key) {
  if (!R->inflight_cap)
    return PIPEC_NONE;
  for (size_t i = inflight_slot(R, key);; i = (i + 1) & (R->inflight_cap - 1)) {
    uint32_t v = R->inflight[i];
    if (!v)
      return PIPEC_NONE;
    if (v != UINT32_MAX && hash_eq(&R->nodes[v - 1].key, key))
      return v - 1;
  }
}

static void inflight_add(runner *R, uint32_t node) {
  if (!R->inflight_cap) {
    R->inflight_cap = 1;
    while (R->inflight_cap < 2 * (size_t)R->p->n_nodes + 2)
      R->inflight_cap *= 2;
    R->inflight = xcalloc(R->inflight_cap, sizeof *R->inflight);
  }
  size_t i = inflight_slot(R, &R->nodes[node].key);
  while (R->inflight[i] && R->inflight[i] != UINT32_MAX)
    i = (i + 1) & (R->inflight_cap - 1);
  R->inflight[i] = node + 1;
}

static void inflight_remove(runner *R, uint32_t node) {
  if (!R->inflight_cap)
    return;
  for (size_t i = inflight_slot(R, &R->nodes[node].key); R->inflight[i];
       i = (i + 1) & (R->inflight_cap - 1))
    if (R->inflight[i] == node + 1) {
      R->inflight[i] = UINT32_MAX; /* a tombstone keeps later probes going */
      return;
    }
}

void run_settle_skipped(runner *R, uint32_t node, const char *why) {
  run_node *rn = &R->nodes[node];
  free(rn->reason);
  rn->reason = xstrdup(why);
  rn->attempt_failed = true; /* settled() reports this reason */
  run_hook_settled(R, node, SCHED_SKIPPED, 0, why);
}

bool run_hook_wait_for(void *ctx, uint32_t node, uint32_t *other) {
  runner *R = ctx;
  const pipec_node *n = &R->p->nodes[node];
  char e[256];
  if (!n->cache || R->o->force || !R->inflight_cap ||
      run_compute_key(R, node, false, e, sizeof e) != 0)
    return false;
  uint32_t j = inflight_find(R, &R->nodes[node].key);
  if (j == PIPEC_NONE || j == node)
    return false;
  *other = j;
  return true;
}

/* ---- scheduler hooks ------------------------------------------------------ */

static void record_node(runner *R, uint32_t node, const char *status) {
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  /* a hit that repeats the node's newest record is a reference to it
   * (not one from a shared cache: its row records which) */
  if (strcmp(status, "cached") == 0 && !run_shared_source(R, node) &&
      run_state_ref(R, node)) {
    rn->recorded_ref = true;
    return;
  }
  store_node_run nr = {.run_id = R->run_id,
                       .ord = node,
                       .has_ord = true,
                       .node = n->name,
                       .component = run_comp(R, node)->name,
                       .status = status,
                       .target = R->p->targets[n->target].name,
                       .cache_hit = strcmp(status, "cached") == 0,
                       .miss_reason = rn->reason,
                       .log_path = rn->log_path};
  const ctr_image *im = run_node_image(R, node);
  if (im) {
    nr.image = im->ref;
    nr.image_id = im->id;
  }
  char hex[HASH_HEX_LEN + 1] = "";
  if (rn->have_key) {
    hash_hex(&rn->key, hex);
    nr.cache_key = hex;
  }
  if (store_node_run_add(R->st, &nr, &rn->node_run) != 0) {
    char msg[1024];
    snprintf(msg, sizeof msg, "cannot record node '%s': %s", n->name,
             store_errmsg(R->st));
    pipec_event ev = {.kind = PIPEC_EV_NOTICE, .detail = msg};
    run_emit(R, &ev);
  }
}

sched_status run_hook_prepare(void *ctx, uint32_t node, tgt_job **job,
                                 tgt **target, char *err, size_t errlen) {
  runner *R = ctx;
  const pipec_node *n = &R->p->nodes[node];
  run_node *rn = &R->nodes[node];
  run_batch_open(R);
  if (run_compute_key(R, node, false, err, errlen) != 0)
    return SCHED_FAILED;
  bool use_cache = n->cache && !R->o->force;
  if (use_cache && run_cache_lookup(R, node)) {
    record_node(R, node, "cached");
    run_shared_cached(R, node);
    return SCHED_CACHED;
  }
  /* another run may be computing it, a shared cache may have it */
  if (use_cache && run_shared_prepare(R, node) == SCHED_PENDING)
    return SCHED_PENDING;
  if (run_compute_key(R, node, true, err, errlen) != 0) /* with its parts */
    return SCHED_FAILED;
  char *why = run_miss_reason(R, node);
  free(rn->reason);
  rn->reason = why;
  sched_status st = build_job(R, node, job, target, err, errlen);
  if (st == SCHED_RUNNING && n->cache)
    inflight_add(R, node);
  record_node(R, node, st == SCHED_RUNNING ? "running" : "failed");
  /* commit what finished before this node starts: a node that fills the
   * disk must not take the records of earlier ones down with it */
  if (st == SCHED_RUNNING)
    run_batch_close(R);
  return st;
}

void run_hook_started(void *ctx, uint32_t node, tgt_job *job, int attempt) {
  runner *R = ctx;
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  rn->t_start = clock_mono_s();
  run_start_later(R, node, attempt);
  pipec_event ev = {.kind = PIPEC_EV_NODE_START,
                    .node = n->name,
                    .target = R->p->targets[n->target].name,
                    .job = job->job_id,
                    .attempt = attempt};
  run_family_event(R, node, &ev);
  run_emit(R, &ev);
}

/* An object with the bytes being stored is already there: keep it if it
 * is as this run last saw it intact (or, for one the run has not used, as
 * the store's record says); if the run used it and it moved, the bytes
 * decide (nodes of this run may hold links to it: if it changed, they
 * must fail); otherwise the fresh copy replaces it. */
static bool keep_existing(void *ctx, const hash128 *h,
                          const hash_stat *existing) {
  runner *R = ctx;
  run_obj *o = run_objs_find(R, h);
  hash_stat rec;
  if (o) {
    if (o->known && hash_stat_eq(existing, &o->st))
      return true;
    char e[512];
    hash_stat now;
    if (obj_check(R->objs, h, NULL, &now, NULL, e, sizeof e) == 0) {
      o->st = now;
      o->known = true;
      o->dirty = true;
      return true;
    }
    /* changed while stored: its readers of this run must not be trusted */
    run_obj_changed(o, xstrdup("was changed in place while it was stored"));
    store_object_damaged(R->st, h, true);
    return false;
  }
  return store_object_get(R->st, h, NULL, &rec) == 1 &&
         hash_stat_eq(existing, &rec);
}

/* Remember an object the run just stored (its stat is recorded with the
 * run's other objects). */
static int seen_stored(void *ctx, const hash128 *h, char kind) {
  runner *R = ctx;
  (void)kind;
  hash_stat now;
  if (obj_stat(R->objs, h, &now) == 0) {
    run_obj *o = run_objs_get(R, h);
    o->st = now;
    o->known = true;
    o->dirty = true;
  }
  return 0;
}

/* Move a dir output into the store as a tree (tree.h). */
static int collect_tree(runner *R, const char *path, hash128 *h,
                        uint64_t *size, char *err, size_t errlen) {
  tree_stats ts;
  if (tree_put(R->objs, path, TREE_MOVE, h, &ts, err, errlen) != 0)
    return -1;
  *size = ts.bytes;
  run_batch_open(R);
  store_tree_add(R->st, h);
  return tree_walk(R->objs, h, seen_stored, R, err, errlen) == 0 ? 0 : -1;
}

/* Move every output into the object store. 0, or -1 with err set. */
static int collect_outputs(runner *R, uint32_t node, char *err,
                           size_t errlen) {
  const pipec_component *c = run_comp(R, node);
  run_node *rn = &R->nodes[node];
  const run_exec *x = rn->x;
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    struct stat sb;
    const char *name = c->outputs[i].name;
    /* lstat: a symlink is never followed out of the scratch directory (a
     * remote command could point one at any local file) */
    if (lstat(x->out_paths[i], &sb) != 0) {
      snprintf(err, errlen,
               "the command exited 0 but did not write output '%s' (%s)",
               name, x->out_paths[i]);
      return -1;
    }
    if (S_ISLNK(sb.st_mode)) {
      char to[256];
      ssize_t n = readlink(x->out_paths[i], to, sizeof to - 1);
      to[n > 0 ? n : 0] = 0;
      snprintf(err, errlen,
               "output '%s' is a symbolic link (to %s), not a file: write "
               "the file itself to {%s} (cp, not ln -s); pipec never "
               "follows a link out of the scratch directory",
               name, n > 0 ? to : "?", name);
      return -1;
    }
    bool want_dir = c->outputs[i].type == PIPEC_PORT_DIR;
    if (want_dir && !S_ISDIR(sb.st_mode)) {
      snprintf(err, errlen, "output '%s' is a dir port, but the command left "
                            "a file at {%s}: write into the directory it "
                            "names", name, name);
      return -1;
    }
    if (want_dir)
      continue;
    if (S_ISDIR(sb.st_mode)) {
      snprintf(err, errlen,
               "output '%s' is a directory, but a port holds one file: "
               "declare it `%s: dir`, or write an archive of it (tar -cf "
               "{%s} -C DIR .)",
               name, name, name);
      return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
      snprintf(err, errlen, "output '%s' is not a regular file (%s)", name,
               x->out_paths[i]);
      return -1;
    }
  }
  obj_put_opts po = {.move = true, .keep = keep_existing, .keep_ctx = R};
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    char e[512];
    if (c->outputs[i].type == PIPEC_PORT_DIR) {
      if (collect_tree(R, x->out_paths[i], &rn->out_hash[i],
                       &rn->out_size[i], e, sizeof e) != 0) {
        snprintf(err, errlen, "cannot store output '%s': %s",
                 c->outputs[i].name, e);
        return -1;
      }
      continue;
    }
    obj_info info;
    if (obj_put(R->objs, x->out_paths[i], &po, &info, e, sizeof e) != 0) {
      snprintf(err, errlen, "cannot store output '%s': %s",
               c->outputs[i].name, e);
      return -1;
    }
    rn->out_hash[i] = info.hash;
    rn->out_size[i] = info.size;
    run_obj *o = run_objs_get(R, &info.hash);
    o->st = info.st;
    o->known = true;
    o->dirty = false; /* the cache entry records it */
  }
  return 0;
}

/* Commit the node's success: cache entry (with its outputs' stats and the
 * objects it read), artifacts, node run. */
static int commit_success(runner *R, uint32_t node, const tgt_result *r,
                          int attempt, char *err, size_t errlen) {
  const pipec_component *c = run_comp(R, node);
  run_node *rn = &R->nodes[node];
  store_output *outs = xcalloc(c->n_outputs, sizeof *outs);
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    const run_obj *o = run_objs_find(R, &rn->out_hash[i]);
    outs[i] = (store_output){.port = (char *)c->outputs[i].name,
                             .hash = rn->out_hash[i],
                             .size = rn->out_size[i],
                             .st = o ? o->st : (hash_stat){0},
                             .has_st = o && o->known};
  }
  hash128 *ins = run_input_hashes(R, node);
  run_batch_open(R);
  int rc = store_cache_put(R->st, &rn->key, rn->parts_text, outs,
                           c->n_outputs, ins, R->p->nodes[node].n_inputs,
                           rn->node_run);
  for (uint32_t i = 0; rc == 0 && i < c->n_outputs; i++)
    rc = store_artifact_add(R->st, rn->node_run, &outs[i]);
  if (rc == 0)
    rc = store_node_run_finish(R->st, rn->node_run, "succeeded", attempt,
                               r->exit_code, NULL);
  free(outs);
  free(ins);
  if (rc != 0)
    snprintf(err, errlen, "cannot record the outputs: %s",
             store_errmsg(R->st));
  return rc;
}

sched_status run_hook_attempt_done(void *ctx, uint32_t node, tgt_job *job,
                                      const tgt_result *r, int attempt,
                                      bool timed_out) {
  runner *R = ctx;
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  char msg[1024] = "";
  run_batch_open(R);
  if (timed_out)
    snprintf(msg, sizeof msg, "timed out after %llds",
             (long long)n->timeout_s);
  else if (r->cancelled)
    snprintf(msg, sizeof msg, "cancelled");
  else if (r->message[0])
    snprintf(msg, sizeof msg, "%s", r->message);
  else if (r->term_signal)
    snprintf(msg, sizeof msg, "killed by signal %d", r->term_signal);
  else if (r->exit_code != 0 && rn->x->job.container &&
           ctr_exit_hint(r->exit_code))
    snprintf(msg, sizeof msg, "exit code %d: %s", r->exit_code,
             ctr_exit_hint(r->exit_code));
  else if (r->exit_code != 0)
    snprintf(msg, sizeof msg, "exit code %d", r->exit_code);
  if (rn->log_path)
    logcap_finish(rn->log_path, R->log_limit);
  if (job->res.memory > 0 || r->peak_memory > 0)
    store_node_run_memory(R->st, rn->node_run, job->res.memory,
                          r->peak_memory);
  /* an attempt that changed an input fails, whatever it exited with (and
   * so do its retries: the input is gone) */
  char *changed = run_inputs_check(R, node);
  if (changed && !rn->input_msg)
    rn->input_msg = changed;
  else
    free(changed);
  if (rn->input_msg)
    snprintf(msg, sizeof msg, "%s", rn->input_msg);
  if (!msg[0] && collect_outputs(R, node, msg, sizeof msg) == 0 &&
      commit_success(R, node, r, attempt, msg, sizeof msg) == 0) {
    rn->known = true;
    if (n->cache)
      run_shared_succeeded(R, node);
    run_inputs_release(R, node);
    scratch_clear(R, node);
    return SCHED_SUCCEEDED;
  }
  if (disk_full(rn->x->scratch))
    snprintf(msg + strlen(msg), sizeof msg - strlen(msg),
             "%sthe disk holding the workspace is full (no space left)",
             msg[0] ? "; " : "");
  /* a failed attempt's outputs are never used: free their space now (and
   * leave an empty scratch, with fresh input links, for a retry) */
  run_inputs_release(R, node);
  scratch_clear(R, node);
  if (attempt <= n->retries && !rn->input_msg) {
    char e[512];
    if (scratch_ready(R, node, e, sizeof e) != 0)
      rn->input_msg = xstrdup(e);
  }
  /* an attempt that was stopped (timeout, signal, cancel) has no exit
   * code of its own: record none, not the 0 the target left in r */
  bool exited = !timed_out && !r->cancelled && !r->term_signal;
  store_node_run_finish(R->st, rn->node_run, "failed", attempt,
                        exited ? r->exit_code : STORE_EXIT_NONE, msg);
  if (attempt <= n->retries) {
    char e[512], mark[512];
    /* fresh links for the retry; if an input cannot be given any more
     * (another node changed it), that is why the node fails */
    if (!rn->input_msg && run_inputs_link(R, node, e, sizeof e) != 0)
      rn->input_msg = xstrdup(e);
    char grown[64] = "";
    if (job->retry_memory > 0) { /* ran out of memory: it asks for more */
      char size[32];
      units_size_text(job->retry_memory, size, sizeof size);
      snprintf(grown, sizeof grown, ", memory = \"%s\"", size);
      snprintf(msg + strlen(msg), sizeof msg - strlen(msg),
               "; the retry asks for memory = \"%s\"", size);
    }
    if (rn->log_path) {
      snprintf(mark, sizeof mark, "==> pipec: attempt %d of %d (node %s%s) "
                                  "<==\n", attempt + 1, n->retries + 1,
               n->name, grown);
      logcap_append(rn->log_path, mark);
    }
    pipec_event ev = {.kind = PIPEC_EV_NODE_RETRY,
                      .node = n->name,
                      .attempt = attempt,
                      .detail = msg};
    run_emit(R, &ev);
  }
  /* the scheduler reports the final message through settled() */
  free(rn->reason);
  rn->reason = xstrdup(msg);
  rn->attempt_failed = true;
  return SCHED_FAILED;
}

void run_hook_notice(void *ctx, const char *message) {
  pipec_event ev = {.kind = PIPEC_EV_NOTICE, .detail = message};
  run_emit(ctx, &ev);
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

void run_hook_settled(void *ctx, uint32_t node, sched_status st,
                         int attempts, const char *message) {
  runner *R = ctx;
  run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  const pipec_component *c = run_comp(R, node);
  run_batch_open(R);
  rn->settled = true;
  if (R->fam_done && n->family != PIPEC_NONE)
    R->fam_done[n->family]++;
  bool recorded = rn->node_run != 0 || rn->recorded_ref;
  if (!recorded && (st == SCHED_SKIPPED || st == SCHED_CANCELLED) &&
      message && *message && !rn->reason)
    rn->reason = xstrdup(message); /* why it never ran, as show says */
  if (!recorded)
    record_node(R, node, store_status(st));
  /* a failed attempt's own account (hook_attempt_done: "timed out after
   * 1s", a full disk) says more than the scheduler's summary of it */
  const char *why = st == SCHED_FAILED && rn->attempt_failed ? rn->reason
                    : message && *message                  ? message
                                                           : rn->reason;
  if (recorded && st != SCHED_SUCCEEDED && st != SCHED_CACHED)
    store_node_run_finish(R->st, rn->node_run, store_status(st), attempts,
                          STORE_EXIT_KEEP, why);
  const char *src = st == SCHED_CACHED ? run_shared_source(R, node) : NULL;
  char from[160] = "";
  if (src)
    snprintf(from, sizeof from, "shared: %s", src);
  pipec_event ev = {.kind = PIPEC_EV_NODE_DONE,
                    .node = n->name,
                    .status = sched_status_name(st),
                    .target = R->p->targets[n->target].name,
                    .detail = src ? from
                              : st == SCHED_SUCCEEDED || st == SCHED_CACHED
                                  ? NULL
                                  : why,
                    .log = rn->log_path,
                    .attempt = attempts,
                    .seconds = rn->t_start > 0 ? clock_mono_s() - rn->t_start
                                               : -1};
  run_family_event(R, node, &ev);
  run_emit(R, &ev);
  run_inputs_release(R, node); /* links of a retry that never came */
  if (rn->have_key)
    inflight_remove(R, node);
  run_shared_settled(R, node);
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
  run_node_release(rn, n->n_inputs, c->n_outputs);
}


/*
 * run.c — `pipec run` (run.h): set up, record, schedule, finish. The parts
 * of a run are listed in run_int.h.
 */
#define _GNU_SOURCE /* qsort_r */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "logcap.h"
#include "qgroup.h"
#include "run_int.h"
#include "selfexe.h"

int run_output_index(const pipec_component *c, const char *port) {
  for (uint32_t i = 0; i < c->n_outputs; i++)
    if (strcmp(c->outputs[i].name, port) == 0)
      return (int)i;
  return -1;
}

/* For run_port_index: output indices of a component sorted by name. */
static int by_out_name(const void *a, const void *b, void *ctx) {
  const pipec_component *c = ctx;
  return strcmp(c->outputs[*(const uint32_t *)a].name,
                c->outputs[*(const uint32_t *)b].name);
}

int run_port_index(runner *R, uint32_t node, const char *port) {
  const pipec_component *c = run_comp(R, node);
  if (c->n_outputs <= 16)
    return run_output_index(c, port);
  /* a component with many outputs: a sorted index, made once per run */
  uint32_t ci = R->p->nodes[node].component;
  if (!R->out_sorted)
    R->out_sorted = xcalloc(R->p->n_components + 1, sizeof *R->out_sorted);
  uint32_t *v = R->out_sorted[ci];
  if (!v) {
    v = xcalloc(c->n_outputs, sizeof *v);
    for (uint32_t i = 0; i < c->n_outputs; i++)
      v[i] = i;
    qsort_r(v, c->n_outputs, sizeof *v, by_out_name, (void *)c);
    R->out_sorted[ci] = v;
  }
  uint32_t lo = 0, hi = c->n_outputs;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int cmp = strcmp(c->outputs[v[mid]].name, port);
    if (cmp == 0)
      return (int)v[mid];
    if (cmp < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return -1;
}

const pipec_component *run_comp(const runner *R, uint32_t node) {
  return run_comp_of(R->p, node);
}

const pipec_component *run_comp_of(const pipec_pipeline *p, uint32_t node) {
  return &p->components[p->nodes[node].component];
}

/* An extension tools recognise for a port type. */
const char *run_port_ext(pipec_port_type type) {
  return type == PIPEC_PORT_TABLE   ? ".csv"
         : type == PIPEC_PORT_JSON  ? ".json"
         : type == PIPEC_PORT_MODEL ? ".model"
                                    : "";
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
 * open while the loop waits for a process. Objects enter the store with
 * their fsyncs deferred (objstore.h, defer_sync): every commit of the run
 * first makes the objects stored since the last one durable, in one batch,
 * so a committed record never names an object that is not on disk. */

int run_commit(runner *R, char *err, size_t errlen) {
  if (obj_pending(R->objs) && obj_sync_pending(R->objs, err, errlen) != 0) {
    store_rollback(R->st);
    return -1;
  }
  if (store_commit(R->st) != 0) {
    snprintf(err, errlen, "%s", store_errmsg(R->st));
    return -1;
  }
  return 0;
}

/* The target's id of a started node's job (NULL: none yet). */
static const char *started_job_id(const run_node *rn) {
  return rn->x ? rn->x->job.job_id : NULL;
}

/* The queued starts, into the open batch. */
static void record_starts(runner *R) {
  for (uint32_t i = 0; i < R->n_starts; i++) {
    run_node *rn = &R->nodes[R->starts[i]];
    if (!rn->start_queued)
      continue;
    rn->start_queued = false;
    store_node_run_started_at(R->st, rn->node_run, rn->start_attempt,
                              started_job_id(rn), rn->start_ms);
  }
  R->n_starts = 0;
  if (R->starts_timer.loop)
    uv_timer_stop(&R->starts_timer);
}

void run_batch_open(runner *R) {
  if (R->in_batch || store_begin(R->st) != 0)
    return;
  R->in_batch = true;
  record_starts(R);
}

/* A node's start (its job id, when it began) is recorded with the next
 * batch, which the next node to end or start opens anyway: a loop
 * iteration that only started a node commits nothing. If no batch comes
 * within STARTS_MS (long nodes), the timer records them. */
#define STARTS_MS 200

void run_start_later(runner *R, uint32_t node, int attempt) {
  run_node *rn = &R->nodes[node];
  rn->start_ms = store_now_ms();
  rn->start_attempt = attempt;
  if (R->in_batch) { /* a batch is open: no reason to wait */
    store_node_run_started_at(R->st, rn->node_run, attempt,
                              started_job_id(rn), rn->start_ms);
    return;
  }
  if (!rn->start_queued) {
    if (R->n_starts == R->cap_starts) {
      R->cap_starts = R->cap_starts ? 2 * R->cap_starts : 64;
      R->starts = xrealloc(R->starts, R->cap_starts * sizeof *R->starts);
    }
    R->starts[R->n_starts++] = node;
    rn->start_queued = true;
  }
}

static void on_starts_timer(uv_timer_t *t) {
  runner *R = t->data;
  run_batch_open(R);
  run_batch_close(R);
}

void run_batch_close(runner *R) {
  if (!R->in_batch) {
    run_shared_committed(R);
    return;
  }
  R->in_batch = false;
  char e[768];
  int rc = run_state_flush(R);
  if (rc != 0)
    store_rollback(R->st);
  if ((rc != 0 ? (snprintf(e, sizeof e, "%s", store_errmsg(R->st)), -1)
               : run_commit(R, e, sizeof e)) != 0 &&
      !R->record_failed) {
    R->record_failed = true;
    char msg[1024];
    snprintf(msg, sizeof msg, "cannot record the run: %s", e);
    pipec_event ev = {.kind = PIPEC_EV_NOTICE, .detail = msg};
    run_emit(R, &ev);
  }
  run_shared_committed(R);
}

/* A prepare callback runs right before the loop blocks for I/O, after
 * everything the iteration did (a check callback would run after the
 * poll: writes made before the first poll, or in a later phase, would
 * hold the write lock while the loop waits for a node, and every other
 * pipec on the workspace would wait behind it). */
static void on_loop_prepare(uv_prepare_t *h) {
  runner *R = h->data;
  run_batch_close(R);
  if (R->n_starts && !uv_is_active((uv_handle_t *)&R->starts_timer))
    uv_timer_start(&R->starts_timer, on_starts_timer, STARTS_MS, 0);
}


/* ---- the run ------------------------------------------------------------- */

void run_node_free_fields(run_node *rn) {
  free(rn->out_hash); /* (out_size is in its block) */
  ck_parts_free(&rn->parts);
  free(rn->parts_text);
  free(rn->log_path);
  free(rn->reason);
  free(rn->input_msg);
  run_shared_node_free(rn->sh);
  rn->sh = NULL;
}

void run_free(runner *R) {
  qgroup_close(R->groups);
  R->groups = NULL;
  for (uint32_t i = 0; R->nodes && i < R->p->n_nodes; i++) {
    run_node *rn = &R->nodes[i];
    run_node_release(rn, R->p->nodes[i].n_inputs, run_comp(R, i)->n_outputs);
    run_node_free_fields(rn);
  }
  free(R->nodes);
  run_objs_free(&R->objs_seen);
  if (R->targets) {
    for (uint32_t t = 0; t < R->p->n_targets; t++)
      if (R->targets[t])
        R->targets[t]->ops->close(R->targets[t]);
    free(R->targets);
  }
  free(R->in_plan);
  free(R->upstream);
  free(R->held);
  for (uint32_t c = 0; R->out_sorted && c < R->p->n_components; c++)
    free(R->out_sorted[c]);
  free(R->out_sorted);
  free(R->fam_done);
  free(R->fam_total);
  exp_free(&R->exp); /* (and the expanded pipeline R->p may be) */
  hash_memo_free(R->memo);
  if (R->objs)
    obj_close(R->objs);
  if (R->st)
    store_close(R->st);
  run_shared_free(R);
  if (R->locked)
    close(R->lock_fd);
  free(R->abs_dir);
  free(R->root);
  free(R->src_hash);
  free(R->inflight);
  ctr_images_free(&R->images);
  free(R->starts);
  run_state_free(R);
}

static void announce_gc_wait(void) {
  fprintf(stderr, "pipec: waiting for `pipec cache gc` to finish\n");
}

/* Open the store and objects, the per-node state: 0, RUN_WORKSPACE if the
 * workspace cannot be opened, -1 for anything else (err says what). The
 * plan is run_plan's (run_expand.c). */
int run_setup(runner *R, char *err, size_t errlen) {
  const pipec_pipeline *p = R->p;
  self_pipec_exe(R->exe, sizeof R->exe); /* runs the built-ins */
  char abs[PATH_MAX];
  if (!realpath(p->dir, abs)) {
    snprintf(err, errlen, "cannot resolve %s: %s", p->dir, strerror(errno));
    return -1;
  }
  R->abs_dir = xstrdup(abs);
  char root[PATH_MAX];
  const char *want = R->o->root ? R->o->root : ws_root(R->w);
  R->root = xstrdup(realpath(want, root) ? root : want);
  /* shared with other runs; gc waits for every run to end (gc.c) */
  if (ws_lock(R->w, false, true, announce_gc_wait, &R->lock_fd, err,
              errlen) != 0)
    return RUN_WORKSPACE;
  R->locked = true;
  if (store_open(ws_db_path(R->w), &R->st, err, errlen) != 0)
    return RUN_WORKSPACE;
  obj_opts oo = {.defer_sync = true}; /* synced per commit: run_commit */
  if (obj_open(ws_objects_dir(R->w), &oo, &R->objs, err, errlen) != 0)
    return RUN_WORKSPACE;
  R->fine_ts = obj_fine_timestamps(R->objs);
  if (logcap_limit(&R->log_limit, err, errlen) != 0)
    return -1;
  if (run_shared_open(R, err, errlen) != 0)
    return -1;
  R->idx = (hash_index){.ctx = R->st, .get = idx_get, .put = idx_put};
  R->memo = hash_memo_new(R->abs_dir, &R->idx);
  if (!R->memo) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  R->p0 = p;
  exp_init(&R->exp, p);
  R->targets = xcalloc(p->n_targets, sizeof *R->targets);
  R->on_event = R->o->on_event;
  R->event_ctx = R->o->event_ctx;
  if (plan_runnable(p, err, errlen) != 0)
    return -1;
  run_nodes_alloc(R);
  return 0;
}

/* After a run: the final outputs (those no node of the plan reads). */
static void emit_results(runner *R) {
  const pipec_pipeline *p = R->p;
  bool *read = xcalloc(p->n_nodes, sizeof *read);
  for (uint32_t i = 0; i < p->n_nodes; i++)
    for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
      if (p->nodes[i].inputs[k].producer != PIPEC_NONE)
        read[p->nodes[i].inputs[k].producer] = true;
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    if (read[i] || !R->in_plan[i] || !R->nodes[i].known)
      continue;
    const pipec_component *c = run_comp(R, i);
    for (uint32_t k = 0; k < c->n_outputs; k++) {
      pipec_event ev = {.kind = PIPEC_EV_RESULT,
                        .node = p->nodes[i].name,
                        .port = c->outputs[k].name,
                        .port_type = pipec_port_type_name(c->outputs[k].type),
                        .size = R->nodes[i].out_size[k]};
      run_emit(R, &ev);
    }
  }
  free(read);
}

void run_emit(runner *R, pipec_event *ev) {
  if (!R->on_event)
    return;
  ev->run = R->run_id;
  ev->snapshot = R->snapshot_id;
  ev->total = R->total;
  ev->dry_run = R->o->dry_run;
  R->on_event(R->event_ctx, ev);
}

/* Run the plan of every phase on one loop: schedule, expand the loops
 * whose producers now have outputs, plan what became runnable, again. */
/* Does a node of p (or a template, to be) draw from a quota group? */
static bool uses_groups(const pipec_pipeline *p) {
  for (uint32_t i = 0; i < p->n_nodes; i++)
    if (p->nodes[i].quota < p->n_quotas)
      return true;
  for (uint32_t i = 0; i < p->n_templates; i++)
    if (p->templates[i].quota < p->n_quotas)
      return true;
  return false;
}

static int run_phases(runner *R, sched_summary *sum, char *err,
                      size_t errlen) {
  sched_opts so = {.jobs = R->o->jobs,
                   .keep_going = R->o->keep_going,
                   .handle_signals = !R->o->no_signals,
                   .backoff_s = 1.0,
                   .kinds = R->o->kinds};
  so.groups = R->groups; /* (joined by run_pipeline) */
  sched_hooks hooks = {.ctx = R,
                       .prepare = run_hook_prepare,
                       .started = run_hook_started,
                       .attempt_done = run_hook_attempt_done,
                       .settled = run_hook_settled,
                       .notice = run_hook_notice,
                       .wait_for = run_hook_wait_for,
                       .begin = run_shared_begin};
  for (;;) {
    pipec_event start = {.kind = PIPEC_EV_RUN_START};
    run_emit(R, &start);
    sched_summary phase = {0};
    int rc = sched_run(&R->loop, R->p, R->in_plan, &so, &hooks, NULL, &phase);
    sum->interrupted |= phase.interrupted;
    for (int k = 0; k <= SCHED_CANCELLED; k++)
      sum->count[k] += phase.count[k];
    if (rc < 0) {
      snprintf(err, errlen, "the event loop failed: %s", uv_strerror(rc));
      return -1;
    }
    bool failed_stop = R->res->failed && !R->o->keep_going;
    if (phase.interrupted || failed_stop)
      break;
    bool grew = false;
    char e[1024];
    if (run_expand_after(R, &grew, e, sizeof e) != 0) {
      pipec_event note = {.kind = PIPEC_EV_NOTICE, .detail = e};
      run_emit(R, &note);
      R->expand_failed = true;
      break;
    }
    if (!grew)
      break;
    if (run_plan(R, false, err, errlen) != 0 ||
        run_resolve_upstream(R, err, errlen) != 0)
      return -1;
  }
  run_batch_open(R);
  run_settle_held(R);
  run_batch_close(R);
  return 0;
}

static int run_schedule(runner *R, char *err, size_t errlen) {
  if (uv_loop_init(&R->loop) != 0) {
    snprintf(err, errlen, "cannot start the event loop");
    return -1;
  }
  char *dirs[2] = {
      xprintf("%s/%lld", ws_runs_dir(R->w), (long long)R->run_id),
      xprintf("%s/%lld", ws_logs_dir(R->w), (long long)R->run_id)};
  /* a run directory left by an earlier run with this id (its record lost
   * to a power failure) is never trusted */
  fs_rm_rf(dirs[0]);
  for (int i = 0; i < 2; i++) {
    int mrc = fs_mkdir_p(dirs[i]);
    if (mrc != 0) {
      snprintf(err, errlen, "cannot create %s: %s", dirs[i], strerror(-mrc));
      free(dirs[0]), free(dirs[1]);
      uv_loop_close(&R->loop);
      return -1;
    }
  }
  free(dirs[1]);
  sched_summary sum = {0};
  double t0 = clock_mono_s();
  uv_prepare_init(&R->loop, &R->batch_commit);
  R->batch_commit.data = R;
  uv_prepare_start(&R->batch_commit, on_loop_prepare);
  uv_unref((uv_handle_t *)&R->batch_commit); /* never keeps the loop alive */
  uv_timer_init(&R->loop, &R->starts_timer);
  R->starts_timer.data = R;
  uv_unref((uv_handle_t *)&R->starts_timer);
  int rc = run_phases(R, &sum, err, errlen);
  run_batch_close(R);
  run_objs_flush(R);
  run_shared_close(R);
  uv_close((uv_handle_t *)&R->batch_commit, NULL);
  uv_close((uv_handle_t *)&R->starts_timer, NULL);
  /* close the targets on the loop, then the loop */
  for (uint32_t t = 0; t < R->p->n_targets; t++)
    if (R->targets[t]) {
      R->targets[t]->ops->close(R->targets[t]);
      R->targets[t] = NULL;
    }
  uv_run(&R->loop, UV_RUN_DEFAULT);
  uv_loop_close(&R->loop);
  /* nothing runs any more: what commands left beside their outputs goes */
  fs_rm_rf(dirs[0]);
  free(dirs[0]);
  R->res->interrupted = sum.interrupted;
  const char *status = sum.interrupted ? "cancelled"
                       : R->res->failed || R->expand_failed ? "failed"
                                                            : "succeeded";
  store_run_finish(R->st, R->run_id, status, R->res->ran, R->res->cached,
                   R->res->failed);
  emit_results(R);
  if (!sum.interrupted)
    R->publish_failed = run_publish(R);
  pipec_event end = {.kind = PIPEC_EV_RUN_END,
                     .ran = R->res->ran,
                     .cached = R->res->cached,
                     .failed = R->res->failed,
                     .skipped = R->res->skipped,
                     .cancelled = R->res->cancelled,
                     .seconds = clock_mono_s() - t0};
  run_emit(R, &end);
  return rc;
}

int run_pipeline(ws *w, const pipec_pipeline *p, const run_opts *o,
                 run_result *res, char *err, size_t errlen) {
  runner R = {.p = p, .o = o, .res = res, .w = w};
  memset(res, 0, sizeof *res);
  int code = run_setup(&R, err, errlen);
  if (code == 0 && run_record_snapshot(&R, err, errlen) != 0)
    code = RUN_WORKSPACE; /* the store cannot record the run */
  if (code != 0) {
    code = code == RUN_WORKSPACE ? RUN_WORKSPACE : RUN_USAGE;
    goto out;
  }
  code = RUN_USAGE;
  run_state_load(&R);
  res->snapshot_id = R.snapshot_id;
  res->run_id = R.run_id;
  if (run_sources(&R, !o->dry_run, err, errlen) != 0 ||
      run_images(&R, err, errlen) != 0 ||
      run_expand_cached(&R, err, errlen) != 0 ||
      run_plan(&R, true, err, errlen) != 0 ||
      run_resolve_upstream(&R, err, errlen) != 0) {
    if (R.run_id)
      store_run_finish(R.st, R.run_id, "failed", 0, 0, 0);
    goto out;
  }
  if (o->dry_run) {
    run_dry_run(&R);
    code = RUN_OK;
    goto out;
  }
  if (uses_groups(p)) { /* the workspace's quota groups: join them */
    char *dir = ws_quota_dir(w);
    char label[256];
    snprintf(label, sizeof label, "run %lld of %s", (long long)R.run_id,
             p->name);
    int qrc = qgroup_open(dir, label, &R.groups, err, errlen);
    free(dir);
    if (qrc != 0) {
      store_run_finish(R.st, R.run_id, "failed", 0, 0, 0);
      code = RUN_WORKSPACE;
      goto out;
    }
  }
  if (run_schedule(&R, err, errlen) != 0)
    goto out;
  run_state_repack(&R);
  code = res->interrupted ? RUN_INTERRUPTED
         : res->failed || res->cancelled || R.publish_failed ||
                 R.expand_failed
             ? RUN_NODE_FAILED
             : RUN_OK;
out:
  run_free(&R);
  return code;
}


/*
 * run_int.h — what the parts of a run share (run.c is the lifecycle).
 *
 *   run.c         set up, schedule, finish, events; batched writes
 *   run_objs.c    the objects the run reads and writes, and the node's
 *                 inputs given as links and checked after each attempt
 *   run_cache.c   cache keys, lookups, why a node misses, upstream nodes
 *   run_job.c     a node's job and the scheduler's hooks: prepare, start,
 *                 collect and commit outputs, settle
 *   run_record.c  what the run is: draft, snapshot, run record
 *   run_shared.c  shared caches and work in flight shared between runs
 *   explain.c     --dry-run and `pipec why`
 *
 * Inputs. A node gets each input as a hard link to its object in its
 * scratch (NODE.PORT.in.ext in the run's directory, or PORT.in.ext in the
 * node's own directory on a remote target: no output is named so, outputs
 * being [NODE.]PORT.ext), so an edit that replaces the file (sed -i, any rename)
 * replaces only the link. An edit in place (possible as root, or after a
 * chmod) changes the object itself: every object the run uses has an
 * entry in `objs_seen` with its stat as last seen intact, updated for
 * pipec's own links and unlinks (which move its ctime), and after each
 * attempt each input is compared with it (and re-hashed if it differs, or
 * always where timestamps are coarse). A changed input fails the node,
 * the object is removed and its cache entries dropped; a node that was
 * reading it at the same time fails too, and a node that would read it
 * later fails at once, never reading wrong bytes. The next run recomputes
 * it.
 */
#ifndef PIPEC_RUN_INT_H
#define PIPEC_RUN_INT_H

#include <limits.h>
#include <uv.h>

#include "alloc.h"
#include "cachekey.h"
#include "container.h"
#include "hash.h"
#include "expand.h"
#include "objstore.h"
#include "run.h"
#include "scheduler.h"
#include "store.h"
#include "target.h"
#include "workspace.h"

/* An input as the node's attempt gets it. */
/* One object an input gives the node: the input's own (a file), or
 * one file of its tree (a directory). */
typedef struct run_link {
  hash128 hash;
  uint32_t damage;          /* the object's damage count when linked */
} run_link;

typedef struct run_input {
  char *link;               /* [NODE.]PORT.in.ext in the scratch, or
                               PORT.in/ for a directory: what {port} names */
  hash128 hash;             /* its object (a tree object for a directory) */
  bool dir;                 /* a tree, materialized as links */
  run_link *objs;           /* what the node holds links to */
  uint32_t n_objs;
  bool linked;              /* the link(s) are there (made by us) */
} run_input;

/* What a node needs only while it has a job: made by build_job
 * (run_job.c), freed by run_node_release, so the nodes of a run that
 * starts few of them (a no-op, a dry run of 10^6) carry none. */
typedef struct run_exec {
  char *scratch;            /* its directory, or (flat) the prefix of its
                               files' names: runs/RUN/NODE (run_job.c) */
  bool flat;
  char **in_paths, **out_paths;
  pipec_named_path *ins, *outs;
  char **argv, **env;
  char **files;             /* code files and plugin, absolute (staging) */
  tgt_job job;
  ctr_job ctr;              /* a node with an image: its container */
  run_input *inputs;        /* n_inputs */
} run_exec;

typedef struct run_node {
  bool known;               /* out_hash/out_size are set */
  hash128 *out_hash;        /* per component output */
  uint64_t *out_size;
  hash128 key;
  bool have_key;
  ck_parts parts;
  char *parts_text;
  int64_t node_run;         /* store id, 0 until recorded */
  char *log_path;
  run_exec *x;              /* while it has a job, else NULL */
  double t_start;
  int64_t start_ms;         /* its attempt's start, to record (run.c) */
  int start_attempt;
  bool start_queued;        /* in runner.starts, not recorded yet */
  char *reason;             /* why it runs (a cache miss), or NULL */
  bool attempt_failed;      /* reason now says why its last attempt failed */
  bool settled;             /* reached its final state in this run */
  bool recorded_ref;        /* recorded as a reference (run_state.c) */
  char *input_msg;          /* an attempt changed an input: why it fails */
  struct sh_node *sh;       /* its claims and shared cache lookups
                               (run_shared.c), NULL until it needs them */
} run_node;

/* What this run knows of one object it read or wrote. */
typedef struct run_obj {
  hash128 hash;
  hash_stat st;             /* its stat as last seen intact, if known */
  bool used;                /* the slot holds an object */
  bool known;               /* st is valid; else re-hash before trusting */
  bool dirty;               /* st is newer than the store's record */
  uint32_t users;           /* attempts holding a link to it now */
  uint32_t damage;          /* times it was found changed in this run */
  char *why;                /* how, the last time ("was changed in place
                               by node 'b'"), for its readers' messages */
} run_obj;

/* Open addressing on the first 8 bytes of the hash (uniform already). */
typedef struct run_objs {
  run_obj *v;
  size_t cap, n;            /* cap: a power of two, or 0 */
} run_objs;

typedef struct runner {
  const pipec_pipeline *p;  /* what runs: p0, or p0 with loops expanded */
  const pipec_pipeline *p0; /* the compiled pipeline */
  exp_set exp;              /* the run-time loops' items (expand.h) */
  bool *held;               /* per node of p: waits for a loop to expand */
  uint32_t **out_sorted;    /* per component: run_port_index's index */
  uint32_t *fam_done, *fam_total;  /* per family of p: members settled, and
                               in the run (for the status line) */
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
  char *root;               /* the project: recorded paths are relative to
                               it (run_opts.root, else the workspace's) */
  char exe[PATH_MAX];       /* this pipec, for `pipec exec` */
  pipec_event_fn on_event;  /* run_opts' event callback, or NULL */
  void *event_ctx;
  uint32_t total;           /* nodes in the plan */
  run_objs objs_seen;       /* every object the run uses (run_obj) */
  bool fine_ts;             /* obj_fine_timestamps() of the store */
  uint64_t log_limit;       /* logcap.h; 0: none */
  uv_prepare_t batch_commit; /* commits the batch before the loop waits */
  struct qgroup_set *groups; /* the quota groups this run draws from
                                (qgroup.h), or NULL */
  uv_timer_t starts_timer;  /* records queued starts if nothing else does */
  uint32_t *starts;         /* nodes whose attempt start is not recorded */
  uint32_t n_starts, cap_starts;
  bool in_batch;
  bool record_failed;
  hash128 *src_hash;        /* per pipeline datafile (run_sources.c) */
  int publish_failed;       /* publishes that could not be written */
  bool expand_failed;       /* a loop's items could not be read */
  uint32_t *inflight;       /* open addressing: node + 1 of each running
                               node by its cache key, 0 empty (run_job.c) */
  uint32_t inflight_cap;
  int lock_fd;              /* ws_lock, shared, held by the run; -1: none */
  bool locked;
  ctr_images images;        /* every (target, image) of the pipeline,
                               resolved once (run_images) */
  struct run_shared *shared; /* shared caches, claims (run_shared.c) */
  /* run_state.c: what the pipeline's nodes were last */
  store_node_state *state;
  uint32_t n_state;
  uint32_t *state_idx;      /* open addressing by name: index + 1, 0 empty */
  size_t state_cap;
  bool state_loaded, state_partial;
  int64_t *refs;            /* cached nodes recorded as references, not yet
                               written (with the batch) */
  uint32_t n_refs, cap_refs;
} runner;

/* run.c */
const pipec_component *run_comp(const runner *R, uint32_t node);
const pipec_component *run_comp_of(const pipec_pipeline *p, uint32_t node);
/* Free what a node state owns (not the struct). */
void run_node_free_fields(run_node *rn);
int run_output_index(const pipec_component *c, const char *port);
/* The output index of `port` of node's component, fast for components
 * with many outputs; -1 if none. */
int run_port_index(runner *R, uint32_t node, const char *port);
/* An extension tools recognise for a port type (".csv"), or "". */
const char *run_port_ext(pipec_port_type type);
/* Commit the open transaction, the objects stored since the last commit
 * synced first (objstore.h, defer_sync). 0, or -1 with err (rolled back). */
int run_commit(runner *R, char *err, size_t errlen);
/* The hooks' writes go into one transaction per loop iteration. */
void run_batch_open(runner *R);
/* Record node's attempt as started with the next batch (its job id and
 * start time): a start alone never costs a commit of its own (run.c). */
void run_start_later(runner *R, uint32_t node, int attempt);
void run_batch_close(runner *R);
/* Send ev (its run and snapshot filled in) to the caller. */
void run_emit(runner *R, pipec_event *ev);
/* A source path as the workspace records it (malloc'd). */
char *run_workspace_path(const runner *R, const char *path);
/* Open the store and objects, build the plan: 0, RUN_WORKSPACE, or -1
 * (err says what). run_free() undoes it, also after a failure. */
int run_setup(runner *R, char *err, size_t errlen);
void run_free(runner *R);

/* run_objs.c */
run_obj *run_objs_find(runner *R, const hash128 *h);
run_obj *run_objs_get(runner *R, const hash128 *h);
void run_obj_changed(run_obj *o, char *why);
int run_obj_trust(runner *R, const hash128 *h, const hash_stat *recorded,
                  bool readers, char *why, size_t whylen);
void run_obj_own_change(runner *R, const hash128 *h);
void run_objs_flush(runner *R);
void run_objs_free(run_objs *t);
int run_inputs_link(runner *R, uint32_t node, char *err, size_t errlen);
char *run_inputs_check(runner *R, uint32_t node);
void run_inputs_release(runner *R, uint32_t node);
void run_inputs_free(run_node *rn, uint32_t n_in);

/* run_cache.c */
/* Resolve the images of the pipeline's nodes on their targets (once per
 * run, before any key): 0, or -1 with err. */
int run_images(runner *R, char *err, size_t errlen);
/* The resolved image of node, or NULL if it has none; its id is NULL and
 * its error says why when it could not be resolved. */
const ctr_image *run_node_image(const runner *R, uint32_t node);
hash128 *run_input_hashes(runner *R, uint32_t node);
int run_compute_key(runner *R, uint32_t node, bool with_parts, char *err,
                    size_t errlen);
int run_cache_lookup(runner *R, uint32_t node);
char *run_miss_reason(runner *R, uint32_t node);
int run_resolve_upstream(runner *R, char *err, size_t errlen);

/* run_expand.c */
/* Allocate R->nodes, in_plan, upstream, held for R->p. */
void run_nodes_alloc(runner *R);
/* The plan on R->p: the selection, less what settled and what waits for
 * a loop to expand (held), and its upstream. 0, or -1 with err. */
int run_plan(runner *R, bool first, char *err, size_t errlen);
/* Expand the loops whose producers are in the cache already. */
int run_expand_cached(runner *R, char *err, size_t errlen);
/* After a phase: expand what became known; *grew if anything did. */
int run_expand_after(runner *R, bool *grew, char *err, size_t errlen);
/* Record the nodes still held (their loop never expanded) skipped. */
void run_settle_held(runner *R);

/* Fill ev's family fields for node (NODE_START, NODE_DONE). */
void run_family_event(const runner *R, uint32_t node, pipec_event *ev);

/* run_state.c */
/* Load the pipeline's last state now (run_state_of loads it otherwise):
 * outside a transaction, the store can keep it packed for the next run. */
void run_state_load(runner *R);
/* At the end of a run: the state as the run leaves it, packed for the
 * next one (nothing to do after a run that wrote nothing it is made of). */
void run_state_repack(runner *R);
/* The newest record of node's name in the pipeline (loaded with one query
 * the first time), or NULL if there is none; *complete (may be NULL): the
 * state holds every node that has one (else ask the store). */
const store_node_state *run_state_of(runner *R, uint32_t node,
                                     bool *complete);
/* Record cached node as a reference to its newest record if that is the
 * same (node, component, target, key): true if so. */
bool run_state_ref(runner *R, uint32_t node);
/* The node's entry was dropped: the state no longer has it. */
void run_state_forget(runner *R, uint32_t node);
/* Write the references taken since the last call (inside the batch). */
int run_state_flush(runner *R);
void run_state_free(runner *R);

/* run_sources.c */
/* Hash every source file or directory of the pipeline (with put, also
 * put it into the object store). 0, or -1 with err. */
int run_sources(runner *R, bool put, char *err, size_t errlen);
/* The index of the datafile at path, or PIPEC_NONE. */
uint32_t run_source_index(const runner *R, const char *path);

/* run_job.c */
void run_node_release(run_node *rn, uint32_t n_in, uint32_t n_out);
sched_status run_hook_prepare(void *ctx, uint32_t node, tgt_job **job,
                              tgt **target, char *err, size_t errlen);
void run_hook_started(void *ctx, uint32_t node, tgt_job *job, int attempt);
sched_status run_hook_attempt_done(void *ctx, uint32_t node, tgt_job *job,
                                   const tgt_result *r, int attempt,
                                   bool timed_out);
void run_hook_settled(void *ctx, uint32_t node, sched_status st,
                      int attempts, const char *message);
void run_hook_notice(void *ctx, const char *message);
/* Record node skipped with why, now (it never reached the scheduler). */
void run_settle_skipped(runner *R, uint32_t node, const char *why);
bool run_hook_wait_for(void *ctx, uint32_t node, uint32_t *other);

/* run_shared.c */
typedef struct run_shared run_shared;
/* The workspace's shared caches (.pipec/config, $PIPEC_CACHE): 0, or -1
 * with err (a bad configuration). run_shared_free undoes it. */
int run_shared_open(runner *R, char *err, size_t errlen);
void run_shared_free(runner *R);
bool run_shared_any(const runner *R);
/* sched_hooks.begin */
void run_shared_begin(void *ctx, sched *s);
/* After a local miss of a node that may use the cache: SCHED_PENDING
 * (waiting for another run's claim or a shared lookup; the node is woken),
 * SCHED_RUNNING (it runs, its claims held). After a hit the next prepare
 * finds the entry in the local store: then run_shared_cached(). */
sched_status run_shared_prepare(runner *R, uint32_t node);
/* The node was recorded cached: note where from, release its claims. */
void run_shared_cached(runner *R, uint32_t node);
/* The cache a node's outputs came from in this run, or NULL. */
const char *run_shared_source(const runner *R, uint32_t node);
/* The node's success is in the batch: push it, release claims after the
 * commit (a cache's claim after its push). */
void run_shared_succeeded(runner *R, uint32_t node);
void run_shared_settled(runner *R, uint32_t node);
/* The batch was committed: release the claims waiting for that. */
void run_shared_committed(runner *R);
/* Look node up in the shared caches now, blocking (upstream nodes of a
 * partial run): 1 if its entry is in the local store now. */
int run_shared_pull_now(runner *R, uint32_t node);
/* After the last phase: stop waiting, release everything. */
void run_shared_close(runner *R);
void run_shared_node_free(struct sh_node *sh);

/* run_publish.c */
/* Put every published output of a node that succeeded or was cached at
 * its path (PIPEC_EV_PUBLISHED each). Returns how many failed. */
int run_publish(runner *R);

/* run_record.c */
int run_record_snapshot(runner *R, char *err, size_t errlen);

/* explain.c */
void run_dry_run(runner *R);

#endif

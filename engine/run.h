/*
 * run.h — `pipec run`: execute a compiled pipeline in a workspace.
 *
 * A run, in order:
 *   1. record the draft revision (if the sources changed) and a snapshot:
 *      every source file byte for byte, the compiled config, the params,
 *      the mode and the selection;
 *   2. pick the plan (plan.h); compute the cache keys of the upstream nodes
 *      outside it and find their outputs in the store;
 *   3. schedule (sched.h): for each ready node compute its key from its
 *      inputs' content hashes; a hit with intact objects is `cached`, a miss
 *      runs on its target in a scratch directory; outputs enter the object
 *      store only after a zero exit with every declared output present;
 *   4. record every node run, cache entry and artifact; finish the run.
 *
 * Crash safety: an object is renamed into the store only once whole and
 * fsync'd, and a cache entry is committed only after its objects exist, so a
 * run killed at any moment leaves nothing half-written that would be
 * trusted; the next run resumes from the cache.
 */
#ifndef PIPEC_RUN_H
#define PIPEC_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pipec/engine.h"
#include "pipec/ir.h"
#include "plan.h"
#include "target.h"
#include "workspace.h"

typedef struct run_opts {
  const char *const *overrides;  /* -p NAME=VALUE, as given (recorded) */
  uint32_t n_overrides;
  plan_sel sel;
  int jobs;                      /* -j; <= 0: number of cores */
  bool keep_going;
  bool dry_run;                  /* say what would run and why; run nothing */
  bool force;                    /* ignore the cache for the plan's nodes */
  bool no_signals;               /* leave SIGINT/SIGTERM to the caller */
  const char *root;              /* the project directory paths are
                                    recorded against and published into;
                                    NULL: the workspace's (a --snapshot run
                                    gives its checkout) */
  int64_t of_snapshot;           /* the snapshot replayed, or 0 */
  pipec_event_fn on_event;       /* progress (pipec/engine.h); may be NULL */
  void *event_ctx;
  const tgt_kinds *kinds;        /* target kinds; NULL: the built-in ones
                                    (p must be compiled against the same) */
} run_opts;

typedef struct run_result {
  int64_t run_id;                /* 0 for a dry run */
  int64_t snapshot_id;
  uint32_t ran, cached, failed, skipped, cancelled;
  bool interrupted;
} run_result;

/* Exit codes, as DESIGN §5 (and cli.h) define them. */
enum {
  RUN_OK = 0,
  RUN_NODE_FAILED = 1,
  RUN_USAGE = 2,
  RUN_WORKSPACE = 3,     /* the store cannot be opened or cannot record */
  RUN_INTERRUPTED = 130,
};

/* Run p in workspace w. Returns one of the exit codes above; with
 * RUN_USAGE, err says what stopped the run before it started (an unknown
 * node in the selection, a missing upstream output); with RUN_WORKSPACE,
 * why the workspace cannot be used (a damaged or unreadable database, a
 * full disk). */
int run_pipeline(ws *w, const pipec_pipeline *p, const run_opts *o,
                 run_result *res, char *err, size_t errlen);

/* `pipec why`: whether node_name would run and why (the part of its cache
 * key that changed since its last success, or the upstream node that would
 * run first), into *out (pipec_why_free). Runs nothing, records nothing.
 * Returns RUN_OK, RUN_USAGE or RUN_WORKSPACE, with err set for the last
 * two. */
int run_why(ws *w, const pipec_pipeline *p, const char *node_name,
            pipec_why *out, char *err, size_t errlen);

#endif

/*
 * scheduler.h — the scheduler: walks the DAG on a libuv loop, starts ready nodes
 * in critical-path order within the -j limit, and drives retries, timeouts,
 * fail-fast / keep-going and Ctrl-C. It decides nothing about caching or
 * recording: the runner (run.c) does that through hooks.
 *
 * A node's life in the scheduler:
 *
 *   PENDING ──all producers done──> ready ──prepare()──┬─> CACHED
 *      │                                               ├─> FAILED  (prepare error)
 *      │                                               └─> RUNNING ──ok──> SUCCEEDED
 *      │                                                    │  ^
 *      │                                   failed, retries  │  │ backoff timer
 *      │                                   left ────────────┘  │ (1 s, 2 s, 4 s ... 30 s)
 *      │                                                       │
 *      │                                   failed, none left ──┴──> FAILED
 *      ├──a producer FAILED/SKIPPED/CANCELLED──> SKIPPED
 *      └──run stopped (fail-fast, Ctrl-C) before it started──> SKIPPED
 *   RUNNING ──Ctrl-C──> CANCELLED
 *   waiting on its backoff ──run stopped (fail-fast, Ctrl-C)──> CANCELLED
 *                            ("run stopped after node 'x' failed; attempt
 *                             2 of 3 not started")
 *
 * Nodes outside the plan (in_plan[i] false) count as done: their outputs
 * come from the store. A timeout cancels the attempt and counts as a failure
 * (retries apply).
 *
 * What bounds the running nodes: each target's quota (quota.h), -j for
 * the nodes of kinds that count against it (tgt_kind.counts_against_jobs:
 * this machine's work), and the quota group a node draws from, shared with
 * the other runs of the workspace (qgroup.h): a node that fits its target
 * waits in its group's queue until the group has room, asking again every
 * 100 ms on a timer (never blocking the loop), and holds its share until
 * its attempt is recorded as ended.
 *
 * Memory that grows: an attempt its target says was killed for memory
 * (tgt_result.out_of_memory) is retried asking for memory_growth times
 * its memory, up to its target's and its group's memory; other failures
 * retry with the same request. -j is lowered at the start to what RLIMIT_NOFILE
 * leaves room for (said once through notice()), and a node whose submit
 * finds no file descriptor left waits in its queue until a running node
 * ends instead of failing.
 */
#ifndef PIPEC_SCHED_H
#define PIPEC_SCHED_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "pipec/ir.h"
#include "target.h"

typedef enum sched_status {
  SCHED_PENDING,
  SCHED_RUNNING,
  SCHED_SUCCEEDED,
  SCHED_CACHED,
  SCHED_FAILED,
  SCHED_SKIPPED,
  SCHED_CANCELLED,
} sched_status;

const char *sched_status_name(sched_status s);

typedef struct sched sched;

typedef struct sched_hooks {
  void *ctx;
  /* The node's producers are done. Return SCHED_CACHED (nothing to run),
   * SCHED_RUNNING with *job and *target set (the scheduler submits it),
   * SCHED_FAILED with a message in err, or SCHED_PENDING: not yet (the
   * runner waits for something outside the run: another run's claim on
   * the same work, a shared cache) and calls sched_wake() from a loop
   * callback when the node should be prepared again. A node left waiting
   * when the run stops settles as skipped (cancelled if interrupted). */
  sched_status (*prepare)(void *ctx, uint32_t node, tgt_job **job,
                          tgt **target, char *err, size_t errlen);
  /* An attempt was submitted; job->job_id is set (attempt counts from 1). */
  void (*started)(void *ctx, uint32_t node, tgt_job *job, int attempt);
  /* An attempt ended. Return SCHED_SUCCEEDED if its outputs were collected,
   * else SCHED_FAILED (the scheduler retries if attempts remain). */
  sched_status (*attempt_done)(void *ctx, uint32_t node, tgt_job *job,
                               const tgt_result *r, int attempt,
                               bool timed_out);
  /* The node reached its final state. message: why, for failures. */
  void (*settled)(void *ctx, uint32_t node, sched_status st, int attempts,
                  const char *message);
  /* Something the user should know once ("-j 32 lowered to 9: ..."); may
   * be NULL. */
  void (*notice)(void *ctx, const char *message);
  /* Before preparing a ready node: should it wait for another node of the
   * run to settle first (the same work is under way: equal cache keys)?
   * true and *other set: it is prepared again once other has settled.
   * May be NULL. */
  bool (*wait_for)(void *ctx, uint32_t node, uint32_t *other);
  /* Called once as sched_run starts, with the scheduler sched_wake()
   * takes (valid until sched_run returns). May be NULL. */
  void (*begin)(void *ctx, sched *s);
} sched_hooks;

typedef struct sched_opts {
  int jobs;             /* max nodes running at once; <= 0: number of cores */
  bool keep_going;      /* finish independent branches after a failure */
  bool handle_signals;  /* SIGINT/SIGTERM: first cancels, second kills */
  double backoff_s;     /* first retry delay; doubles, capped at 30 s */
  const tgt_kinds *kinds; /* the pipeline's target kinds; NULL: built in */
  struct qgroup_set *groups; /* the workspace's quota groups (qgroup.h),
                             which nodes with a group draw from; NULL:
                             groups are not enforced */
} sched_opts;

typedef struct sched_summary {
  uint32_t count[SCHED_CANCELLED + 1];  /* nodes per final status */
  bool interrupted;
} sched_summary;

/* Run every node with in_plan[i] set to completion on `loop` (returns when
 * the loop has nothing left). status[] (n_nodes entries, may be NULL)
 * receives each node's final status. Returns 0, or a negative libuv error
 * if the loop itself failed. */
int sched_run(uv_loop_t *loop, const pipec_pipeline *p, const bool *in_plan,
              const sched_opts *opts, const sched_hooks *hooks,
              sched_status *status, sched_summary *summary);

/* A node whose prepare() returned SCHED_PENDING is ready to be prepared
 * again (a no-op for any other node). Call it from a loop callback, never
 * from within a hook. */
void sched_wake(sched *s, uint32_t node);

/* The -j that fits nofile file descriptors when in_use are open and each
 * running node holds per_node more (at least 1; jobs itself if it fits). */
int sched_jobs_for_fds(int jobs, long nofile, long in_use, int per_node);

#endif

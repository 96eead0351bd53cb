/*
 * scheduler.c — the scheduler of scheduler.h.
 *
 * Per node it keeps a few words in dense arrays (state, producers left,
 * attempts, priority). Ready nodes wait in one binary heap per target,
 * ordered by critical path (the longest chain of nodes below them), so long
 * chains start first, as ninja does; whichever target has room prepares
 * its best node, the best of them all first. A fully cached run goes through prepare() for every node
 * without ever waiting on the loop.
 */
#include "scheduler.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "qgroup.h"
#include "quota.h"

/* How often nodes waiting for a share of a quota group ask again (other
 * runs give shares back without telling this one). */
#define SCHED_GROUP_POLL_MS 100

/* File descriptors kept free for everything but the running nodes: the
 * store, hashing outputs, helpers, libuv's own. */
#define SCHED_FD_RESERVE 8

/* One per running attempt or pending retry: a timer for the timeout or
 * the backoff. Freed in its close callback. */
typedef struct slot {
  uv_timer_t timer;
  sched *s;
  uint32_t node;
  bool backoff;             /* waiting to retry (else: a running attempt's
                               timeout) */
} slot;

struct sched {
  uv_loop_t *loop;
  uint32_t *waiter_head;    /* per node: first node waiting for it to
                               settle (wait_for), PIPEC_NONE if none */
  uint32_t *waiter_next;    /* per node: the next in that list */
  const pipec_pipeline *p;
  const bool *in_plan;
  sched_opts opts;
  const sched_hooks *h;
  sched_status *status;     /* per node */
  uint32_t *left;           /* producers not yet done, per node */
  uint32_t *prio;           /* critical path length, per node */
  int *attempts;
  tgt_job **job;
  tgt **target;
  slot **slots;             /* running or waiting to retry */
  bool *timed_out;
  uint32_t *cons_off, *cons; /* consumers of node i: cons[cons_off[i]..] */
  uint32_t running;         /* attempts submitted and not done */
  uint32_t running_local;   /* ... of them on targets -j counts */
  uint32_t parked_local;    /* parked nodes of those targets */
  uint32_t waiting;         /* retries waiting on their backoff timer */
  bool stopping;            /* fail-fast or interrupted: start nothing new */
  uint32_t stop_node;       /* the failure that stopped it, or PIPEC_NONE */
  bool fd_starved;          /* a submit found no fd: wait for a node's end */
  bool fd_said;
  bool interrupted;
  int sigints;
  uv_signal_t sigint, sigterm;
  bool signals_open;
  sched_summary *sum;
  const tgt_kind **kind;    /* per target; NULL: not a known kind */
  quota *quotas;            /* per target */
  uint32_t **parked;        /* per target: prepared nodes waiting for room */
  uint32_t *park_head, *park_n;
  uint32_t **ready;         /* per target: a heap of the ready nodes not
                               yet prepared, waiting for room to be */
  uint32_t *ready_n;
  char (*gpus)[128];        /* per node: gpu ids held by its attempt */
  bool *deferred;           /* per node: prepare() said SCHED_PENDING and
                               the runner has not woken it yet */
  uint32_t n_deferred;
  int64_t *memory;          /* per node: the memory its next (or
                               running) attempt asks for: its resources',
                               grown after running out of it (req()) */
  /* quota groups (qgroup.h), when opts.groups is set */
  qgroup_share **share;     /* per node: its share, held or waited for */
  uint32_t *gnext;          /* per node: the next in its group's queue */
  uint32_t *ghead, *gtail;  /* per group: the queue of nodes that fit
                               their target and wait for a share */
  uint32_t *gq_n;           /* per target: nodes in group queues */
  uint32_t gq_local;        /* ... of them on targets -j counts */
  uint32_t gq_total;
  bool *in_gq;              /* per node */
  bool *held_share;         /* per node: its share is held (not waited
                               for) */
  bool *g_said;             /* per group: its wait was announced */
  uint32_t *g_held;         /* per group: shares this run holds */
  uv_timer_t gtimer;        /* asks again while a queue is not empty */
};

/* What node's next (or running) attempt asks for. */
static pipec_resources req(const sched *s, uint32_t node) {
  pipec_resources r = s->p->nodes[node].resources;
  r.memory = s->memory[node];
  return r;
}

/* The group node draws from, or PIPEC_NONE (also when groups are not
 * enforced). */
static uint32_t group_of(const sched *s, uint32_t node) {
  uint32_t g = s->p->nodes[node].quota;
  return s->opts.groups && g < s->p->n_quotas ? g : PIPEC_NONE;
}

const char *sched_status_name(sched_status st) {
  static const char *const names[] = {"pending",   "running", "succeeded",
                                      "cached",    "failed",  "skipped",
                                      "cancelled"};
  return names[st];
}

/* ---- ready heaps: highest priority first, then lowest index ------------- */

static bool heap_before(const sched *s, uint32_t a, uint32_t b) {
  if (s->prio[a] != s->prio[b])
    return s->prio[a] > s->prio[b];
  return a < b;
}

/* Make node ready: into its target's heap. */
static void heap_push(sched *s, uint32_t node) {
  uint32_t t = s->p->nodes[node].target;
  uint32_t *h = s->ready[t];
  uint32_t i = s->ready_n[t]++;
  h[i] = node;
  while (i > 0) {
    uint32_t parent = (i - 1) / 2;
    if (!heap_before(s, h[i], h[parent]))
      break;
    uint32_t x = h[i];
    h[i] = h[parent];
    h[parent] = x;
    i = parent;
  }
}

static uint32_t heap_pop(sched *s, uint32_t t) {
  uint32_t *h = s->ready[t];
  uint32_t top = h[0];
  uint32_t n = --s->ready_n[t];
  h[0] = h[n];
  uint32_t i = 0;
  for (;;) {
    uint32_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && heap_before(s, h[l], h[m]))
      m = l;
    if (r < n && heap_before(s, h[r], h[m]))
      m = r;
    if (m == i)
      break;
    uint32_t x = h[i];
    h[i] = h[m];
    h[m] = x;
    i = m;
  }
  return top;
}

/* ---- settling ------------------------------------------------------------ */

static void pump(sched *s);

static void settle(sched *s, uint32_t node, sched_status st, const char *msg);

/* Everything downstream of a node that did not produce its outputs can
 * never run. Iterative, so a long chain cannot overflow the stack. */
static void skip_downstream(sched *s, uint32_t node) {
  uint32_t *stack = malloc((s->p->n_nodes + 1) * sizeof *stack);
  if (!stack)
    abort();
  uint32_t n = 0;
  stack[n++] = node;
  while (n) {
    uint32_t u = stack[--n];
    for (uint32_t k = s->cons_off[u]; k < s->cons_off[u + 1]; k++) {
      uint32_t c = s->cons[k];
      if (!s->in_plan[c] || s->status[c] != SCHED_PENDING)
        continue;
      s->status[c] = SCHED_SKIPPED;
      s->sum->count[SCHED_SKIPPED]++;
      if (s->h->settled)
        s->h->settled(s->h->ctx, c, SCHED_SKIPPED, 0,
                      "an upstream node did not succeed");
      stack[n++] = c;
    }
  }
  free(stack);
}

static void slot_free(sched *s, uint32_t node);

/* The run stopped after a failure: a node waiting to retry will not get
 * its next attempt, and says so. */
static void drop_retries(sched *s) {
  for (uint32_t i = 0; i < s->p->n_nodes; i++) {
    if (s->status[i] != SCHED_RUNNING || !s->slots[i] || !s->slots[i]->backoff)
      continue;
    slot_free(s, i);
    s->waiting--;
    char msg[512];
    snprintf(msg, sizeof msg,
             "run stopped after node '%s' failed; attempt %d of %d not "
             "started",
             s->p->nodes[s->stop_node].name, s->attempts[i] + 1,
             s->p->nodes[i].retries + 1);
    settle(s, i, SCHED_CANCELLED, msg);
  }
}

/* The run stopped: nodes waiting outside the run (deferred) will not be
 * prepared again. */
static void drop_deferred(sched *s) {
  for (uint32_t i = 0; s->n_deferred && i < s->p->n_nodes; i++) {
    if (!s->deferred[i])
      continue;
    s->deferred[i] = false;
    s->n_deferred--;
    settle(s, i, s->interrupted ? SCHED_CANCELLED : SCHED_SKIPPED,
           "the run stopped while it waited for the same work in another "
           "run");
  }
}

static void settle(sched *s, uint32_t node, sched_status st, const char *msg) {
  s->status[node] = st;
  s->sum->count[st]++;
  /* nodes that waited for this one are ready again (prepare decides) */
  for (uint32_t w = s->waiter_head[node]; w != PIPEC_NONE;) {
    uint32_t next = s->waiter_next[w];
    heap_push(s, w);
    w = next;
  }
  s->waiter_head[node] = PIPEC_NONE;
  if (s->h->settled)
    s->h->settled(s->h->ctx, node, st, s->attempts[node], msg);
  if (st == SCHED_SUCCEEDED || st == SCHED_CACHED) {
    for (uint32_t k = s->cons_off[node]; k < s->cons_off[node + 1]; k++) {
      uint32_t c = s->cons[k];
      if (s->in_plan[c] && s->status[c] == SCHED_PENDING && --s->left[c] == 0)
        heap_push(s, c);
    }
    return;
  }
  skip_downstream(s, node);
  if (st == SCHED_FAILED && !s->opts.keep_going && !s->stopping) {
    s->stopping = true;
    s->stop_node = node;
    drop_retries(s);
    drop_deferred(s);
  }
}

/* ---- attempts ------------------------------------------------------------ */

static void slot_closed(uv_handle_t *h) { free(h->data); }

static void slot_free(sched *s, uint32_t node) {
  slot *sl = s->slots[node];
  if (!sl)
    return;
  s->slots[node] = NULL;
  uv_timer_stop(&sl->timer);
  uv_close((uv_handle_t *)&sl->timer, slot_closed);
}

static void on_timeout(uv_timer_t *t) {
  slot *sl = t->data;
  sched *s = sl->s;
  s->timed_out[sl->node] = true;
  s->target[sl->node]->ops->cancel(s->target[sl->node], s->job[sl->node],
                                   false);
}

static void submit(sched *s, uint32_t node);
static void start(sched *s, uint32_t node);

static void on_backoff(uv_timer_t *t) {
  slot *sl = t->data;
  sched *s = sl->s;
  uint32_t node = sl->node;
  s->waiting--;
  slot_free(s, node);
  if (s->stopping) { /* (the stop cancels waiting retries at once) */
    settle(s, node, SCHED_CANCELLED, "interrupted before its retry");
    pump(s);
    return;
  }
  start(s, node);
  pump(s);
}

/* Does -j bound target t's nodes? (An unknown kind counts: opening it
 * fails the node anyway.) */
static bool counts_jobs(const sched *s, uint32_t t) {
  return !s->kind[t] || s->kind[t]->counts_against_jobs;
}

static void count_running(sched *s, uint32_t node, int d) {
  s->running += (uint32_t)d;
  if (counts_jobs(s, s->p->nodes[node].target))
    s->running_local += (uint32_t)d;
}

static void on_started(tgt_job *job) {
  sched *s = job->sched;
  if (s->h->started)
    s->h->started(s->h->ctx, job->node, job, s->attempts[job->node]);
}

/* The memory the next attempt of node asks for after this one ran out of
 * it: its request times memory_growth, up to what its target and its
 * quota group hold; 0 if it does not grow. */
static int64_t grown_memory(const sched *s, uint32_t node) {
  const pipec_node *n = &s->p->nodes[node];
  int64_t mem = s->memory[node];
  if (n->memory_growth <= 1.0f || mem <= 0)
    return 0;
  double want = (double)mem * n->memory_growth;
  int64_t cap = INT64_MAX / 2;
  const quota *q = &s->quotas[n->target];
  if (q->memory > 0 && q->memory < cap)
    cap = q->memory;
  uint32_t g = n->quota < s->p->n_quotas ? n->quota : PIPEC_NONE;
  if (g != PIPEC_NONE && s->p->quotas[g].memory >= 0 &&
      s->p->quotas[g].memory < cap)
    cap = s->p->quotas[g].memory;
  int64_t next = want >= (double)cap ? cap : (int64_t)want;
  return next > mem ? next : 0;
}

/* A share of node's group is given back (its attempt ended or will not
 * start): waiters may take it. */
static void give_share(sched *s, uint32_t node) {
  if (!s->opts.groups || !s->share[node])
    return;
  if (s->held_share[node]) {
    s->g_held[s->p->nodes[node].quota]--;
    s->held_share[node] = false;
  }
  qgroup_give(s->opts.groups, s->share[node]);
  s->share[node] = NULL;
}

static void on_done(tgt_job *job, const tgt_result *r) {
  sched *s = job->sched;
  uint32_t node = job->node;
  count_running(s, node, -1);
  s->fd_starved = false; /* its descriptors are free again */
  pipec_resources r0 = req(s, node);
  quota_give(&s->quotas[s->p->nodes[node].target], &r0, s->gpus[node]);
  slot_free(s, node);
  bool timed_out = s->timed_out[node];
  s->timed_out[node] = false;
  if (r->cancelled && !timed_out) {
    settle(s, node, SCHED_CANCELLED, "cancelled");
    give_share(s, node);
    pump(s);
    return;
  }
  bool retry = s->attempts[node] <= s->p->nodes[node].retries &&
               !s->stopping;
  /* run out of memory: the retry asks for more (other failures retry
   * with the same request) */
  job->retry_memory = retry && r->out_of_memory ? grown_memory(s, node) : 0;
  sched_status st = s->h->attempt_done(s->h->ctx, node, job, r,
                                       s->attempts[node], timed_out);
  /* held until the attempt is recorded as ended: the group's shares
   * always cover what the records say ran at once */
  give_share(s, node);
  if (st != SCHED_SUCCEEDED && retry && job->retry_memory > 0)
    s->memory[node] = job->retry_memory;
  if (st == SCHED_SUCCEEDED) {
    settle(s, node, SCHED_SUCCEEDED, NULL);
  } else if (s->attempts[node] <= s->p->nodes[node].retries && !s->stopping) {
    /* retry after a backoff: 1 s, 2 s, 4 s ... capped at 30 s */
    double delay = s->opts.backoff_s;
    for (int i = 1; i < s->attempts[node] && delay < 30; i++)
      delay *= 2;
    if (delay > 30)
      delay = 30;
    slot *sl = calloc(1, sizeof *sl);
    if (!sl)
      abort();
    sl->s = s;
    sl->node = node;
    sl->backoff = true;
    uv_timer_init(s->loop, &sl->timer);
    sl->timer.data = sl;
    s->slots[node] = sl;
    s->waiting++;
    uv_timer_start(&sl->timer, on_backoff, (uint64_t)(delay * 1000), 0);
  } else {
    settle(s, node, SCHED_FAILED,
           timed_out ? "timed out" : (r->message[0] ? r->message : NULL));
  }
  pump(s);
}

static void count_parked(sched *s, uint32_t t, int d);

/* Out of file descriptors while other nodes run: put the node back at the
 * head of its target's queue until one of them ends. */
static void requeue(sched *s, uint32_t node, const char *err) {
  uint32_t t = s->p->nodes[node].target;
  s->attempts[node]--;
  pipec_resources r = req(s, node);
  quota_give(&s->quotas[t], &r, s->gpus[node]);
  give_share(s, node);
  s->park_head[t] = (s->park_head[t] + s->p->n_nodes - 1) % s->p->n_nodes;
  s->parked[t][s->park_head[t]] = node;
  count_parked(s, t, +1);
  s->fd_starved = true;
  if (!s->fd_said && s->h->notice) {
    char msg[768];
    snprintf(msg, sizeof msg, "out of file descriptors (%s): nodes wait for "
             "running ones to end", err);
    s->h->notice(s->h->ctx, msg);
  }
  s->fd_said = true;
}

static void submit(sched *s, uint32_t node) {
  tgt_job *job = s->job[node];
  tgt *t = s->target[node];
  char err[512] = "";
  s->attempts[node]++;
  job->started = on_started;
  job->done = on_done;
  job->sched = s;
  job->node = node;
  job->job_id[0] = 0;
  job->res = req(s, node);
  int rc = t->ops->submit(t, job, err, sizeof err);
  if ((rc == -EMFILE || rc == -ENFILE) && s->running > 0) {
    requeue(s, node, err);
    return;
  }
  if (rc != 0) {
    /* Could not even start (e.g. the program does not exist): the attempt
     * failed; retries apply as for any failure. */
    tgt_result r = {.exit_code = 127};
    snprintf(r.message, sizeof r.message, "%s", err);
    count_running(s, node, +1);
    job->done(job, &r);
    return;
  }
  count_running(s, node, +1);
  if (job->job_id[0]) /* started now; else the target says when */
    on_started(job);
  int64_t timeout = s->p->nodes[node].timeout_s;
  if (timeout > 0) {
    slot *sl = calloc(1, sizeof *sl);
    if (!sl)
      abort();
    sl->s = s;
    sl->node = node;
    uv_timer_init(s->loop, &sl->timer);
    sl->timer.data = sl;
    s->slots[node] = sl;
    uv_timer_start(&sl->timer, on_timeout, (uint64_t)timeout * 1000, 0);
  }
}

static void count_parked(sched *s, uint32_t t, int d) {
  s->park_n[t] += (uint32_t)d;
  if (counts_jobs(s, t))
    s->parked_local += (uint32_t)d;
}

/* Take node's target quota and submit it (it fits). */
static void launch(sched *s, uint32_t node) {
  uint32_t t = s->p->nodes[node].target;
  pipec_resources r = req(s, node);
  quota_take(&s->quotas[t], &r, s->gpus[node], sizeof s->gpus[node]);
  snprintf(s->job[node]->gpus, sizeof s->job[node]->gpus, "%s",
           s->gpus[node]);
  s->job[node]->gpus_set = s->quotas[t].gpus_limited;
  submit(s, node);
}

static void count_gq(sched *s, uint32_t node, int d) {
  uint32_t t = s->p->nodes[node].target;
  s->gq_n[t] += (uint32_t)d;
  s->gq_total += (uint32_t)d;
  if (counts_jobs(s, t))
    s->gq_local += (uint32_t)d;
}

static void on_group_poll(uv_timer_t *t);

/* node fits its target: into its group's queue, to wait for a share. */
static void gq_push(sched *s, uint32_t node) {
  uint32_t g = group_of(s, node);
  s->gnext[node] = PIPEC_NONE;
  if (s->ghead[g] == PIPEC_NONE)
    s->ghead[g] = node;
  else
    s->gnext[s->gtail[g]] = node;
  s->gtail[g] = node;
  s->in_gq[node] = true;
  count_gq(s, node, +1);
  if (!uv_is_active((uv_handle_t *)&s->gtimer))
    uv_timer_start(&s->gtimer, on_group_poll, SCHED_GROUP_POLL_MS,
                   SCHED_GROUP_POLL_MS);
}

static uint32_t gq_pop(sched *s, uint32_t g) {
  uint32_t node = s->ghead[g];
  s->ghead[g] = s->gnext[node];
  s->in_gq[node] = false;
  count_gq(s, node, -1);
  if (s->gq_total == 0)
    uv_timer_stop(&s->gtimer);
  return node;
}

/* "node 'x' waits for quota group 'team' ...", once per group, when other
 * runs hold it (waiting for this run's own nodes is no news). */
static void say_waiting(sched *s, uint32_t g, uint32_t node) {
  if (s->g_said[g] || !s->h->notice || s->g_held[g] > 0)
    return;
  s->g_said[g] = true;
  const pipec_quota *q = &s->p->quotas[g];
  char msg[512];
  snprintf(msg, sizeof msg, "node '%s' waits for quota group '%s': other "
           "runs of the workspace hold it (pipec targets FILE shows its use)",
           s->p->nodes[node].name, q->name);
  s->h->notice(s->h->ctx, msg);
}

/* Hand shares of the quota groups to the heads of their queues, in order,
 * while each fits its target and the group has room; a head that does not
 * fit its target gives up its place for now, so it holds nobody back. */
static void serve_groups(sched *s) {
  for (uint32_t g = 0; s->gq_total && g < s->p->n_quotas; g++)
    while (s->ghead[g] != PIPEC_NONE) {
      uint32_t node = s->ghead[g];
      uint32_t t = s->p->nodes[node].target;
      if (s->stopping) {
        gq_pop(s, g);
        give_share(s, node);
        settle(s, node, s->interrupted ? SCHED_CANCELLED : SCHED_SKIPPED,
               "the run stopped before it could start");
        continue;
      }
      pipec_resources r = req(s, node);
      if ((s->fd_starved && s->running > 0) ||
          (counts_jobs(s, t) && s->running_local >= (uint32_t)s->opts.jobs) ||
          !quota_fits(&s->quotas[t], &r)) {
        qgroup_withdraw(s->opts.groups, s->share[node]);
        break;
      }
      char err[512] = "";
      int rc = qgroup_take(s->opts.groups, &s->p->quotas[g], &r,
                           s->p->nodes[node].name, &s->share[node], err,
                           sizeof err);
      if (rc == QGROUP_WAIT) {
        say_waiting(s, g, node);
        break;
      }
      gq_pop(s, g);
      if (rc < 0) {
        give_share(s, node);
        settle(s, node, SCHED_FAILED, err);
        continue;
      }
      s->held_share[node] = true;
      s->g_held[g]++;
      launch(s, node);
    }
}

static void on_group_poll(uv_timer_t *t) {
  sched *s = t->data;
  pump(s);
}

/* Start parked nodes of each target, in order, while the head fits: a
 * big node at the head is never overtaken by smaller ones (no starvation).
 * -j bounds the kinds that count against it; every target is bounded by
 * its own quota. After a submit found no file descriptor, nothing starts
 * until a running node has ended. A node of a quota group goes on to its
 * group's queue instead (serve_groups). */
static void unpark(sched *s) {
  for (uint32_t t = 0; t < s->p->n_targets; t++)
    while (s->park_n[t] && !(s->fd_starved && !s->stopping) &&
           (!counts_jobs(s, t) || s->running_local < (uint32_t)s->opts.jobs)) {
      uint32_t node = s->parked[t][s->park_head[t]];
      pipec_resources r = req(s, node);
      if (!s->stopping && !quota_fits(&s->quotas[t], &r))
        break;
      /* dequeue first: a submit that fails at once re-enters pump() */
      s->park_head[t] = (s->park_head[t] + 1) % s->p->n_nodes;
      count_parked(s, t, -1);
      if (s->stopping) {
        settle(s, node, s->interrupted ? SCHED_CANCELLED : SCHED_SKIPPED,
               "the run stopped before it could start");
        continue;
      }
      if (group_of(s, node) != PIPEC_NONE) {
        gq_push(s, node);
        continue;
      }
      launch(s, node);
    }
  serve_groups(s);
}

/* Submit a prepared node now if its target has room, else park it behind
 * the nodes already waiting for that target. */
static void start(sched *s, uint32_t node) {
  uint32_t t = s->p->nodes[node].target;
  pipec_resources r = req(s, node);
  if (!quota_possible(&s->quotas[t], &r)) {
    settle(s, node, SCHED_FAILED,
           "it needs more resources than its target has");
    return;
  }
  uint32_t tail = (s->park_head[t] + s->park_n[t]) % s->p->n_nodes;
  s->parked[t][tail] = node;
  count_parked(s, t, +1);
  unpark(s);
}

/* May one more node of target t be prepared now? Preparing makes its
 * scratch directory and job, so it happens close to running: on local
 * targets while fewer than -j run or wait, on a remote target while fewer
 * than its slots wait. */
/* Deferred nodes (SCHED_PENDING: a shared cache lookup, a claim another
 * run holds) wait at most this many per -j slot: each may hold files. */
#define DEFERRED_PER_JOB 16

static bool can_prepare(const sched *s, uint32_t t) {
  if (s->n_deferred >= DEFERRED_PER_JOB * (uint32_t)s->opts.jobs)
    return false;
  if (counts_jobs(s, t))
    return s->running_local + s->parked_local + s->gq_local <
           (uint32_t)s->opts.jobs;
  return s->park_n[t] + s->gq_n[t] < (uint32_t)s->quotas[t].slots;
}

static void prepare(sched *s, uint32_t node) {
  tgt_job *job = NULL;
  tgt *t = NULL;
  char err[1024] = "";
  sched_status st = s->h->prepare(s->h->ctx, node, &job, &t, err, sizeof err);
  if (st == SCHED_RUNNING) {
    s->status[node] = SCHED_RUNNING;
    s->job[node] = job;
    s->target[node] = t;
    start(s, node);
  } else if (st == SCHED_PENDING) {
    s->deferred[node] = true; /* until sched_wake */
    s->n_deferred++;
  } else {
    settle(s, node, st, err[0] ? err : NULL);
  }
}

/* Prepare ready nodes in priority order wherever their target has room:
 * of the targets with room, the one whose best ready node comes first. A
 * node whose target is full waits in that target's heap, so a busy laptop
 * does not hold back nodes bound for a cluster. Cached nodes settle at
 * once and may make more nodes ready, so this loops until nothing moves. */
static void pump(sched *s) {
  unpark(s);
  while (!s->stopping) {
    uint32_t best = PIPEC_NONE;
    for (uint32_t t = 0; t < s->p->n_targets; t++)
      if (s->ready_n[t] && can_prepare(s, t) &&
          (best == PIPEC_NONE ||
           heap_before(s, s->ready[t][0], s->ready[best][0])))
        best = t;
    if (best == PIPEC_NONE)
      break;
    uint32_t node = heap_pop(s, best), other;
    if (s->h->wait_for && s->h->wait_for(s->h->ctx, node, &other) &&
        other < s->p->n_nodes && s->status[other] == SCHED_RUNNING) {
      s->waiter_next[node] = s->waiter_head[other];
      s->waiter_head[other] = node;
      continue;
    }
    prepare(s, node);
  }
  uint32_t ready = 0;
  for (uint32_t t = 0; t < s->p->n_targets; t++)
    ready += s->ready_n[t];
  if (s->running == 0 && s->waiting == 0 && s->n_deferred == 0 &&
      s->gq_total == 0 &&
      (ready == 0 || s->stopping) && s->signals_open) {
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    s->signals_open = false;
  }
}

void sched_wake(sched *s, uint32_t node) {
  if (node >= s->p->n_nodes || !s->deferred[node])
    return;
  s->deferred[node] = false;
  s->n_deferred--;
  if (s->stopping)
    settle(s, node, s->interrupted ? SCHED_CANCELLED : SCHED_SKIPPED,
           "the run stopped before it could start");
  else
    heap_push(s, node);
  pump(s);
}

static void on_signal(uv_signal_t *h, int signum) {
  sched *s = h->data;
  (void)signum;
  s->sigints++;
  s->stopping = true;
  s->interrupted = true;
  drop_deferred(s);
  for (uint32_t i = 0; i < s->p->n_nodes; i++) {
    if (s->status[i] != SCHED_RUNNING || (s->opts.groups && s->in_gq[i]))
      continue; /* (waiting for a share: nothing runs; pump drops it) */
    if (s->slots[i] && s->slots[i]->backoff) {
      /* waiting to retry: nothing runs, just give up */
      slot_free(s, i);
      s->waiting--;
      settle(s, i, SCHED_CANCELLED, "interrupted before its retry");
    } else {
      s->target[i]->ops->cancel(s->target[i], s->job[i], s->sigints > 1);
    }
  }
  pump(s);
}

/* Critical path: 1 + the longest path among consumers, in reverse
 * topological order (the IR's node order is topological). */
static void compute_prio(sched *s) {
  for (uint32_t i = s->p->n_nodes; i-- > 0;) {
    uint32_t best = 0;
    for (uint32_t k = s->cons_off[i]; k < s->cons_off[i + 1]; k++)
      if (s->prio[s->cons[k]] > best)
        best = s->prio[s->cons[k]];
    s->prio[i] = best + 1;
  }
}

int sched_jobs_for_fds(int jobs, long nofile, long in_use, int per_node) {
  if (per_node <= 0)
    return jobs;
  long room = (nofile - in_use - SCHED_FD_RESERVE) / per_node;
  if (room < 1)
    room = 1;
  return room < jobs ? (int)room : jobs;
}

/* Descriptors open in this process now (every one, as /proc lists them). */
static long fds_in_use(void) {
  DIR *d = opendir("/proc/self/fd");
  if (!d)
    return SCHED_FD_RESERVE;
  long n = 0;
  for (struct dirent *e; (e = readdir(d));)
    n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the directory's own */
}

/* Lower -j to what RLIMIT_NOFILE leaves room for, and say so once. */
static void fit_fds(sched *s) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
    return;
  int per_node = 0;
  for (uint32_t t = 0; t < s->p->n_targets; t++)
    if (s->kind[t] && s->kind[t]->counts_against_jobs &&
        s->kind[t]->fds_per_job > per_node)
      per_node = s->kind[t]->fds_per_job;
  int jobs = sched_jobs_for_fds(s->opts.jobs, (long)rl.rlim_cur, fds_in_use(),
                                per_node);
  if (jobs == s->opts.jobs)
    return;
  if (s->h->notice) {
    char msg[256];
    snprintf(msg, sizeof msg,
             "-j %d lowered to %d: only %ld file descriptors (ulimit -n)",
             s->opts.jobs, jobs, (long)rl.rlim_cur);
    s->h->notice(s->h->ctx, msg);
  }
  s->opts.jobs = jobs;
}

int sched_run(uv_loop_t *loop, const pipec_pipeline *p, const bool *in_plan,
              const sched_opts *opts, const sched_hooks *hooks,
              sched_status *status, sched_summary *summary) {
  uint32_t n = p->n_nodes;
  sched s = {.loop = loop, .p = p, .in_plan = in_plan, .opts = *opts,
             .h = hooks, .sum = summary, .stop_node = PIPEC_NONE};
  memset(summary, 0, sizeof *summary);
  if (!s.opts.kinds)
    s.opts.kinds = tgt_builtin_kinds();
  if (s.opts.jobs <= 0)
    s.opts.jobs = (int)uv_available_parallelism();
  if (s.opts.backoff_s <= 0)
    s.opts.backoff_s = 1.0;
  size_t n1 = (size_t)n + 1;
  uint32_t n_edges = 0;
  for (uint32_t i = 0; i < n; i++)
    n_edges += p->nodes[i].n_inputs;
  s.status = calloc(n1, sizeof *s.status);
  s.left = calloc(n1, sizeof *s.left);
  s.prio = calloc(n1, sizeof *s.prio);
  s.attempts = calloc(n1, sizeof *s.attempts);
  s.job = calloc(n1, sizeof *s.job);
  s.target = calloc(n1, sizeof *s.target);
  s.slots = calloc(n1, sizeof *s.slots);
  s.timed_out = calloc(n1, sizeof *s.timed_out);
  s.cons_off = calloc(n1 + 1, sizeof *s.cons_off);
  s.cons = calloc((size_t)n_edges + 1, sizeof *s.cons);
  s.gpus = calloc(n1, sizeof *s.gpus);
  s.deferred = calloc(n1, sizeof *s.deferred);
  s.memory = calloc(n1, sizeof *s.memory);
  /* per node for the groups only when they are enforced: a pipeline of a
   * million nodes pays nothing for them otherwise */
  size_t ng = s.opts.groups ? n1 : 1;
  s.share = calloc(ng, sizeof *s.share);
  s.gnext = calloc(ng, sizeof *s.gnext);
  s.in_gq = calloc(ng, sizeof *s.in_gq);
  s.held_share = calloc(ng, sizeof *s.held_share);
  uint32_t nq = p->n_quotas ? p->n_quotas : 1;
  s.ghead = malloc(nq * sizeof *s.ghead);
  s.gtail = calloc(nq, sizeof *s.gtail);
  s.g_said = calloc(nq, sizeof *s.g_said);
  s.g_held = calloc(nq, sizeof *s.g_held);
  if (!s.memory || !s.share || !s.gnext || !s.in_gq || !s.ghead || !s.gtail ||
      !s.g_said || !s.g_held || !s.held_share)
    abort();
  for (uint32_t g = 0; g < nq; g++)
    s.ghead[g] = PIPEC_NONE;
  for (uint32_t i = 0; i < n; i++)
    s.memory[i] = p->nodes[i].resources.memory;
  s.waiter_head = malloc(n1 * sizeof *s.waiter_head);
  s.waiter_next = malloc(n1 * sizeof *s.waiter_next);
  if (!s.waiter_head || !s.waiter_next)
    abort();
  for (size_t i = 0; i < n1; i++)
    s.waiter_head[i] = PIPEC_NONE;
  uint32_t nt = p->n_targets ? p->n_targets : 1;
  s.kind = calloc(nt, sizeof *s.kind);
  s.quotas = calloc(nt, sizeof *s.quotas);
  s.parked = calloc(nt, sizeof *s.parked);
  s.park_head = calloc(nt, sizeof *s.park_head);
  s.park_n = calloc(nt, sizeof *s.park_n);
  s.ready = calloc(nt, sizeof *s.ready);
  s.ready_n = calloc(nt, sizeof *s.ready_n);
  s.gq_n = calloc(nt, sizeof *s.gq_n);
  if (!s.status || !s.left || !s.prio || !s.attempts || !s.job || !s.target ||
      !s.slots || !s.timed_out || !s.cons_off || !s.cons ||
      !s.gpus || !s.deferred || !s.kind || !s.quotas || !s.parked || !s.park_head || !s.park_n ||
      !s.ready || !s.ready_n || !s.gq_n)
    abort();
  uv_timer_init(loop, &s.gtimer);
  s.gtimer.data = &s;
  for (uint32_t t = 0; t < p->n_targets; t++) {
    s.kind[t] = tgt_kinds_find(s.opts.kinds, p->targets[t].kind);
    quota_init(&s.quotas[t], s.kind[t], &p->targets[t]);
    s.parked[t] = calloc(n1, sizeof *s.parked[t]);
    s.ready[t] = calloc(n1, sizeof *s.ready[t]);
    if (!s.parked[t] || !s.ready[t])
      abort();
  }

  /* consumers in CSR form; a node reading two ports of one producer counts
   * it twice in both `left` and `cons`, which balances out (inputs that
   * are no node's output, source files, wait for nothing) */
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
      if (p->nodes[i].inputs[k].producer != PIPEC_NONE)
        s.cons_off[p->nodes[i].inputs[k].producer + 1]++;
  for (uint32_t i = 0; i < n; i++)
    s.cons_off[i + 1] += s.cons_off[i];
  uint32_t *fill = calloc(n1, sizeof *fill);
  if (!fill)
    abort();
  for (uint32_t i = 0; i < n; i++)
    for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++) {
      uint32_t prod = p->nodes[i].inputs[k].producer;
      if (prod != PIPEC_NONE)
        s.cons[s.cons_off[prod] + fill[prod]++] = i;
    }
  free(fill);
  compute_prio(&s);
  fit_fds(&s);
  for (uint32_t i = 0; i < n; i++) {
    if (!in_plan[i])
      continue;
    for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++) {
      uint32_t prod = p->nodes[i].inputs[k].producer;
      if (prod != PIPEC_NONE && in_plan[prod])
        s.left[i]++;
    }
    if (s.left[i] == 0)
      heap_push(&s, i);
  }

  if (s.opts.handle_signals) {
    uv_signal_init(loop, &s.sigint);
    uv_signal_init(loop, &s.sigterm);
    s.sigint.data = s.sigterm.data = &s;
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    s.signals_open = true;
  }
  if (hooks->begin)
    hooks->begin(hooks->ctx, &s);
  pump(&s);
  int rc = uv_run(loop, UV_RUN_DEFAULT);
  if (s.signals_open) { /* nothing was ever started */
    uv_close((uv_handle_t *)&s.sigint, NULL);
    uv_close((uv_handle_t *)&s.sigterm, NULL);
  }
  uv_close((uv_handle_t *)&s.gtimer, NULL);
  uv_run(loop, UV_RUN_DEFAULT);
  for (uint32_t i = 0; s.opts.groups && i < n; i++) /* (none is left) */
    give_share(&s, i);

  /* whatever never started: skipped (or cancelled, on Ctrl-C) */
  for (uint32_t i = 0; i < n; i++)
    if (in_plan[i] && s.status[i] == SCHED_PENDING) {
      sched_status st = s.interrupted ? SCHED_CANCELLED : SCHED_SKIPPED;
      s.status[i] = st;
      summary->count[st]++;
      if (hooks->settled)
        hooks->settled(hooks->ctx, i, st, 0,
                       s.interrupted ? "interrupted" : "the run stopped");
    }
  summary->interrupted = s.interrupted;
  if (status)
    memcpy(status, s.status, n * sizeof *status);
  free(s.status);
  free(s.left);
  free(s.waiter_head);
  free(s.waiter_next);
  free(s.prio);
  free(s.attempts);
  free(s.job);
  free(s.target);
  free(s.slots);
  free(s.timed_out);
  free(s.cons_off);
  free(s.cons);
  for (uint32_t t = 0; t < p->n_targets; t++) {
    free(s.parked[t]);
    free(s.ready[t]);
  }
  free(s.parked);
  free(s.ready);
  free(s.ready_n);
  free(s.park_head);
  free(s.park_n);
  free(s.quotas);
  free(s.kind);
  free(s.gpus);
  free(s.deferred);
  free(s.memory);
  free(s.share);
  free(s.gnext);
  free(s.in_gq);
  free(s.ghead);
  free(s.gtail);
  free(s.g_said);
  free(s.g_held);
  free(s.held_share);
  free(s.gq_n);
  return rc < 0 ? rc : 0;
}

/*
 * test_scheduler.c — the scheduler (engine/scheduler.c) on the scripted
 * fake targets of tests/fake_target.h: critical-path order, -j, quotas,
 * per-target queues, retries with backoff, keep-going, fail-fast with a
 * retry pending, Ctrl-C, a node that finds no file descriptor left, -j
 * lowered to RLIMIT_NOFILE, a node whose prepare says "not yet"
 * (SCHED_PENDING: it waits for another run) until it is woken, quota
 * groups shared with another run (a second qgroup set in the same
 * directory), and memory that grows on retry after an attempt ran out of
 * it.
 *
 * Pipelines are compiled from text with the fake kinds added to the
 * built-in table (the same mechanism a new kind uses); the hooks stand in
 * for the runner: an attempt succeeds when it exits 0.
 */
#include "check.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fake_target.h"
#include "pipec/compiler.h"
#include "pipec/stdlib.h"
#include "qgroup.h"
#include "scheduler.h"

typedef struct harness {
  uv_loop_t loop;
  tgt_kinds kinds;
  pipec_pipeline *p;
  tgt **targets;             /* per pipeline target, opened on first use */
  tgt_job *jobs;             /* per node */
  sched_status *status;
  int *attempts;
  char **message;
  char started[2048];        /* node names, in the order they started */
  bool sigint_at_failure;    /* raise SIGINT when an attempt first fails */
  int notices;
  char notice[512];
  char memory[1024];         /* "node=MiB" per attempt, in start order */
  sched_summary sum;
  sched *s;                  /* while sched_run runs */
  uv_timer_t wake;           /* wakes the deferred node */
  uint32_t defer;            /* the node prepare defers once, or NONE */
  bool deferred;
} harness;

static const char *source;
/* run()'s deferred node: its name (NULL: none), and when it is woken */
static const char *defer_name;
static int defer_ms;

static void on_wake(uv_timer_t *t) {
  harness *H = t->data;
  sched_wake(H->s, H->defer);
}

static void h_begin(void *ctx, sched *s) {
  harness *H = ctx;
  H->s = s;
}
static const char *quota_source;   /* the quota file, or NULL */
/* Called on the loop before the scheduler runs (may be NULL). */
static void (*before_run)(uv_loop_t *loop);

static int read_mem(void *ctx, const char *path, char **text, size_t *len) {
  (void)ctx, (void)path;
  *len = strlen(source);
  *text = malloc(*len + 1);
  memcpy(*text, source, *len + 1);
  return 0;
}

static char *true_argv[] = {"true", NULL};

static sched_status h_prepare(void *ctx, uint32_t node, tgt_job **job,
                              tgt **target, char *err, size_t errlen) {
  harness *H = ctx;
  if (node == H->defer && !H->deferred) { /* another run has it, say */
    H->deferred = true;
    uv_timer_start(&H->wake, on_wake, (uint64_t)defer_ms, 0);
    return SCHED_PENDING;
  }
  uint32_t t = H->p->nodes[node].target;
  if (!H->targets[t] && tgt_open(&H->loop, &H->kinds, &H->p->targets[t],
                                 &H->targets[t], err, errlen) != 0)
    return SCHED_FAILED;
  H->jobs[node] = (tgt_job){.node_name = H->p->nodes[node].name,
                            .argv = true_argv,
                            .log_path = "/dev/null",
                            .res = H->p->nodes[node].resources,
                            .node = node};
  *job = &H->jobs[node];
  *target = H->targets[t];
  return SCHED_RUNNING;
}

static void h_started(void *ctx, uint32_t node, tgt_job *job, int attempt) {
  harness *H = ctx;
  (void)attempt;
  size_t n = strlen(H->started);
  snprintf(H->started + n, sizeof H->started - n, "%s%s", n ? " " : "",
           H->p->nodes[node].name);
  n = strlen(H->memory);
  snprintf(H->memory + n, sizeof H->memory - n, "%s%s=%lld", n ? " " : "",
           H->p->nodes[node].name, (long long)(job->res.memory >> 20));
}

static sched_status h_attempt_done(void *ctx, uint32_t node, tgt_job *job,
                                   const tgt_result *r, int attempt,
                                   bool timed_out) {
  harness *H = ctx;
  (void)node, (void)job, (void)attempt;
  if (r->exit_code == 0 && !r->term_signal && !r->cancelled && !timed_out)
    return SCHED_SUCCEEDED;
  if (H->sigint_at_failure) {
    H->sigint_at_failure = false;
    kill(getpid(), SIGINT); /* libuv's handler takes it: Ctrl-C */
  }
  return SCHED_FAILED;
}

static void h_settled(void *ctx, uint32_t node, sched_status st, int attempts,
                      const char *message) {
  harness *H = ctx;
  if (node == H->defer)
    uv_timer_stop(&H->wake); /* settled while deferred: no wake needed */
  H->status[node] = st;
  H->attempts[node] = attempts;
  free(H->message[node]);
  H->message[node] = message ? strdup(message) : NULL;
}

static void h_notice(void *ctx, const char *message) {
  harness *H = ctx;
  H->notices++;
  snprintf(H->notice, sizeof H->notice, "%s", message);
}

/* Compile text with the fake kinds and run every node of it. */
static harness *run(const char *text, sched_opts opts, bool sigint) {
  harness *H = calloc(1, sizeof *H);
  CHECK(H != NULL);
  H->kinds = *tgt_builtin_kinds();
  CHECK_EQ(tgt_kinds_add(&H->kinds, &fake_kind), 0);
  CHECK_EQ(tgt_kinds_add(&H->kinds, &fake_remote_kind), 0);
  CHECK_EQ(tgt_kinds_add(&H->kinds, &fake_kind), -EEXIST);
  pipec_target_kinds schema = tgt_kinds_schema(&H->kinds);
  uint32_t n;
  const pipec_component_desc *const *items = pipec_stdlib_components(&n);
  pipec_registry reg = {.items = items, .n = n};
  pipec_compile_opts co = {.registry = &reg, .reader = read_mem,
                           .target_kinds = &schema,
                           .quota_path = "quotas.pipe",
                           .quota_text = quota_source,
                           .quota_len = quota_source ? strlen(quota_source)
                                                     : 0};
  source = text;
  pipec_diags d;
  pipec_diags_init(&d);
  H->p = pipec_compile("t.pipe", &co, &d);
  if (!H->p)
    pipec_diags_print(&d, stderr, false);
  CHECK(H->p != NULL);
  pipec_diags_free(&d);
  uint32_t nn = H->p->n_nodes;
  H->targets = calloc(H->p->n_targets, sizeof *H->targets);
  H->jobs = calloc(nn, sizeof *H->jobs);
  H->status = calloc(nn, sizeof *H->status);
  H->attempts = calloc(nn, sizeof *H->attempts);
  H->message = calloc(nn, sizeof *H->message);
  bool *plan = calloc(nn, sizeof *plan);
  for (uint32_t i = 0; i < nn; i++)
    plan[i] = true;
  H->sigint_at_failure = sigint;
  CHECK_EQ(uv_loop_init(&H->loop), 0);
  uv_timer_init(&H->loop, &H->wake);
  H->wake.data = H;
  H->defer = defer_name ? pipec_pipeline_node(H->p, defer_name) : PIPEC_NONE;
  opts.kinds = &H->kinds;
  if (opts.backoff_s <= 0)
    opts.backoff_s = 0.01;
  sched_hooks hooks = {.ctx = H,
                       .prepare = h_prepare,
                       .started = h_started,
                       .attempt_done = h_attempt_done,
                       .settled = h_settled,
                       .notice = h_notice,
                       .begin = h_begin};
  if (before_run)
    before_run(&H->loop);
  CHECK_EQ(sched_run(&H->loop, H->p, plan, &opts, &hooks, NULL, &H->sum), 0);
  H->s = NULL;
  free(plan);
  return H;
}

static void done(harness *H) {
  for (uint32_t t = 0; t < H->p->n_targets; t++)
    if (H->targets[t])
      H->targets[t]->ops->close(H->targets[t]);
  uv_close((uv_handle_t *)&H->wake, NULL);
  CHECK_EQ(uv_run(&H->loop, UV_RUN_DEFAULT), 0);
  CHECK_EQ(uv_loop_close(&H->loop), 0);
  for (uint32_t i = 0; i < H->p->n_nodes; i++)
    free(H->message[i]);
  free(H->message);
  free(H->attempts);
  free(H->status);
  free(H->jobs);
  free(H->targets);
  pipec_pipeline_free(H->p);
  free(H);
}

static uint32_t idx(const harness *H, const char *name) {
  uint32_t i = pipec_pipeline_node(H->p, name);
  CHECK(i != PIPEC_NONE);
  return i;
}

static sched_status status_of(const harness *H, const char *name) {
  return H->status[idx(H, name)];
}

static const tgt *target(const harness *H, const char *name) {
  for (uint32_t t = 0; t < H->p->n_targets; t++)
    if (strcmp(H->p->targets[t].name, name) == 0)
      return H->targets[t];
  CHECK(!"no such target");
  return NULL;
}

/* With one slot, the longest chain goes first: x1 (3 nodes below it,
 * itself included) before the lone s1 and s2 declared ahead of it; then
 * x2 before them too. Reversing the order makes this fail. */
static void test_critical_path(void) {
  harness *H = run("pipeline t {\n"
                   "  target f = fake { }\n"
                   "  node s1 = shell(command = \"x\") on f\n"
                   "  node s2 = shell(command = \"x\") on f\n"
                   "  node x1 = shell(command = \"x\") on f\n"
                   "  node x2 = shell(command = \"x\", i = x1.out) on f\n"
                   "  node x3 = shell(command = \"x\", i = x2.out) on f\n"
                   "  node y1 = shell(command = \"x\") on f\n"
                   "  node y2 = shell(command = \"x\", i = y1.out) on f\n"
                   "}\n",
                   (sched_opts){.jobs = 1}, false);
  CHECK_STREQ(H->started, "x1 x2 y1 s1 s2 x3 y2");
  CHECK_EQ(H->sum.count[SCHED_SUCCEEDED], 7);
  CHECK_EQ(fake_max_running(target(H, "f")), 1);
  done(H);
}

/* -j bounds the kinds that count against it; a target's own quota bounds
 * it further: slots, and cpus summed over running nodes. */
static void test_quotas(void) {
  harness *H = run(
      "pipeline t {\n"
      "  target f = fake { script = [\"a 5 ok\", \"b 5 ok\", \"c 5 ok\", "
      "\"d 5 ok\", \"e 5 ok\"] }\n"
      "  target s = fake_remote { slots = 2 }\n"
      "  target r = fake_remote { }\n"
      "  target c = fake_remote { cpus = 4 }\n"
      "  node a = shell(command = \"x\") on f\n"
      "  node b = shell(command = \"x\") on f\n"
      "  node c = shell(command = \"x\") on f\n"
      "  node d = shell(command = \"x\") on f\n"
      "  node e = shell(command = \"x\") on f\n"
      "  node s1 = shell(command = \"x\") on s\n"
      "  node s2 = shell(command = \"x\") on s\n"
      "  node s3 = shell(command = \"x\") on s\n"
      "  node s4 = shell(command = \"x\") on s\n"
      "  node r1 = shell(command = \"x\") on r\n"
      "  node r2 = shell(command = \"x\") on r\n"
      "  node r3 = shell(command = \"x\") on r\n"
      "  node r4 = shell(command = \"x\") on r\n"
      "  node r5 = shell(command = \"x\") on r\n"
      "  node r6 = shell(command = \"x\") on r\n"
      "  node c3 = shell(command = \"x\") on c { resources { cpus = 3 } }\n"
      "  node c1 = shell(command = \"x\") on c { resources { cpus = 1 } }\n"
      "  node c2 = shell(command = \"x\") on c { resources { cpus = 2 } }\n"
      "}\n",
      (sched_opts){.jobs = 2}, false);
  CHECK_EQ(H->sum.count[SCHED_SUCCEEDED], 18);
  CHECK_EQ(fake_max_running(target(H, "f")), 2);  /* -j 2 */
  CHECK_EQ(fake_max_running(target(H, "s")), 2);  /* slots = 2 */
  CHECK_EQ(fake_max_running(target(H, "r")), 4);  /* the kind's default */
  CHECK_EQ(fake_max_cpus(target(H, "c")), 4);     /* c3 + c1, never c2 too */
  done(H);
}

/* A full local-like target does not hold back a remote one: its nodes
 * start while -j's only slot is busy, each target in its own queue. */
static void test_per_target_queues(void) {
  harness *H = run("pipeline t {\n"
                   "  target f = fake { script = [\"long 30 ok\"] }\n"
                   "  target r = fake_remote { slots = 3 }\n"
                   "  node long = shell(command = \"x\") on f\n"
                   "  node next = shell(command = \"x\") on f\n"
                   "  node r1 = shell(command = \"x\") on r\n"
                   "  node r2 = shell(command = \"x\") on r\n"
                   "  node r3 = shell(command = \"x\") on r\n"
                   "}\n",
                   (sched_opts){.jobs = 1}, false);
  CHECK_STREQ(fake_trace(target(H, "f")), "start long, end long, start next, "
                                          "end next");
  CHECK_STREQ(H->started, "long r1 r2 r3 next");
  CHECK_EQ(fake_max_running(target(H, "r")), 3);
  done(H);
}

/* Retries wait 10 ms, then 20 ms (the backoff doubles); a node out of
 * retries fails with its last attempt's result. */
static void test_retries(void) {
  harness *H = run(
      "pipeline t {\n"
      "  target f = fake { script = [\"r 1 exit 1\", \"r 1 signal 9\", "
      "\"r 1 ok\", \"n 1 fail lost contact\"] }\n"
      "  node r = shell(command = \"x\") on f { retries = 2 }\n"
      "  node n = shell(command = \"x\") on f { retries = 1 }\n"
      "}\n",
      (sched_opts){.jobs = 4, .keep_going = true, .backoff_s = 0.01}, false);
  const tgt *f = target(H, "f");
  CHECK_EQ(status_of(H, "r"), SCHED_SUCCEEDED);
  CHECK_EQ(H->attempts[idx(H, "r")], 3);
  CHECK(fake_event_time(f, "start", "r", 1) - fake_event_time(f, "end", "r", 0)
        >= 10);
  CHECK(fake_event_time(f, "start", "r", 2) - fake_event_time(f, "end", "r", 1)
        >= 20);
  CHECK_EQ(status_of(H, "n"), SCHED_FAILED);
  CHECK_EQ(H->attempts[idx(H, "n")], 2);
  CHECK_STREQ(H->message[idx(H, "n")], "lost contact");
  done(H);
}

/* After a failure, keep-going finishes the independent branch; without
 * it nothing new starts. Downstream of the failure is skipped either way. */
static void test_keep_going(void) {
  const char *text = "pipeline t {\n"
                     "  target f = fake { script = [\"bad 5 exit 2\"] }\n"
                     "  node bad = shell(command = \"x\") on f\n"
                     "  node after = shell(command = \"x\", i = bad.out) on f\n"
                     "  node other = shell(command = \"x\") on f\n"
                     "}\n";
  harness *H = run(text, (sched_opts){.jobs = 1, .keep_going = true}, false);
  CHECK_EQ(status_of(H, "bad"), SCHED_FAILED);
  CHECK_EQ(status_of(H, "after"), SCHED_SKIPPED);
  CHECK_EQ(status_of(H, "other"), SCHED_SUCCEEDED);
  done(H);
  H = run(text, (sched_opts){.jobs = 1}, false);
  CHECK_EQ(status_of(H, "bad"), SCHED_FAILED);
  CHECK_EQ(status_of(H, "after"), SCHED_SKIPPED);
  CHECK_EQ(status_of(H, "other"), SCHED_SKIPPED);
  CHECK_STREQ(H->started, "bad");
  done(H);
}

/* Fail-fast while another node waits on its retry backoff: that retry is
 * not started, and the node says so as cancelled (not failed after one
 * attempt) at once, not when its 30 s backoff would have run out. */
static void test_stop_drops_pending_retry(void) {
  harness *H = run(
      "pipeline t {\n"
      "  target f = fake { script = [\"r 1 exit 1\", \"late 20 exit 3\"] }\n"
      "  node r = shell(command = \"x\") on f { retries = 2 }\n"
      "  node late = shell(command = \"x\") on f\n"
      "}\n",
      (sched_opts){.jobs = 2, .backoff_s = 30}, false);
  CHECK_EQ(status_of(H, "late"), SCHED_FAILED);
  CHECK_EQ(status_of(H, "r"), SCHED_CANCELLED);
  CHECK_EQ(H->attempts[idx(H, "r")], 1);
  CHECK_STREQ(H->message[idx(H, "r")],
              "run stopped after node 'late' failed; attempt 2 of 3 not "
              "started");
  CHECK_STREQ(fake_trace(target(H, "f")),
              "start r, start late, end r, end late");
  CHECK(!H->sum.interrupted);
  done(H);
}

/* Ctrl-C cancels what runs (done comes back cancelled) and a retry
 * waiting on its backoff; what was to run after them is skipped. */
static void test_cancel(void) {
  harness *H = run("pipeline t {\n"
                   "  target f = fake { script = [\"h1 0 hang\", \"h2 0 hang\","
                   " \"w 1 exit 1\"] }\n"
                   "  target r = fake_remote { script = [\"h3 0 hang\"] }\n"
                   "  node w = shell(command = \"x\") on f { retries = 3 }\n"
                   "  node h1 = shell(command = \"x\") on f\n"
                   "  node h2 = shell(command = \"x\") on f\n"
                   "  node h3 = shell(command = \"x\") on r\n"
                   "  node never = shell(command = \"x\", i = h1.out) on f\n"
                   "}\n",
                   (sched_opts){.jobs = 3, .handle_signals = true,
                                .backoff_s = 30},
                   true);
  CHECK(H->sum.interrupted);
  CHECK_EQ(status_of(H, "h1"), SCHED_CANCELLED);
  CHECK_EQ(status_of(H, "h2"), SCHED_CANCELLED);
  CHECK_EQ(status_of(H, "h3"), SCHED_CANCELLED);
  CHECK_EQ(status_of(H, "w"), SCHED_CANCELLED);
  CHECK_STREQ(H->message[idx(H, "w")], "interrupted before its retry");
  CHECK_EQ(status_of(H, "never"), SCHED_SKIPPED); /* below a cancelled one */
  CHECK_STREQ(fake_trace(target(H, "r")), "start h3, cancel h3, end h3");
  done(H);
}

/* A submit that finds no file descriptor left while other nodes run waits
 * for one of them to end instead of failing (said once); with nothing
 * running it is an ordinary failed attempt. */
static void test_out_of_fds(void) {
  harness *H = run("pipeline t {\n"
                   "  target f = fake { script = [\"a 20 ok\", \"d 40 ok\","
                   " \"b 0 emfile\", \"b 0 emfile\", \"b 1 ok\"] }\n"
                   "  node a = shell(command = \"x\") on f\n"
                   "  node d = shell(command = \"x\") on f\n"
                   "  node b = shell(command = \"x\") on f\n"
                   "}\n",
                   (sched_opts){.jobs = 4}, false);
  CHECK_EQ(status_of(H, "b"), SCHED_SUCCEEDED);
  CHECK_EQ(H->attempts[idx(H, "b")], 1);
  CHECK_EQ(H->sum.count[SCHED_SUCCEEDED], 3);
  CHECK_STREQ(fake_trace(target(H, "f")),
              "start a, start d, emfile b, end a, emfile b, end d, start b, "
              "end b");
  CHECK_EQ(H->notices, 1);
  CHECK_STREQ(H->notice, "out of file descriptors (cannot open the log: Too "
                         "many open files): nodes wait for running ones to "
                         "end");
  done(H);
  H = run("pipeline t {\n"
          "  target f = fake { script = [\"a 0 emfile\"] }\n"
          "  node a = shell(command = \"x\") on f\n"
          "}\n",
          (sched_opts){.jobs = 4}, false);
  CHECK_EQ(status_of(H, "a"), SCHED_FAILED);
  CHECK_STREQ(H->message[idx(H, "a")],
              "cannot open the log: Too many open files");
  done(H);
}

/* -j is lowered to what the descriptor limit leaves room for. */
static void test_jobs_for_fds(void) {
  CHECK_EQ(sched_jobs_for_fds(32, 32, 10, 2), 7);  /* (32 - 10 - 8) / 2 */
  CHECK_EQ(sched_jobs_for_fds(4, 1024, 10, 2), 4);
  CHECK_EQ(sched_jobs_for_fds(8, 16, 10, 2), 1);   /* at least one */
  CHECK_EQ(sched_jobs_for_fds(8, 20, 10, 0), 8);   /* holds none */
  struct rlimit old, low;
  CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
  low = old;
  low.rlim_cur = 40;
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
  harness *H = run("pipeline t {\n"
                   "  target f = fake { }\n"
                   "  node a = shell(command = \"x\") on f\n"
                   "}\n",
                   (sched_opts){.jobs = 64}, false);
  CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
  CHECK_EQ(H->notices, 1);
  int lowered = 0;
  char rest[128] = "";
  CHECK_EQ(sscanf(H->notice, "-j 64 lowered to %d: %127[^\n]", &lowered,
                  rest), 2);
  CHECK(lowered >= 1 && lowered < 40 - 8);
  CHECK_STREQ(rest, "only 40 file descriptors (ulimit -n)");
  CHECK_EQ(status_of(H, "a"), SCHED_SUCCEEDED);
  done(H);
}

/* A node whose prepare says SCHED_PENDING waits without holding a slot:
 * with -j 1 the others run meanwhile; woken, it is prepared again and
 * runs, and its consumer after it. Without the wake the run would never
 * end (the test would hang), and a deferred node counted as running would
 * keep b from starting first. */
static void test_deferred(void) {
  defer_name = "d";
  defer_ms = 50;
  harness *H = run("pipeline t {\n"
                   "  target f = fake { }\n"
                   "  node d = shell(command = \"x\") on f\n"
                   "  node after = shell(command = \"x\", i = d.out) on f\n"
                   "  node b = shell(command = \"x\") on f\n"
                   "}\n",
                   (sched_opts){.jobs = 1}, false);
  defer_name = NULL;
  CHECK_EQ(status_of(H, "d"), SCHED_SUCCEEDED);
  CHECK_EQ(status_of(H, "after"), SCHED_SUCCEEDED);
  CHECK_EQ(status_of(H, "b"), SCHED_SUCCEEDED);
  CHECK_STREQ(H->started, "b d after");
  done(H);
}

/* A node still waiting when a failure stops the run settles skipped,
 * saying why, and so does what reads it; the run ends at once (a wake
 * 60 s away would keep it going otherwise). */
static void test_deferred_stop(void) {
  defer_name = "d";
  defer_ms = 60000;
  harness *H = run("pipeline t {\n"
                   "  target f = fake { script = [\"bad 0 exit 1\"] }\n"
                   "  node d = shell(command = \"x\") on f\n"
                   "  node after = shell(command = \"x\", i = d.out) on f\n"
                   "  node bad = shell(command = \"x\") on f\n"
                   "}\n",
                   (sched_opts){.jobs = 2}, false);
  defer_name = NULL;
  CHECK_EQ(status_of(H, "bad"), SCHED_FAILED);
  CHECK_EQ(status_of(H, "d"), SCHED_SKIPPED);
  CHECK_STREQ(H->message[idx(H, "d")],
              "the run stopped while it waited for the same work in another "
              "run");
  CHECK_EQ(status_of(H, "after"), SCHED_SKIPPED);
  done(H);
}

/* ---- quota groups ---------------------------------------------------------- */

static char qdir[64];

static qgroup_set *join_groups(const char *label) {
  qgroup_set *g = NULL;
  char err[256];
  CHECK_EQ(qgroup_open(qdir, label, &g, err, sizeof err), 0);
  return g;
}

static void groups_begin(const char *quotas) {
  snprintf(qdir, sizeof qdir, "/tmp/pipec-sched-q-XXXXXX");
  CHECK(mkdtemp(qdir));
  quota_source = quotas;
}

static void groups_end(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", qdir);
  CHECK(system(cmd) == 0);
  quota_source = NULL;
  before_run = NULL;
}

static qgroup_use group_use(void) {
  qgroup_use u;
  char err[256];
  CHECK_EQ(qgroup_usage(qdir, "team", &u, err, sizeof err), 0);
  return u;
}

/* Five 1-cpu nodes on a target with no quota, -j 8, drawing from a
 * group of cpus = 2 (their target's default): never more than 2 at once.
 * Without the group, all five run together. */
static void test_group_limit(void) {
  groups_begin("quota team on f default { cpus = 2 }\n");
  qgroup_set *g = join_groups("run 1");
  const char *text =
      "pipeline t {\n"
      "  target f = fake { script = [\"a 20 ok\", \"b 20 ok\", \"c 20 ok\", "
      "\"d 20 ok\", \"e 20 ok\"] }\n"
      "  node a = shell(command = \"x\") on f { resources { cpus = 1 } }\n"
      "  node b = shell(command = \"x\") on f { resources { cpus = 1 } }\n"
      "  node c = shell(command = \"x\") on f { resources { cpus = 1 } }\n"
      "  node d = shell(command = \"x\") on f { resources { cpus = 1 } }\n"
      "  node e = shell(command = \"x\") on f\n"
      "}\n";
  harness *H = run(text, (sched_opts){.jobs = 8, .groups = g}, false);
  CHECK_EQ(H->sum.count[SCHED_SUCCEEDED], 5);
  CHECK_EQ(fake_max_running(target(H, "f")), 2);
  CHECK_EQ(H->notices, 0); /* waiting for its own nodes is no news */
  CHECK_EQ(group_use().jobs, 0); /* every share given back */
  done(H);
  H = run(text, (sched_opts){.jobs = 8}, false); /* not enforced */
  CHECK_EQ(fake_max_running(target(H, "f")), 5);
  done(H);
  qgroup_close(g);
  groups_end();
}

/* Another run holds the whole group: this run's nodes wait (saying so
 * once), and start only after the other gives its share back; nodes of
 * no group do not wait. */
static qgroup_set *other_run;
static qgroup_share *other_share;
static int64_t released_at;
static uv_timer_t release_timer;

static void release_other(uv_timer_t *t) {
  released_at = (int64_t)uv_now(t->loop);
  qgroup_give(other_run, other_share);
  other_share = NULL;
  uv_close((uv_handle_t *)t, NULL);
}

static void start_release_timer(uv_loop_t *loop) {
  uv_timer_init(loop, &release_timer);
  uv_timer_start(&release_timer, release_other, 300, 0);
}

static void test_group_other_run(void) {
  groups_begin("quota team on f { cpus = 2 }\n");
  other_run = join_groups("run 1");
  pipec_quota team = {.name = "team", .target_name = "f", .cpus = 2,
                      .memory = -1, .gpus = -1, .jobs = -1};
  pipec_resources two = {.cpus = 2};
  char err[256];
  CHECK_EQ(qgroup_take(other_run, &team, &two, "big", &other_share, err,
                       sizeof err), QGROUP_TAKEN);
  qgroup_set *g = join_groups("run 2");
  before_run = start_release_timer;
  harness *H = run(
      "pipeline t {\n"
      "  target f = fake { script = [\"a 5 ok\", \"b 5 ok\", \"free 5 ok\"] }\n"
      "  node a = shell(command = \"x\") on f { quota = team }\n"
      "  node b = shell(command = \"x\") on f { quota = team }\n"
      "  node free = shell(command = \"x\") on f\n"
      "}\n",
      (sched_opts){.jobs = 4, .groups = g}, false);
  CHECK_EQ(H->sum.count[SCHED_SUCCEEDED], 3);
  const tgt *f = target(H, "f");
  CHECK(fake_event_time(f, "start", "free", 0) < released_at);
  CHECK(fake_event_time(f, "start", "a", 0) >= released_at);
  CHECK(fake_event_time(f, "start", "b", 0) >= released_at);
  CHECK_EQ(H->notices, 1);
  CHECK(strstr(H->notice, "waits for quota group 'team'") != NULL);
  done(H);
  qgroup_close(g);
  qgroup_close(other_run);
  groups_end();
}

/* Fail-fast while nodes wait for a group another run holds: they are
 * skipped, the run ends (no hang on the poll timer) and leaves no waiter
 * behind. */
static void test_group_stop(void) {
  groups_begin("quota team on f { cpus = 1 }\n");
  other_run = join_groups("run 1");
  pipec_quota team = {.name = "team", .target_name = "f", .cpus = 1,
                      .memory = -1, .gpus = -1, .jobs = -1};
  pipec_resources one = {.cpus = 1};
  qgroup_share *held = NULL;
  char err[256];
  CHECK_EQ(qgroup_take(other_run, &team, &one, "x", &held, err, sizeof err),
           QGROUP_TAKEN);
  qgroup_set *g = join_groups("run 2");
  harness *H = run(
      "pipeline t {\n"
      "  target f = fake { script = [\"bad 30 exit 1\"] }\n"
      "  node a = shell(command = \"x\") on f { quota = team }\n"
      "  node b = shell(command = \"x\") on f { quota = team }\n"
      "  node bad = shell(command = \"x\") on f\n"
      "}\n",
      (sched_opts){.jobs = 4, .groups = g}, false);
  CHECK_EQ(status_of(H, "bad"), SCHED_FAILED);
  CHECK_EQ(status_of(H, "a"), SCHED_SKIPPED);
  CHECK_EQ(status_of(H, "b"), SCHED_SKIPPED);
  CHECK_EQ(group_use().waiting, 0);
  CHECK_EQ(group_use().jobs, 1); /* the other run's */
  done(H);
  qgroup_close(g);
  qgroup_close(other_run);
  groups_end();
}

/* Killed for memory: each retry asks for twice the memory, up to the
 * target's 300M; another failure retries with the same request. */
static void test_memory_growth(void) {
  harness *H = run(
      "pipeline t {\n"
      "  target f = fake { memory = \"300M\", script = [\"big 5 oom\", "
      "\"big 5 oom\", \"big 5 oom\", \"big 5 ok\", \"other 5 exit 1\", "
      "\"other 5 ok\", \"flat 5 oom\", \"flat 5 ok\"] }\n"
      "  node big = shell(command = \"x\") on f {\n"
      "    resources { memory = \"100M\" }\n"
      "    retries = 3, memory_growth = 2.0\n"
      "  }\n"
      "  node other = shell(command = \"x\", i = big.out) on f {\n"
      "    resources { memory = \"100M\" }\n"
      "    retries = 1, memory_growth = 2.0\n"
      "  }\n"
      "  node flat = shell(command = \"x\", i = other.out) on f {\n"
      "    resources { memory = \"100M\" }\n"
      "    retries = 1\n"
      "  }\n"
      "}\n",
      (sched_opts){.jobs = 1}, false);
  CHECK_EQ(H->sum.count[SCHED_SUCCEEDED], 3);
  CHECK_STREQ(H->memory, "big=100 big=200 big=300 big=300 other=100 "
                         "other=100 flat=100 flat=100");
  CHECK_EQ(H->attempts[idx(H, "big")], 4);
  done(H);
}

int main(void) {
  RUN(test_critical_path);
  RUN(test_quotas);
  RUN(test_per_target_queues);
  RUN(test_retries);
  RUN(test_keep_going);
  RUN(test_stop_drops_pending_retry);
  RUN(test_cancel);
  RUN(test_out_of_fds);
  RUN(test_jobs_for_fds);
  RUN(test_deferred);
  RUN(test_deferred_stop);
  RUN(test_group_limit);
  RUN(test_group_other_run);
  RUN(test_group_stop);
  RUN(test_memory_growth);
  return 0;
}

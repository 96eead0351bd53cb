/*
 * tgt_slurm.c — the Slurm target: each job is one batch job.
 *
 * submit() writes a small batch script next to the node's log and hands it
 * to `sbatch --parsable`; the Slurm job id becomes the node's job id. One
 * `squeue` call per poll interval asks for the state of every job of the
 * target at once. The script records the command's exit code in a file
 * beside the log, so the result does not depend on Slurm accounting
 * (sacct needs slurmdbd, which many small clusters do not run). Cancel is
 * `scancel`; a job cancelled, timed out or killed by Slurm itself ends as a
 * failed attempt with Slurm's own word for it.
 *
 * sbatch, squeue and scancel run as helpers on the loop (subproc.h): a
 * slow controller never stalls the scheduler, the status line or Ctrl-C.
 * A job is `submitting` until sbatch has answered with its id (then the
 * runner hears it has started); a cancel meanwhile is sent once the id is
 * known. One poll (its squeue calls one after another) runs at a time.
 *
 * The workspace (objects, scratch, logs) and the pipeline's directory must
 * be on a filesystem the cluster's nodes share, at the same path.
 *
 * Memory: Slurm enforces --mem (with its cgroups); a job it killed for it
 * ends OUT_OF_MEMORY, which marks the attempt as killed for memory. The
 * script runs the command under `pipec measure` when this pipec is there
 * (the same path, shared, as for built-ins), whose report beside the log
 * gives the peak whether or not Slurm keeps accounting.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "measure.h"
#include "selfexe.h"
#include "shbuf.h"
#include "subproc.h"
#include "target.h"
#include "units.h"

#define SLURM_POLL_MS 1000      /* between squeue calls ... */
#define SLURM_POLL_FAST_MS 250  /* ... while a job is younger than: */
#define SLURM_YOUNG_MS 10000    /* short jobs end soon after they start */
#define SLURM_CALL_MS 30000     /* deadline of one sbatch/squeue/scancel */
#define SLURM_LOST_MS 120000    /* squeue failing this long fails the jobs */
#define SLURM_RC_WAIT_POLLS 5   /* a shared fs may show the rc file late */
#define SLURM_IDS_PER_CALL 500  /* keeps squeue's argv short */

typedef struct slurm_target slurm_target;

typedef struct slurm_job {
  slurm_target *st;
  tgt_job *job;
  char *script, *rcfile, *memfile;
  bool cancel_wanted;        /* cancel() was called (maybe before the id) */
  bool in_call;              /* part of the squeue call under way */
  unsigned polled;           /* the last poll round that asked about it */
  int rc_waits;              /* polls spent waiting for the rc file */
  struct slurm_job *next;
} slurm_job;

struct slurm_target {
  tgt base;
  uv_timer_t timer;
  slurm_job *jobs;           /* submitted, with an id */
  bool polling;              /* a poll's squeue calls are under way */
  unsigned poll_round;
  int64_t failing_since;     /* first failed squeue of a failing streak, ms */
  int64_t last_submit;       /* ms */
  char last_error[256];
};

static int64_t now_ms(void) { return (int64_t)(uv_hrtime() / 1000000); }

/* ---- the batch script ---------------------------------------------------- */

static char *script_text(const tgt_job *job, char *const *argv,
                         const char *rcfile, const char *memfile) {
  shbuf b = {0};
  shbuf_add(&b, "#!/bin/sh\n# pipec: node ");
  shbuf_add(&b, job->node_name);
  shbuf_add(&b, "\n");
  for (char **e = job->env; e && *e; e++) {
    size_t k = strcspn(*e, "=");
    char key[256];
    snprintf(key, sizeof key, "%.*s", (int)k, *e);
    shbuf_add(&b, "export ");
    shbuf_add(&b, key);
    shbuf_add(&b, "=");
    shbuf_quote(&b, (*e)[k] ? *e + k + 1 : "");
    shbuf_add(&b, "\n");
  }
  shbuf_add(&b, "cd ");
  shbuf_quote(&b, job->cwd);
  shbuf_add(&b, " || exit 125\nset --");
  for (char *const *a = argv; *a; a++) {
    shbuf_add(&b, " ");
    shbuf_quote(&b, *a);
  }
  shbuf_add(&b, "\n");
  char self[4096];
  self_pipec_exe(self, sizeof self);
  shbuf reportw = {0};
  shbuf_quote(&reportw, memfile);
  measure_sh_prefix(&b, self, 0, reportw.s); /* Slurm enforces --mem */
  free(reportw.s);
  shbuf_add(&b, "\n\"$@\" </dev/null\nrc=$?\necho \"$rc\" > ");
  shbuf_quote(&b, rcfile);
  shbuf_add(&b, ".tmp && mv -f ");
  shbuf_quote(&b, rcfile);
  shbuf_add(&b, ".tmp ");
  shbuf_quote(&b, rcfile);
  shbuf_add(&b, "\nexit \"$rc\"\n");
  return b.s;
}

static int write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f)
    return -errno;
  fputs(text, f);
  int bad = ferror(f);
  if (fclose(f) != 0 || bad)
    return -EIO;
  return 0;
}

/* ---- sbatch arguments ---------------------------------------------------- */

/* A growing argv; every word is owned. */
typedef struct argv_b {
  char **v;
  size_t n, cap;
} argv_b;

static void arg_own(argv_b *a, char *s) {
  if (a->n + 2 > a->cap) {
    a->cap = a->cap ? a->cap * 2 : 32;
    a->v = realloc(a->v, a->cap * sizeof *a->v);
    if (!a->v)
      abort();
  }
  a->v[a->n++] = s;
  a->v[a->n] = NULL;
}

static void arg(argv_b *a, const char *s) {
  char *d = strdup(s);
  if (!d)
    abort();
  arg_own(a, d);
}

static void argf(argv_b *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void argf(argv_b *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0)
    abort();
  va_end(ap);
  arg_own(a, s);
}

static void argv_free(argv_b *a) {
  for (size_t i = 0; i < a->n; i++)
    free(a->v[i]);
  free(a->v);
}

static const pipec_opt *opt(const tgt *t, const char *key) {
  return pipec_target_opt(t->decl, key);
}

/* Slurm's time format: minutes, or D-HH:MM:SS. */
static void slurm_time(int64_t s, char *buf, size_t len) {
  snprintf(buf, len, "%lld-%02lld:%02lld:%02lld", (long long)(s / 86400),
           (long long)(s % 86400 / 3600), (long long)(s % 3600 / 60),
           (long long)(s % 60));
}

static void build_sbatch(const tgt *t, const tgt_job *job, const char *script,
                         argv_b *a) {
  arg(a, "sbatch");
  arg(a, "--parsable");
  argf(a, "--job-name=pipec:%s", job->node_name);
  argf(a, "--output=%s", job->log_path);
  arg(a, "--open-mode=append");
  argf(a, "--chdir=%s", job->cwd);
  const char *keys[] = {"partition", "account", "qos"};
  for (size_t i = 0; i < 3; i++) {
    const pipec_opt *o = opt(t, keys[i]);
    if (o && o->value.type == PIPEC_T_STRING)
      argf(a, "--%s=%s", keys[i], o->value.u.s);
  }
  int64_t secs = job->res.time_s;
  const pipec_opt *tm = opt(t, "time");
  if (!secs && tm && tm->value.type == PIPEC_T_INT)
    secs = tm->value.u.i;
  if (!secs && tm && tm->value.type == PIPEC_T_STRING)
    units_duration(tm->value.u.s, &secs);
  if (secs > 0) {
    char buf[64];
    slurm_time(secs, buf, sizeof buf);
    argf(a, "--time=%s", buf);
  }
  if (job->res.cpus > 0)
    argf(a, "--cpus-per-task=%lld", (long long)job->res.cpus);
  if (job->res.memory > 0) /* in MiB, rounded up: Slurm's unit */
    argf(a, "--mem=%lldM", (long long)((job->res.memory + (1 << 20) - 1) >>
                                       20));
  if (job->res.gpus > 0)
    argf(a, "--gres=gpu:%lld", (long long)job->res.gpus);
  const pipec_opt *ex = opt(t, "extra");
  /* a string is split at blanks ("--exclusive --constraint=avx2"); a list
   * passes each item as one flag, spaces and all */
  for (const char *p = ex && ex->value.type == PIPEC_T_STRING ? ex->value.u.s
                                                               : "";
       *p;) {
    size_t n = strcspn(p, " \t");
    if (n)
      argf(a, "%.*s", (int)n, p);
    p += n;
    p += strspn(p, " \t");
  }
  for (uint32_t i = 0;
       ex && ex->value.type == PIPEC_T_LIST && i < ex->value.u.list.n; i++)
    if (ex->value.u.list.items[i].type == PIPEC_T_STRING)
      arg(a, ex->value.u.list.items[i].u.s);
  arg(a, script);
}

/* First line of s, trimmed, for messages. */
static void first_line(const char *s, char *buf, size_t len) {
  while (*s == ' ' || *s == '\n')
    s++;
  snprintf(buf, len, "%.*s", (int)strcspn(s, "\n"), s);
  if (!buf[0])
    snprintf(buf, len, "(no message)");
}

/* ---- finishing ----------------------------------------------------------- */

static void unlink_job(slurm_target *st, slurm_job *sj) {
  for (slurm_job **p = &st->jobs; *p; p = &(*p)->next)
    if (*p == sj) {
      *p = sj->next;
      break;
    }
  if (!st->jobs)
    uv_timer_stop(&st->timer);
}

static void job_free(slurm_job *sj) {
  unlink(sj->script);
  unlink(sj->rcfile);
  unlink(sj->memfile);
  free(sj->script);
  free(sj->rcfile);
  free(sj->memfile);
  free(sj);
}

static void finish(slurm_target *st, slurm_job *sj, tgt_result *r) {
  unlink_job(st, sj);
  tgt_job *job = sj->job;
  job_free(sj);
  job->tdata = NULL;
  job->done(job, r);
}

/* The command's exit code from the rc file; -1 if it is not there. */
static int read_rc(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f)
    return -1;
  int rc = -1;
  if (fscanf(f, "%d", &rc) != 1)
    rc = -1;
  fclose(f);
  return rc;
}

static bool is_terminal(const char *state) {
  static const char *const ends[] = {
      "COMPLETED", "FAILED",    "CANCELLED",     "TIMEOUT",
      "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",     "DEADLINE",
      "OUT_OF_MEMORY", "REVOKED", "SPECIAL_EXIT"};
  for (size_t i = 0; i < sizeof ends / sizeof ends[0]; i++)
    if (strcmp(state, ends[i]) == 0)
      return true;
  return false;
}

static const char *state_words(const char *state) {
  if (strcmp(state, "CANCELLED") == 0)
    return "was cancelled outside pipec (scancel, or an administrator)";
  if (strcmp(state, "TIMEOUT") == 0)
    return "hit its time limit (resources time, or the target's time)";
  if (strcmp(state, "OUT_OF_MEMORY") == 0)
    return "ran out of memory (resources memory)";
  if (strcmp(state, "NODE_FAIL") == 0)
    return "lost its compute node";
  if (strcmp(state, "PREEMPTED") == 0)
    return "was preempted";
  return "ended";
}

/* A job that left the queue, or reached a final state (state "" if Slurm
 * no longer knows it). Returns false to ask again at the next poll. */
static bool settle(slurm_target *st, slurm_job *sj, const char *state) {
  tgt_result r = {0};
  r.cancelled = sj->cancel_wanted;
  int rc = read_rc(sj->rcfile);
  bool ran_out = !strcmp(state, "") || !strcmp(state, "COMPLETED") ||
                 !strcmp(state, "FAILED");
  if (rc < 0 && ran_out && !sj->cancel_wanted &&
      sj->rc_waits++ < SLURM_RC_WAIT_POLLS)
    return false;
  if (rc >= 0 && ran_out) {
    r.exit_code = rc > 128 && rc < 160 ? 0 : rc;
    r.term_signal = rc > 128 && rc < 160 ? rc - 128 : 0;
  } else if (!sj->cancel_wanted) {
    r.exit_code = 1;
    if (state[0] && ran_out)
      snprintf(r.message, sizeof r.message,
               "Slurm job %s ended (state %s) but left no exit code in %s: "
               "is the workspace on a filesystem the cluster's nodes share?",
               sj->job->job_id, state, sj->rcfile);
    else if (state[0])
      snprintf(r.message, sizeof r.message, "Slurm job %s %s (state %s)",
               sj->job->job_id, state_words(state), state);
    else
      snprintf(r.message, sizeof r.message,
               "Slurm job %s left the queue without a result (the batch "
               "script did not finish; see the node's log)",
               sj->job->job_id);
  }
  measure_report mr;
  if (measure_read(sj->memfile, &mr))
    r.peak_memory = mr.peak;
  r.out_of_memory = !sj->cancel_wanted &&
                    (strcmp(state, "OUT_OF_MEMORY") == 0 || mr.oom);
  if (sj->job->container)
    ctr_judge_memory(sj->job, &r);
  finish(st, sj, &r);
  return true;
}

/* ---- polling ------------------------------------------------------------- */

static void on_poll(uv_timer_t *timer);
static void poll_next(slurm_target *st);

/* Poll quickly while some job is young, then once a second: a short job's
 * end is seen at once, and a long run costs the controller one squeue a
 * second. */
static void arm(slurm_target *st) {
  bool young = now_ms() - st->last_submit < SLURM_YOUNG_MS;
  uv_timer_start(&st->timer, on_poll, young ? SLURM_POLL_FAST_MS
                                            : SLURM_POLL_MS, 0);
}

/* The end of a poll: give up on a controller lost for too long, and wait
 * for the next one. */
static void poll_end(slurm_target *st) {
  st->polling = false;
  if (st->failing_since && now_ms() - st->failing_since > SLURM_LOST_MS) {
    while (st->jobs) {
      tgt_result r = {.exit_code = 1};
      snprintf(r.message, sizeof r.message,
               "lost contact with Slurm for %d s (squeue: %s); job %s may "
               "still be in the queue",
               SLURM_LOST_MS / 1000, st->last_error, st->jobs->job->job_id);
      finish(st, st->jobs, &r);
    }
    st->failing_since = 0;
  }
  if (st->jobs)
    arm(st);
}

/* squeue has answered for the jobs marked in_call. */
static void on_squeue(const subproc_out *o, void *data) {
  slurm_target *st = data;
  /* an id Slurm has forgotten makes squeue fail when it is the only one */
  bool unknown = o->status != 0 && strstr(o->err, "Invalid job id");
  bool failed = o->status != 0 && !unknown;
  if (failed) {
    if (!st->failing_since)
      st->failing_since = now_ms();
    first_line(o->timed_out ? "squeue timed out" : o->err, st->last_error,
               sizeof st->last_error);
  } else {
    st->failing_since = 0;
  }
  /* settling may start new jobs (added at the head, not in_call) */
  for (slurm_job *sj = st->jobs, *next; sj; sj = next) {
    next = sj->next;
    if (!sj->in_call)
      continue;
    sj->in_call = false;
    if (failed)
      continue;
    char state[64] = "";
    size_t idlen = strlen(sj->job->job_id);
    for (const char *line = o->out; *line;) {
      if (strncmp(line, sj->job->job_id, idlen) == 0 && line[idlen] == ' ') {
        sscanf(line + idlen + 1, "%63s", state);
        break;
      }
      line += strcspn(line, "\n");
      line += *line == '\n';
    }
    if (!state[0] || is_terminal(state))
      settle(st, sj, state);
  }
  poll_next(st);
}

/* One squeue call for up to SLURM_IDS_PER_CALL jobs not yet asked about
 * in this round; the round ends when none is left. */
static void poll_next(slurm_target *st) {
  shbuf ids = {0};
  shbuf_add(&ids, "");
  int k = 0;
  for (slurm_job *sj = st->jobs; sj && k < SLURM_IDS_PER_CALL; sj = sj->next)
    if (sj->polled != st->poll_round) {
      sj->polled = st->poll_round;
      sj->in_call = true;
      shbuf_add(&ids, ids.len ? "," : "");
      shbuf_add(&ids, sj->job->job_id);
      k++;
    }
  if (k == 0) {
    free(ids.s);
    poll_end(st);
    return;
  }
  char *argv[] = {"squeue", "--noheader", "--states=all",
                  "--format=%i %T", "--jobs", ids.s, NULL};
  char err[256];
  int rc = subproc_start(st->base.loop, argv, SLURM_CALL_MS, on_squeue, st,
                         err, sizeof err);
  free(ids.s);
  if (rc != 0) {
    for (slurm_job *sj = st->jobs; sj; sj = sj->next)
      sj->in_call = false;
    if (!st->failing_since)
      st->failing_since = now_ms();
    snprintf(st->last_error, sizeof st->last_error, "%s", err);
    poll_end(st);
  }
}

static void on_poll(uv_timer_t *timer) {
  slurm_target *st = timer->data;
  st->polling = true;
  st->poll_round++;
  poll_next(st);
}

/* ---- cancelling ----------------------------------------------------------- */

typedef struct scancel_call {
  char target[128];
  char id[64];
} scancel_call;

static void on_scancel(const subproc_out *o, void *data) {
  scancel_call *c = data;
  if (o->status != 0) {
    char line[256];
    first_line(o->timed_out ? "no answer in 30 s" : o->err, line,
               sizeof line);
    fprintf(stderr, "pipec: target '%s': scancel %s failed: %s\n", c->target,
            c->id, line);
  }
  free(c);
}

/* Slurm itself sends SIGTERM, then SIGKILL after its KillWait; the poll
 * sees the job leave. */
static void send_scancel(slurm_target *st, slurm_job *sj) {
  scancel_call *c = calloc(1, sizeof *c);
  if (!c)
    abort();
  snprintf(c->target, sizeof c->target, "%s", st->base.decl->name);
  snprintf(c->id, sizeof c->id, "%s", sj->job->job_id);
  char *argv[] = {"scancel", c->id, NULL};
  char err[256];
  if (subproc_start(st->base.loop, argv, SLURM_CALL_MS, on_scancel, c, err,
                    sizeof err) != 0) {
    fprintf(stderr, "pipec: target '%s': scancel %s failed: %s\n", c->target,
            c->id, err);
    free(c);
  }
}

/* ---- submitting ----------------------------------------------------------- */

/* sbatch has answered: the job id, or why not. */
static void on_sbatch(const subproc_out *o, void *data) {
  slurm_job *sj = data;
  slurm_target *st = sj->st;
  tgt_job *job = sj->job;
  tgt_result r = {.exit_code = 127}; /* it could not start */
  size_t n = strcspn(o->out, ";\n ");
  if (o->status != 0) {
    char line[512];
    first_line(o->timed_out ? "no answer in 30 s" : o->err, line,
               sizeof line);
    snprintf(r.message, sizeof r.message, "target '%s': sbatch failed: %.400s",
             st->base.decl->name, line);
  } else if (n == 0 || n >= sizeof job->job_id) {
    snprintf(r.message, sizeof r.message,
             "target '%s': sbatch printed no job id", st->base.decl->name);
  } else {
    snprintf(job->job_id, sizeof job->job_id, "%.*s", (int)n, o->out);
    sj->next = st->jobs;
    st->jobs = sj;
    st->last_submit = now_ms();
    if (!st->polling && !uv_is_active((uv_handle_t *)&st->timer))
      arm(st);
    if (sj->cancel_wanted)
      send_scancel(st, sj);
    job->started(job);
    return;
  }
  r.cancelled = sj->cancel_wanted;
  job->tdata = NULL;
  job_free(sj);
  job->done(job, &r);
}

static int slurm_submit(tgt *t, tgt_job *job, char *err, size_t errlen) {
  slurm_target *st = (slurm_target *)t;
  slurm_job *sj = calloc(1, sizeof *sj);
  if (!sj || asprintf(&sj->script, "%s.sbatch", job->log_path) < 0 ||
      asprintf(&sj->rcfile, "%s.rc", job->log_path) < 0 ||
      asprintf(&sj->memfile, "%s.mem", job->log_path) < 0) {
    snprintf(err, errlen, "out of memory");
    abort();
  }
  sj->st = st;
  sj->job = job;
  unlink(sj->rcfile);
  /* a node with an image: the same command, in its container on the
   * cluster's node (the workspace is at the same path there) */
  char **cargv = NULL;
  if (job->container &&
      !(cargv = ctr_argv(job->container, job, job->argv, "", err, errlen))) {
    job_free(sj);
    return -EINVAL;
  }
  unlink(sj->memfile);
  char *text = script_text(job, cargv ? cargv : job->argv, sj->rcfile,
                           sj->memfile);
  ctr_argv_free(cargv);
  int rc = write_file(sj->script, text);
  free(text);
  if (rc != 0) {
    snprintf(err, errlen, "cannot write the batch script %s: %s", sj->script,
             strerror(-rc));
    job_free(sj);
    return rc;
  }
  argv_b a = {0};
  build_sbatch(t, job, sj->script, &a);
  char e[256];
  rc = subproc_start(t->loop, a.v, SLURM_CALL_MS, on_sbatch, sj, e, sizeof e);
  argv_free(&a);
  if (rc != 0) {
    snprintf(err, errlen, "target '%s': sbatch failed: %s", t->decl->name, e);
    job_free(sj);
    return rc == UV_EMFILE ? -EMFILE : rc == UV_ENFILE ? -ENFILE : -EIO;
  }
  job->tdata = sj;
  return 0;
}

static void slurm_cancel(tgt *t, tgt_job *job, bool force) {
  slurm_job *sj = job->tdata;
  if (!sj || (sj->cancel_wanted && !force))
    return;
  sj->cancel_wanted = true;
  if (job->job_id[0]) /* else: once sbatch has answered */
    send_scancel((slurm_target *)t, sj);
}

static void timer_closed(uv_handle_t *h) { free(h->data); }

static void slurm_close(tgt *t) {
  slurm_target *st = (slurm_target *)t;
  uv_timer_stop(&st->timer);
  uv_close((uv_handle_t *)&st->timer, timer_closed);
}

/* The host that looks up images is the one pipec submits from: the
 * cluster's nodes must hold the same image (it runs by its id, so a node
 * without it fails the job with the runtime's message). */
static int slurm_host_call(tgt *t, char *const argv[], int timeout_ms,
                           subproc_cb cb, void *data, char *err,
                           size_t errlen) {
  return subproc_start(t->loop, argv, timeout_ms, cb, data, err, errlen);
}

static const tgt_ops slurm_ops = {
    .submit = slurm_submit,
    .cancel = slurm_cancel,
    .close = slurm_close,
    .host_call = slurm_host_call,
};

static int slurm_open(const tgt_kind *kind, uv_loop_t *loop,
                      const pipec_target *decl, tgt **out, char *err,
                      size_t errlen) {
  slurm_target *st = calloc(1, sizeof *st);
  if (!st) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  st->base.ops = &slurm_ops;
  st->base.kind = kind;
  st->base.loop = loop;
  st->base.decl = decl;
  uv_timer_init(loop, &st->timer);
  st->timer.data = st;
  *out = &st->base;
  return 0;
}

static const pipec_opt_spec slurm_opts[] = {
    TGT_QUOTA_OPTS,
    {.name = "slots", .type = PIPEC_OPT_INT, .min = 1},
    {.name = "partition", .type = PIPEC_OPT_STRING},
    {.name = "account", .type = PIPEC_OPT_STRING},
    {.name = "qos", .type = PIPEC_OPT_STRING},
    {.name = "time", .type = PIPEC_OPT_DURATION_TEXT},
    /* the cluster's queue is not ours alone */
    {.name = "max_jobs", .type = PIPEC_OPT_INT, .min = 1, .has_default = true,
     .def = {.type = PIPEC_T_INT, .u.i = 256}},
    {.name = "extra", .type = PIPEC_OPT_STRINGS},
    TGT_CONTAINER_OPTS,
};

const tgt_kind tgt_kind_slurm = {
    .schema = {.name = "slurm",
               .opts = slurm_opts,
               .n_opts = sizeof slurm_opts / sizeof slurm_opts[0]},
    .slots_alias = "max_jobs",
    .fds_per_job = 0, /* the helpers are the target's, one at a time */
    .open = slurm_open,
};

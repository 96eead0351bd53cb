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
 * The workspace (objects, scratch, logs) and the pipeline's directory must
 * be on a filesystem the cluster's nodes share, at the same path.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

typedef struct slurm_job {
  tgt_job *job;
  char *script, *rcfile;
  bool cancel_sent;
  int rc_waits;              /* polls spent waiting for the rc file */
  struct slurm_job *next;
} slurm_job;

typedef struct slurm_target {
  tgt base;
  uv_timer_t timer;
  slurm_job *jobs;           /* in flight */
  int64_t failing_since;     /* first failed squeue of a failing streak, ms */
  int64_t last_submit;       /* ms */
  char last_error[256];
} slurm_target;

static int64_t now_ms(void) { return (int64_t)(uv_hrtime() / 1000000); }

/* ---- the batch script ---------------------------------------------------- */

static char *script_text(const tgt_job *job, const char *rcfile) {
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
  shbuf_add(&b, " || exit 125\n");
  for (char **a = job->argv; *a; a++) {
    shbuf_quote(&b, *a);
    shbuf_add(&b, a[1] ? " " : "");
  }
  shbuf_add(&b, " </dev/null\nrc=$?\necho \"$rc\" > ");
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

static void finish(slurm_target *st, slurm_job *sj, tgt_result *r) {
  unlink_job(st, sj);
  tgt_job *job = sj->job;
  unlink(sj->script);
  unlink(sj->rcfile);
  free(sj->script);
  free(sj->rcfile);
  free(sj);
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
  r.cancelled = sj->cancel_sent;
  int rc = read_rc(sj->rcfile);
  bool ran_out = !strcmp(state, "") || !strcmp(state, "COMPLETED") ||
                 !strcmp(state, "FAILED");
  if (rc < 0 && ran_out && !sj->cancel_sent &&
      sj->rc_waits++ < SLURM_RC_WAIT_POLLS)
    return false;
  if (rc >= 0 && ran_out) {
    r.exit_code = rc > 128 && rc < 160 ? 0 : rc;
    r.term_signal = rc > 128 && rc < 160 ? rc - 128 : 0;
  } else if (!sj->cancel_sent) {
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
  finish(st, sj, &r);
  return true;
}

/* ---- polling ------------------------------------------------------------- */

/* One squeue call for a run of jobs starting at *from; advances *from. */
static void poll_some(slurm_target *st, slurm_job **from) {
  shbuf ids = {0};
  shbuf_add(&ids, "");
  slurm_job *end = *from;
  for (int k = 0; end && k < SLURM_IDS_PER_CALL; end = end->next, k++) {
    shbuf_add(&ids, ids.len ? "," : "");
    shbuf_add(&ids, end->job->job_id);
  }
  char *argv[] = {"squeue", "--noheader", "--states=all",
                  "--format=%i %T", "--jobs", ids.s, NULL};
  subproc_out o;
  int rc = subproc_run(argv, SLURM_CALL_MS, &o);
  free(ids.s);
  /* an id Slurm has forgotten makes squeue fail when it is the only one */
  bool unknown = rc == 0 && o.status != 0 && strstr(o.err, "Invalid job id");
  if (rc != 0 || (o.status != 0 && !unknown)) {
    if (!st->failing_since)
      st->failing_since = now_ms();
    first_line(rc != 0 || !o.err[0] ? (o.timed_out ? "squeue timed out"
                                                   : o.err)
                                    : o.err,
               st->last_error, sizeof st->last_error);
    *from = end;
    return;
  }
  st->failing_since = 0;
  slurm_job *sj = *from;
  *from = end;
  while (sj != end) {
    slurm_job *next = sj->next;
    char state[64] = "";
    size_t idlen = strlen(sj->job->job_id);
    for (const char *line = o.out; *line;) {
      if (strncmp(line, sj->job->job_id, idlen) == 0 && line[idlen] == ' ') {
        sscanf(line + idlen + 1, "%63s", state);
        break;
      }
      line += strcspn(line, "\n");
      line += *line == '\n';
    }
    if (!state[0] || is_terminal(state))
      settle(st, sj, state);
    sj = next;
  }
}

static void on_poll(uv_timer_t *timer);

/* Poll quickly while some job is young, then once a second: a short job's
 * end is seen at once, and a long run costs the controller one squeue a
 * second. */
static void arm(slurm_target *st) {
  bool young = now_ms() - st->last_submit < SLURM_YOUNG_MS;
  uv_timer_start(&st->timer, on_poll, young ? SLURM_POLL_FAST_MS
                                            : SLURM_POLL_MS, 0);
}

static void on_poll(uv_timer_t *timer) {
  slurm_target *st = timer->data;
  for (slurm_job *from = st->jobs; from;)
    poll_some(st, &from);
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

/* ---- tgt_ops ------------------------------------------------------------- */

static int slurm_submit(tgt *t, tgt_job *job, char *err, size_t errlen) {
  slurm_target *st = (slurm_target *)t;
  slurm_job *sj = calloc(1, sizeof *sj);
  if (!sj || asprintf(&sj->script, "%s.sbatch", job->log_path) < 0 ||
      asprintf(&sj->rcfile, "%s.rc", job->log_path) < 0) {
    snprintf(err, errlen, "out of memory");
    abort();
  }
  unlink(sj->rcfile);
  char *text = script_text(job, sj->rcfile);
  int rc = write_file(sj->script, text);
  free(text);
  if (rc != 0) {
    snprintf(err, errlen, "cannot write the batch script %s: %s", sj->script,
             strerror(-rc));
    goto fail;
  }
  argv_b a = {0};
  build_sbatch(t, job, sj->script, &a);
  subproc_out o;
  rc = subproc_run(a.v, SLURM_CALL_MS, &o);
  argv_free(&a);
  if (rc != 0 || o.status != 0) {
    char line[512];
    first_line(o.timed_out ? "no answer in 30 s" : o.err, line, sizeof line);
    snprintf(err, errlen, "target '%s': sbatch failed: %s", t->decl->name,
             line);
    rc = -EIO;
    goto fail;
  }
  size_t n = strcspn(o.out, ";\n ");
  if (n == 0 || n >= sizeof job->job_id) {
    snprintf(err, errlen, "target '%s': sbatch printed no job id",
             t->decl->name);
    rc = -EIO;
    goto fail;
  }
  snprintf(job->job_id, sizeof job->job_id, "%.*s", (int)n, o.out);
  sj->job = job;
  job->tdata = sj;
  sj->next = st->jobs;
  st->jobs = sj;
  st->last_submit = now_ms();
  if (!uv_is_active((uv_handle_t *)&st->timer))
    arm(st);
  return 0;
fail:
  unlink(sj->script);
  free(sj->script);
  free(sj->rcfile);
  free(sj);
  return rc;
}

static void slurm_cancel(tgt *t, tgt_job *job, bool force) {
  slurm_job *sj = job->tdata;
  if (!sj || (sj->cancel_sent && !force))
    return;
  sj->cancel_sent = true;
  /* Slurm itself sends SIGTERM, then SIGKILL after its KillWait */
  char *argv[] = {"scancel", job->job_id, NULL};
  subproc_out o;
  if (subproc_run(argv, SLURM_CALL_MS, &o) != 0 || o.status != 0) {
    char line[256];
    first_line(o.err, line, sizeof line);
    fprintf(stderr, "pipec: target '%s': scancel %s failed: %s\n",
            t->decl->name, job->job_id, line);
  }
}

static void timer_closed(uv_handle_t *h) { free(h->data); }

static void slurm_close(tgt *t) {
  slurm_target *st = (slurm_target *)t;
  uv_timer_stop(&st->timer);
  uv_close((uv_handle_t *)&st->timer, timer_closed);
}

static const tgt_ops slurm_ops = {
    .kind = "slurm",
    .submit = slurm_submit,
    .cancel = slurm_cancel,
    .close = slurm_close,
};

int tgt_slurm_open(uv_loop_t *loop, const pipec_target *decl, tgt **out,
                   char *err, size_t errlen) {
  slurm_target *st = calloc(1, sizeof *st);
  if (!st) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  st->base.ops = &slurm_ops;
  st->base.loop = loop;
  st->base.decl = decl;
  uv_timer_init(loop, &st->timer);
  st->timer.data = st;
  *out = &st->base;
  return 0;
}

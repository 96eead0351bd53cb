/*
 * fake_target.c — the scripted fake target kinds of fake_target.h: a job
 * is a libuv timer that ends with the result its script gives.
 */
#define _GNU_SOURCE
#include "fake_target.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum step_kind { STEP_OK, STEP_EXIT, STEP_SIGNAL, STEP_FAIL,
                         STEP_HANG, STEP_EMFILE, STEP_OOM } step_kind;

typedef struct step {
  char node[64];
  uint64_t ms;
  step_kind kind;
  int arg;
  char message[256];
} step;

typedef struct event {
  char what[8];
  char node[64];
  int64_t t;
} event;

typedef struct fake_target {
  tgt base;
  step *steps;
  size_t n_steps;
  struct { char node[64]; int n; } *tries; /* submits per node */
  size_t n_tries;
  event *events;
  size_t n_events;
  char *trace;
  size_t trace_len;
  int running, max_running;
  int64_t cpus, max_cpus;
  unsigned ids;
} fake_target;

typedef struct fake_job {
  uv_timer_t timer;
  fake_target *ft;
  tgt_job *job;
  tgt_result r;
  bool ended;
} fake_job;

static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p)
    abort();
  return p;
}

static void record(fake_target *ft, const char *what, const char *node) {
  ft->events = xrealloc(ft->events, (ft->n_events + 1) * sizeof *ft->events);
  event *e = &ft->events[ft->n_events++];
  snprintf(e->what, sizeof e->what, "%s", what);
  snprintf(e->node, sizeof e->node, "%s", node);
  e->t = (int64_t)uv_now(ft->base.loop);
  char piece[128];
  int n = snprintf(piece, sizeof piece, "%s%s %s", ft->trace_len ? ", " : "",
                   what, node);
  ft->trace = xrealloc(ft->trace, ft->trace_len + (size_t)n + 1);
  memcpy(ft->trace + ft->trace_len, piece, (size_t)n + 1);
  ft->trace_len += (size_t)n;
}

/* The step for this attempt of node (counting it), or NULL. */
static const step *next_step(fake_target *ft, const char *node) {
  size_t k = 0;
  while (k < ft->n_tries && strcmp(ft->tries[k].node, node) != 0)
    k++;
  if (k == ft->n_tries) {
    ft->tries = xrealloc(ft->tries, (ft->n_tries + 1) * sizeof *ft->tries);
    snprintf(ft->tries[k].node, sizeof ft->tries[k].node, "%s", node);
    ft->tries[k].n = 0;
    ft->n_tries++;
  }
  int attempt = ft->tries[k].n++;
  const step *last = NULL;
  for (size_t i = 0; i < ft->n_steps; i++)
    if (strcmp(ft->steps[i].node, node) == 0) {
      last = &ft->steps[i];
      if (attempt-- == 0)
        return last;
    }
  return last;
}

static void job_closed(uv_handle_t *h) {
  fake_job *fj = h->data;
  tgt_job *job = fj->job;
  tgt_result r = fj->r;
  free(fj);
  job->tdata = NULL;
  job->done(job, &r);
}

static void job_end(uv_timer_t *timer) {
  fake_job *fj = timer->data;
  fake_target *ft = fj->ft;
  fj->ended = true;
  ft->running--;
  ft->cpus -= fj->job->res.cpus;
  record(ft, "end", fj->job->node_name);
  uv_close((uv_handle_t *)&fj->timer, job_closed);
}

static int fake_submit(tgt *t, tgt_job *job, char *err, size_t errlen) {
  fake_target *ft = (fake_target *)t;
  const step *s = next_step(ft, job->node_name);
  if (s && s->kind == STEP_EMFILE) {
    record(ft, "emfile", job->node_name);
    snprintf(err, errlen, "cannot open the log: Too many open files");
    return -EMFILE;
  }
  fake_job *fj = calloc(1, sizeof *fj);
  if (!fj)
    abort();
  fj->ft = ft;
  fj->job = job;
  if (s) {
    fj->r.exit_code = s->kind == STEP_EXIT ? s->arg
                      : s->kind == STEP_FAIL ? 1 : 0;
    fj->r.term_signal = s->kind == STEP_SIGNAL ? s->arg
                        : s->kind == STEP_OOM  ? 9
                                               : 0;
    if (s->kind == STEP_OOM) { /* killed at the memory it asked for */
      fj->r.out_of_memory = true;
      fj->r.peak_memory = job->res.memory;
    }
    if (s->kind == STEP_FAIL)
      snprintf(fj->r.message, sizeof fj->r.message, "%s", s->message);
  }
  uv_timer_init(t->loop, &fj->timer);
  fj->timer.data = fj;
  if (!s || s->kind != STEP_HANG)
    uv_timer_start(&fj->timer, job_end, s ? s->ms : 0, 0);
  job->tdata = fj;
  snprintf(job->job_id, sizeof job->job_id, "fake-%u", ++ft->ids);
  record(ft, "start", job->node_name);
  if (++ft->running > ft->max_running)
    ft->max_running = ft->running;
  ft->cpus += job->res.cpus;
  if (ft->cpus > ft->max_cpus)
    ft->max_cpus = ft->cpus;
  return 0;
}

static void fake_cancel(tgt *t, tgt_job *job, bool force) {
  fake_job *fj = job->tdata;
  (void)force;
  if (!fj || fj->ended || fj->r.cancelled)
    return;
  fj->r.cancelled = true;
  record((fake_target *)t, "cancel", job->node_name);
  /* done comes from the loop, never from within cancel */
  uv_timer_start(&fj->timer, job_end, 0, 0);
}

static void fake_close(tgt *t) {
  fake_target *ft = (fake_target *)t;
  free(ft->steps);
  free(ft->tries);
  free(ft->events);
  free(ft->trace);
  free(ft);
}

static const tgt_ops fake_ops = {
    .submit = fake_submit,
    .cancel = fake_cancel,
    .close = fake_close,
};

static int parse_step(const char *text, step *s, char *err, size_t errlen) {
  memset(s, 0, sizeof *s);
  char what[16] = "";
  int used = 0;
  unsigned long long ms;
  if (sscanf(text, "%63s %llu %15s %n", s->node, &ms, what, &used) < 3) {
    snprintf(err, errlen, "fake target: bad step '%s' (NODE MS RESULT)",
             text);
    return -EINVAL;
  }
  s->ms = ms;
  const char *rest = text + used;
  if (strcmp(what, "ok") == 0)
    s->kind = STEP_OK;
  else if (strcmp(what, "exit") == 0 && sscanf(rest, "%d", &s->arg) == 1)
    s->kind = STEP_EXIT;
  else if (strcmp(what, "signal") == 0 && sscanf(rest, "%d", &s->arg) == 1)
    s->kind = STEP_SIGNAL;
  else if (strcmp(what, "fail") == 0)
    s->kind = STEP_FAIL, snprintf(s->message, sizeof s->message, "%s", rest);
  else if (strcmp(what, "hang") == 0)
    s->kind = STEP_HANG;
  else if (strcmp(what, "emfile") == 0)
    s->kind = STEP_EMFILE;
  else if (strcmp(what, "oom") == 0)
    s->kind = STEP_OOM;
  else {
    snprintf(err, errlen, "fake target: bad result in step '%s'", text);
    return -EINVAL;
  }
  return 0;
}

static int fake_open(const tgt_kind *kind, uv_loop_t *loop,
                     const pipec_target *decl, tgt **out, char *err,
                     size_t errlen) {
  fake_target *ft = calloc(1, sizeof *ft);
  if (!ft)
    abort();
  ft->base.ops = &fake_ops;
  ft->base.kind = kind;
  ft->base.loop = loop;
  ft->base.decl = decl;
  ft->trace = xrealloc(NULL, 1);
  ft->trace[0] = 0;
  const pipec_value *v = tgt_opt(kind, decl, "script");
  uint32_t n = !v ? 0 : v->type == PIPEC_T_LIST ? v->u.list.n : 1;
  ft->steps = xrealloc(NULL, (n + 1) * sizeof *ft->steps);
  for (uint32_t i = 0; i < n; i++) {
    const char *text = v->type == PIPEC_T_LIST ? v->u.list.items[i].u.s
                                               : v->u.s;
    if (parse_step(text, &ft->steps[ft->n_steps++], err, errlen) != 0) {
      fake_close(&ft->base);
      return -EINVAL;
    }
  }
  *out = &ft->base;
  return 0;
}

const char *fake_trace(const tgt *t) { return ((const fake_target *)t)->trace; }

int fake_max_running(const tgt *t) {
  return ((const fake_target *)t)->max_running;
}

int64_t fake_max_cpus(const tgt *t) {
  return ((const fake_target *)t)->max_cpus;
}

int64_t fake_event_time(const tgt *t, const char *what, const char *node,
                        int nth) {
  const fake_target *ft = (const fake_target *)t;
  for (size_t i = 0; i < ft->n_events; i++)
    if (strcmp(ft->events[i].what, what) == 0 &&
        strcmp(ft->events[i].node, node) == 0 && nth-- == 0)
      return ft->events[i].t;
  return -1;
}

static const pipec_opt_spec fake_opts[] = {
    TGT_QUOTA_OPTS,
    {.name = "slots", .type = PIPEC_OPT_INT, .min = 1},
    {.name = "script", .type = PIPEC_OPT_STRINGS},
};

static const pipec_opt_spec fake_remote_opts[] = {
    TGT_QUOTA_OPTS,
    {.name = "slots", .type = PIPEC_OPT_INT, .min = 1, .has_default = true,
     .def = {.type = PIPEC_T_INT, .u.i = 4}},
    {.name = "script", .type = PIPEC_OPT_STRINGS},
};

const tgt_kind fake_kind = {
    .schema = {.name = "fake",
               .opts = fake_opts,
               .n_opts = sizeof fake_opts / sizeof fake_opts[0]},
    .counts_against_jobs = true,
    .fds_per_job = 1, /* as if: so -j is lowered to fit RLIMIT_NOFILE */
    .open = fake_open,
};

const tgt_kind fake_remote_kind = {
    .schema = {.name = "fake_remote",
               .opts = fake_remote_opts,
               .n_opts = sizeof fake_remote_opts / sizeof fake_remote_opts[0]},
    .open = fake_open,
};

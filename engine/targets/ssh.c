/*
 * tgt_ssh.c — the ssh target: each job runs on a remote host through the
 * system's OpenSSH client, so ~/.ssh/config, agents and jump hosts work as
 * they do for the user. All calls to one host share one multiplexed
 * connection (ControlMaster, kept 60 s after the last use).
 *
 * A job is one ssh call, run as a process of an inner local target (so
 * spawning, logging and killing are tgt_local's). The remote script makes
 * the job's directory, runs the command in a session of its own (its pid,
 * the process group id, goes to DIR/pid so cancel can kill the group), and
 * removes the directory when the command ends.
 *
 * With `shared_fs = true` the workspace is at the same path on the host.
 * Otherwise the call is a pipeline that moves files over the same channel:
 *
 *   tar INPUTS CODE | ssh HOST 'untar below DIR/root; run; tar OUTPUTS' | untar
 *
 * The inputs land under the same absolute paths below DIR/root (the command
 * line's paths are rewritten to match), the command's stdout joins its
 * stderr in the log, and stdout carries only the outputs, which land in the
 * local scratch directory where the runner hashes them like any others.
 *
 * A lost connection (ssh's own exit 255 with a message) fails the attempt
 * with that message; retries apply. Nothing here ever touches the store.
 *
 * Memory: where the host has a pipec that knows `pipec measure` (this
 * one's path, else PATH's), the command runs under it: the host enforces
 * `memory` in a memory cgroup if it lets that pipec make one, and the
 * report (peak, killed for memory) comes back beside the log (shared) or
 * in the outputs' tar stream (staged, as .pipec-mem, whatever the exit).
 *
 * Nothing here blocks the loop: the lookup of a relative workdir, the
 * remote kill of a cancel and the check of the master connection are
 * helpers (subproc.h) whose answers come back as callbacks. Staged jobs
 * submitted before the workdir is known wait for it; a job lives until
 * the runner has its result and no helper runs for it (refs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "container.h"
#include "measure.h"
#include "selfexe.h"
#include "shbuf.h"
#include "sshcmd.h"
#include "subproc.h"
#include "target.h"


typedef struct ssh_target {
  tgt base;
  tgt *local;              /* runs the ssh client processes */
  const char *host, *user, *identity, *workdir;
  long long port;
  bool shared_fs;
  long long connect_timeout;
  char ctl_dir[64];        /* ControlPath directory (short: a socket path) */
  char *root;              /* remote absolute workdir (no shared fs) */
  unsigned counter;
  char me[64];             /* this machine's name, for job directories */
  struct ssh_job *waiting; /* staged jobs waiting for root, in order */
  bool asking;             /* the lookup of root runs */
  struct ssh_job *flushing; /* cancelled while waiting: done next turn */
  uv_timer_t flush;
} ssh_target;

typedef struct ssh_job {
  ssh_target *st;
  tgt_job *job;            /* the runner's */
  tgt_job sub;             /* the ssh process (or the tar | ssh | tar) */
  char **sub_argv;
  char *dir;               /* the job's remote directory (relative to home
                              or absolute) */
  char *prefix;            /* remote prefix of local paths ("" if shared) */
  char *base;              /* the job directory's name */
  char errfile[PATH_MAX];  /* ssh -E: the client's own messages */
  char rcfile[PATH_MAX];   /* staged: ssh's exit code, from the pipeline */
  char memfile[PATH_MAX];  /* `pipec measure`'s report, once back here */
  bool cancelled;
  bool waiting;            /* in st->waiting (or st->flushing) */
  bool client_ended;       /* the ssh process has exited */
  int refs;                /* the runner's job until done, and each
                              helper still running for this job */
  struct ssh_job *next;    /* in st->waiting or st->flushing */
} ssh_job;

/* ---- strings ------------------------------------------------------------- */

static char *xstrdup(const char *s) {
  char *d = strdup(s);
  if (!d)
    abort();
  return d;
}

static void strv_free(char **v) {
  for (char **p = v; p && *p; p++)
    free(*p);
  free(v);
}

/* s with every occurrence of each local path (longest match first is not
 * needed: no path of a job is a prefix of another) moved under prefix. */
static char *remap(const char *s, const tgt_job *job, const char *prefix) {
  if (!prefix[0])
    return xstrdup(s);
  shbuf b = {0};
  shbuf_add(&b, "");
  while (*s) {
    size_t best = 0;
    for (uint32_t k = 0; k < job->n_in + job->n_out; k++) {
      const char *p = k < job->n_in ? job->in_paths[k]
                                    : job->out_paths[k - job->n_in];
      size_t n = strlen(p);
      if (n > best && strncmp(s, p, n) == 0)
        best = n;
    }
    if (best) {
      shbuf_add(&b, prefix);
      char *piece = strndup(s, best);
      shbuf_add(&b, piece);
      free(piece);
      s += best;
    } else {
      char c[2] = {*s++, 0};
      shbuf_add(&b, c);
    }
  }
  return b.s;
}

/* ---- ssh command lines ---------------------------------------------------- */

/* The ssh client's argv up to and including the host (sshcmd.h); the
 * remote command is added by the caller (room for 8 more words). */
static void ssh_base(const ssh_target *st, const char *errfile,
                     const char *ctl, shbuf *words, char ***argv, size_t *n) {
  sshcmd_host h = {.host = st->host,
                   .user = st->user,
                   .identity = st->identity,
                   .port = st->port,
                   .connect_timeout = st->connect_timeout};
  size_t k;
  char **v = sshcmd_argv(&h, st->ctl_dir, errfile, ctl, 8, &k);
  *argv = v;
  *n = k;
  /* the same words, quoted, for use inside a local sh -c line */
  if (words)
    for (size_t i = 0; i < k; i++) {
      shbuf_quote(words, v[i]);
      shbuf_add(words, " ");
    }
}

/* argv = ssh ... HOST remote_cmd */
static char **ssh_argv(const ssh_target *st, const char *errfile,
                       const char *remote_cmd) {
  char **v;
  size_t k;
  ssh_base(st, errfile, NULL, NULL, &v, &k);
  v[k++] = xstrdup(remote_cmd);
  return v;
}

/* ---- the job ------------------------------------------------------------- */

/* The remote script: go to the job's directory (unpacking the staged files
 * below DIR/root) and the command's working directory, then run the
 * command in a session of its own and tidy up after it. */
static char *remote_script(const ssh_job *sj, bool unpack, char *err,
                           size_t errlen) {
  const tgt_job *job = sj->job;
  bool staged = !sj->st->shared_fs;
  shbuf b = {0};
  shbuf_add(&b, "d=");
  shbuf_quote(&b, sj->dir);
  shbuf_add(&b, "; mkdir -p \"$d\" && cd \"$d\" && d=$(pwd) || exit 125; ");
  if (unpack) {
    shbuf_add(&b, "mkdir -p ");
    shbuf_quote(&b, sj->prefix);
    shbuf_add(&b, " && tar -xf - -C ");
    shbuf_quote(&b, sj->prefix);
    shbuf_add(&b, " || { cd / && rm -rf \"$d\"; exit 125; }; ");
  }
  if (staged) {
    shbuf_add(&b, "mkdir -p ");
    shbuf_quote(&b, sj->prefix);
    shbuf_quote(&b, job->scratch); /* two quoted words side by side: one word */
    shbuf_add(&b, " ");
    shbuf_quote(&b, sj->prefix);
    shbuf_quote(&b, job->cwd);
    /* what outputs are written into: a dir output's directory, a named
     * output's directory (both made here before the job) */
    for (uint32_t i = 0; i < job->n_out; i++) {
      char dir[PATH_MAX];
      struct stat sb;
      snprintf(dir, sizeof dir, "%s", job->out_paths[i]);
      if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (slash)
          *slash = '\0';
      }
      shbuf_add(&b, " ");
      shbuf_quote(&b, sj->prefix);
      shbuf_quote(&b, dir);
    }
    shbuf_add(&b, " || exit 125; ");
  }
  shbuf_add(&b, "cd ");
  shbuf_quote(&b, sj->prefix);
  shbuf_quote(&b, job->cwd);
  shbuf_add(&b, " || exit 125; ");
  if (job->builtin) {
    /* pipec itself: the same path as here if it is there, else PATH's */
    shbuf_add(&b, "p=");
    shbuf_quote(&b, job->argv[0]);
    shbuf_add(&b, "; [ -x \"$p\" ] || p=pipec; ");
  }
  /* The inner shell: $0 the job directory, $1 where the outputs are (""
   * when the workspace is shared), then the command. Its trap is a handler,
   * not an ignore, so the command keeps default signals and the shell can
   * still tidy up after a cancel has killed the command. Staged, stdout
   * carries the outputs' tar stream, so the command's stdout goes to the
   * log with its stderr. */
  shbuf inner = {0};
  shbuf_add(&inner, "d=$0; o=$1; shift; echo $$ > \"$d/pid\" || exit 125; "
                 "if [ -e \"$d/cancel\" ]; then cd / && rm -rf \"$d\"; "
                 "exit 143; fi; trap : TERM INT HUP; ");
  {
    char self[PATH_MAX];
    self_pipec_exe(self, sizeof self);
    shbuf report = {0};
    if (staged)
      shbuf_add(&report, "\"$o/.pipec-mem\"");
    else
      shbuf_quote(&report, sj->memfile);
    measure_sh_prefix(&inner, job->builtin ? job->argv[0] : self,
                      job->res.memory, report.s);
    free(report.s);
  }
  shbuf_add(&inner, staged ? "\"$@\" </dev/null >&2; rc=$?; "
                        : "\"$@\" </dev/null; rc=$?; ");
  if (staged) {
    /* a failed attempt sends back the memory report alone */
    shbuf_add(&inner, "if [ $rc -ne 0 ]; then cd \"$o\" && tar -cf - "
                   "--ignore-failed-read -- .pipec-mem 2>/dev/null; fi; ");
    shbuf_add(&inner, "if [ $rc -eq 0 ]; then cd \"$o\" && tar -cf - "
                   "--ignore-failed-read -- .pipec-mem");
    /* each output by its path below the scratch directory (a named
     * output lies in a directory of its port's name) */
    size_t sl = strlen(job->scratch);
    for (uint32_t i = 0; i < job->n_out; i++) {
      const char *o = job->out_paths[i];
      const char *rel = strncmp(o, job->scratch, sl) == 0 && o[sl] == '/'
                            ? o + sl + 1
                            : strrchr(o, '/') ? strrchr(o, '/') + 1 : o;
      shbuf_add(&inner, " ");
      shbuf_quote(&inner, rel);
    }
    shbuf_add(&inner, " 2>/dev/null; fi; ");
  }
  shbuf_add(&inner, "cd / && rm -rf \"$d\"; exit $rc");
  shbuf_add(&b, "if command -v setsid >/dev/null 2>&1; then s='setsid -w'; "
             "else s=; fi; exec $s sh -c ");
  shbuf_quote(&b, inner.s);
  free(inner.s);
  shbuf_add(&b, " \"$d\" ");
  if (staged) {
    shbuf_quote(&b, sj->prefix);
    shbuf_quote(&b, job->scratch);
  } else {
    shbuf_add(&b, "''");
  }
  shbuf_add(&b, " env");
  for (char **e = job->env; e && *e; e++) {
    shbuf_add(&b, " ");
    char *m = remap(*e, job, sj->prefix);
    shbuf_quote(&b, m);
    free(m);
  }
  if (job->gpus_set) {
    char cuda[160];
    snprintf(cuda, sizeof cuda, "CUDA_VISIBLE_DEVICES=%s", job->gpus);
    shbuf_add(&b, " ");
    shbuf_quote(&b, cuda);
  }
  if (job->container) {
    /* the command as the host sees it, run in its container there: the
     * mounts are the same paths below the job's directory */
    size_t n = 0;
    while (job->argv[n])
      n++;
    char **mapped = calloc(n + 1, sizeof *mapped);
    if (!mapped)
      abort();
    for (size_t i = 0; i < n; i++)
      mapped[i] = remap(job->argv[i], job, sj->prefix);
    char **cv = ctr_argv(job->container, job, mapped, sj->prefix, err,
                         errlen);
    strv_free(mapped);
    if (!cv) {
      free(b.s);
      return NULL;
    }
    for (char **a = cv; *a; a++) {
      shbuf_add(&b, " ");
      shbuf_quote(&b, *a);
    }
    ctr_argv_free(cv);
    return b.s;
  }
  for (char **a = job->argv; *a; a++) {
    shbuf_add(&b, " ");
    if (a == job->argv && job->builtin) {
      shbuf_add(&b, "\"$p\"");
      continue;
    }
    char *m = remap(*a, job, sj->prefix);
    shbuf_quote(&b, m);
    free(m);
  }
  return b.s;
}

/* Staged: sh -c '{ tar IN | ssh HOST SCRIPT; echo $? > RC; } | tar -x ...'
 * and exit with ssh's code, or the local tar's when ssh's is 0. */
static char **staged_argv(ssh_job *sj, char *err, size_t errlen) {
  const tgt_job *job = sj->job;
  bool unpack = job->n_in + job->n_files > 0;
  shbuf line = {0};
  shbuf_add(&line, "{ ");
  if (unpack) {
    shbuf_add(&line, "tar -C / -chf - --");
    for (uint32_t i = 0; i < job->n_in + job->n_files; i++) {
      const char *p = i < job->n_in ? job->in_paths[i]
                                    : job->files[i - job->n_in];
      shbuf_add(&line, " ");
      shbuf_quote(&line, p + (*p == '/'));
    }
    shbuf_add(&line, " | ");
  }
  char **v;
  size_t k;
  ssh_base(sj->st, sj->errfile, NULL, &line, &v, &k);
  strv_free(v);
  char *script = remote_script(sj, unpack, err, errlen);
  if (!script) {
    free(line.s);
    return NULL;
  }
  shbuf_quote(&line, script);
  free(script);
  shbuf_add(&line, unpack ? "; " : " </dev/null; ");
  shbuf_add(&line, "echo $? > ");
  shbuf_quote(&line, sj->rcfile);
  shbuf_add(&line, "; } | tar -xf - -C ");
  shbuf_quote(&line, job->scratch);
  shbuf_add(&line, " 2>/dev/null; t=$?; r=$(cat ");
  shbuf_quote(&line, sj->rcfile);
  shbuf_add(&line, "); if [ \"$r\" != 0 ]; then exit \"$r\"; fi; exit $t");
  char **sv = calloc(4, sizeof *sv);
  if (!sv)
    abort();
  sv[0] = xstrdup("/bin/sh");
  sv[1] = xstrdup("-c");
  sv[2] = line.s;
  return sv;
}

static void job_done(tgt_job *sub, const tgt_result *r);

/* Start the job's ssh call (the workdir is known); job_id is then set. */
static int launch(ssh_job *sj, char *err, size_t errlen) {
  ssh_target *st = sj->st;
  tgt_job *job = sj->job;
  if (asprintf(&sj->dir, "%s/%s", st->shared_fs ? st->workdir : st->root,
               sj->base) < 0 ||
      asprintf(&sj->prefix, "%s%s", st->shared_fs ? "" : sj->dir,
               st->shared_fs ? "" : "/root") < 0)
    abort();
  unlink(sj->errfile);
  if (st->shared_fs) {
    char *script = remote_script(sj, false, err, errlen);
    sj->sub_argv = script ? ssh_argv(st, sj->errfile, script) : NULL;
    free(script);
  } else {
    sj->sub_argv = staged_argv(sj, err, errlen);
  }
  if (!sj->sub_argv)
    return -EINVAL;
  sj->sub = (tgt_job){.node_name = job->node_name,
                      .argv = sj->sub_argv,
                      .log_path = job->log_path,
                      .scratch = job->scratch,
                      .node = job->node,
                      .done = job_done,
                      .data = sj};
  int rc = st->local->ops->submit(st->local, &sj->sub, err, errlen);
  if (rc == 0)
    snprintf(job->job_id, sizeof job->job_id, "%s:%s", st->host, sj->base);
  return rc;
}

/* Last line ssh itself wrote (-E), or "". */
static void ssh_message(const char *errfile, char *buf, size_t len) {
  buf[0] = 0;
  FILE *f = fopen(errfile, "r");
  if (!f)
    return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (line[0])
      snprintf(buf, len, "%.*s", (int)len - 1, line);
  }
  fclose(f);
}

static void job_unref(ssh_job *sj) {
  if (--sj->refs > 0)
    return;
  strv_free(sj->sub_argv);
  free(sj->dir);
  free(sj->prefix);
  free(sj->base);
  free(sj);
}

/* Hand the result to the runner; the job is then the runner's again (a
 * retry may submit it at once). */
static void deliver(ssh_job *sj, tgt_result *r) {
  tgt_job *job = sj->job;
  r->cancelled = r->cancelled || sj->cancelled;
  /* what the inner target measured is the ssh client's: the host's
   * report is the job's */
  r->peak_memory = 0;
  r->out_of_memory = false;
  measure_report mr;
  if (sj->memfile[0] && measure_read(sj->memfile, &mr)) {
    r->peak_memory = mr.peak;
    if (mr.oom && !r->cancelled)
      tgt_say_out_of_memory(r, job->res.memory);
  }
  if (job->container)
    ctr_judge_memory(job, r);
  if (sj->memfile[0])
    unlink(sj->memfile);
  unlink(sj->errfile);
  unlink(sj->rcfile);
  job->tdata = NULL;
  job_unref(sj);
  job->done(job, r);
}

/* A helper's answer about one job. */
typedef struct job_call {
  ssh_job *sj;
  bool force;              /* cancel: the remote kill was forced */
  tgt_result r;            /* check: the result to deliver */
} job_call;

/* Start a helper for sj: ssh ... HOST remote_cmd (ctl: ssh -O ctl). */
static int job_helper(ssh_job *sj, const char *ctl, const char *remote_cmd,
                      int timeout_ms, subproc_cb cb, job_call *call) {
  char **v;
  size_t k;
  ssh_base(sj->st, NULL, ctl, NULL, &v, &k);
  if (remote_cmd)
    v[k++] = xstrdup(remote_cmd);
  char err[256];
  int rc = subproc_start(sj->st->base.loop, v, timeout_ms, cb, call, err,
                         sizeof err);
  strv_free(v);
  if (rc == 0)
    sj->refs++;
  return rc;
}

/* The master check has answered: the connection was lost, or not. */
static void on_checked(const subproc_out *o, void *data) {
  job_call *call = data;
  ssh_job *sj = call->sj;
  tgt_result r = call->r;
  free(call);
  if (o->status != 0)
    snprintf(r.message, sizeof r.message,
             "ssh to %s failed while running the command on it: the "
             "connection was lost", sj->st->host);
  sj->refs--; /* the helper's; deliver drops the job's */
  deliver(sj, &r);
}

static void job_done(tgt_job *sub, const tgt_result *sr) {
  ssh_job *sj = sub->data;
  sj->client_ended = true;
  tgt_result r = *sr;
  r.cancelled = sj->cancelled;
  char msg[400];
  ssh_message(sj->errfile, msg, sizeof msg);
  /* 255 is ssh's own failure; it says why unless the command itself
   * exited 255 */
  if (!r.cancelled && !r.term_signal && r.exit_code == 255) {
    if (msg[0]) {
      snprintf(r.message, sizeof r.message,
               "ssh to %s failed while running the command on it: %s",
               sj->st->host, msg);
    } else {
      /* a mux client whose master died exits 255 without a word: ask
       * whether the master is still up */
      job_call *call = calloc(1, sizeof *call);
      if (!call)
        abort();
      call->sj = sj;
      call->r = r;
      if (job_helper(sj, "check", NULL, 5000, on_checked, call) == 0)
        return;
      free(call);
      snprintf(r.message, sizeof r.message,
               "ssh to %s failed while running the command on it: the "
               "connection was lost", sj->st->host);
    }
  }
  deliver(sj, &r);
}

/* ---- the remote workdir ----------------------------------------------------- */

static void fail_waiting(ssh_job *list, const char *msg) {
  while (list) {
    ssh_job *sj = list;
    list = sj->next;
    sj->waiting = false;
    tgt_result r = {.exit_code = 127};
    snprintf(r.message, sizeof r.message, "%.*s", (int)sizeof r.message - 1, msg);
    deliver(sj, &r);
  }
}

/* The workdir as the host spelled it, or why not. */
static void on_root(const subproc_out *o, void *data) {
  ssh_target *st = data;
  st->asking = false;
  ssh_job *list = st->waiting;
  st->waiting = NULL;
  char out[PATH_MAX], err[600];
  snprintf(out, sizeof out, "%.*s", (int)sizeof out - 1, o->out);
  out[strcspn(out, "\n")] = 0;
  if (o->status != 0 || out[0] != '/') {
    char e[sizeof o->err];
    snprintf(e, sizeof e, "%s", o->err);
    char *nl = strchr(e, '\n');
    if (nl && nl[1] == 0)
      *nl = 0;
    snprintf(err, sizeof err, "ssh to %s failed: %.300s", st->host,
             o->timed_out ? "no answer" : e[0] ? e : "no workdir");
    fail_waiting(list, err);
    return;
  }
  if (strpbrk(out, "'\"\\$`") || strchr(out, ' ')) {
    snprintf(err, sizeof err, "target '%s': the workdir %.200s on %s must "
             "be a plain path (no quotes, spaces or $)", st->base.decl->name,
             out, st->host);
    fail_waiting(list, err);
    return;
  }
  if (!st->root)
    st->root = xstrdup(out);
  while (list) {
    ssh_job *sj = list;
    list = sj->next;
    sj->waiting = false;
    tgt_job *job = sj->job;
    if (launch(sj, err, sizeof err) != 0) {
      tgt_result r = {.exit_code = 127};
      snprintf(r.message, sizeof r.message, "%.*s", (int)sizeof r.message - 1, err);
      deliver(sj, &r);
    } else {
      job->started(job);
    }
  }
}

/* Ask the host where a relative workdir is, once (again after a failure). */
static int ask_root(ssh_target *st, char *err, size_t errlen) {
  shbuf cmd = {0};
  shbuf_add(&cmd, "mkdir -p ");
  shbuf_quote(&cmd, st->workdir);
  shbuf_add(&cmd, " && cd ");
  shbuf_quote(&cmd, st->workdir);
  shbuf_add(&cmd, " && pwd");
  char **argv = ssh_argv(st, NULL, cmd.s);
  free(cmd.s);
  int rc = subproc_start(st->base.loop, argv,
                         (int)(st->connect_timeout + 30) * 1000, on_root, st,
                         err, errlen);
  strv_free(argv);
  if (rc == 0)
    st->asking = true;
  return rc;
}

/* ---- tgt_ops -------------------------------------------------------------- */

static int ssh_submit(tgt *t, tgt_job *job, char *err, size_t errlen) {
  ssh_target *st = (ssh_target *)t;
  ssh_job *sj = calloc(1, sizeof *sj);
  if (!sj)
    abort();
  sj->st = st;
  sj->job = job;
  sj->refs = 1;
  if (asprintf(&sj->base, "%s.%s.%ld.%u", job->node_name, st->me,
               (long)getpid(), ++st->counter) < 0)
    abort();
  snprintf(sj->errfile, sizeof sj->errfile, "%s.ssh", job->log_path);
  snprintf(sj->rcfile, sizeof sj->rcfile, "%s.ssh-rc", job->log_path);
  if (st->shared_fs)
    snprintf(sj->memfile, sizeof sj->memfile, "%s.mem", job->log_path);
  else
    snprintf(sj->memfile, sizeof sj->memfile, "%s/.pipec-mem", job->scratch);
  unlink(sj->memfile);
  int rc = 0;
  if (st->shared_fs || st->root) {
    rc = launch(sj, err, errlen);
  } else {
    /* staged paths are spelled out in the command line: wait for the
     * absolute workdir (an absolute one is known at open) */
    if (!st->asking)
      rc = ask_root(st, err, errlen);
    if (rc == 0) {
      ssh_job **tail = &st->waiting;
      while (*tail)
        tail = &(*tail)->next;
      *tail = sj;
      sj->waiting = true;
    }
  }
  if (rc != 0) {
    job_unref(sj);
    return rc < 0 ? rc : -EIO;
  }
  job->tdata = sj;
  return 0;
}

static void on_flush(uv_timer_t *timer) {
  ssh_target *st = timer->data;
  ssh_job *list = st->flushing;
  st->flushing = NULL;
  while (list) {
    ssh_job *sj = list;
    list = sj->next;
    sj->waiting = false;
    tgt_result r = {.cancelled = true};
    deliver(sj, &r);
  }
}

/* The remote kill has run (or given up): now the local client. */
static void on_killed(const subproc_out *o, void *data) {
  job_call *call = data;
  ssh_job *sj = call->sj;
  (void)o;
  if (!sj->client_ended)
    sj->st->local->ops->cancel(sj->st->local, &sj->sub, call->force);
  free(call);
  job_unref(sj);
}

static void ssh_cancel(tgt *t, tgt_job *job, bool force) {
  ssh_target *st = (ssh_target *)t;
  ssh_job *sj = job->tdata;
  if (!sj)
    return;
  sj->cancelled = true;
  if (sj->waiting) { /* nothing runs yet: done on the next turn */
    for (ssh_job **p = &st->waiting; *p; p = &(*p)->next)
      if (*p == sj) {
        *p = sj->next;
        sj->next = st->flushing;
        st->flushing = sj;
        uv_timer_start(&st->flush, on_flush, 0, 0);
        break;
      }
    return;
  }
  if (sj->client_ended) /* its result is on its way */
    return;
  /* The remote group first: killing the local client leaves it running.
   * The job writes its pid, then looks for DIR/cancel; this makes the
   * file, then reads the pid: either it finds the pid or the job finds
   * the file, so a cancel at the very start cannot miss. */
  shbuf cmd = {0};
  shbuf_add(&cmd, "d=");
  shbuf_quote(&cmd, sj->dir);
  shbuf_add(&cmd, "; mkdir -p \"$d\" && : > \"$d/cancel\"; p=$(cat \"$d");
  shbuf_add(&cmd, force ? "/pid\") && kill -KILL -- -$p"
                     : "/pid\") && kill -TERM -- -$p; "
                       "(sleep 5; kill -KILL -- -$p) "
                       "</dev/null >/dev/null 2>&1 & "
                       /* and wait (10 s at most) for the group to end, so
                        * what the command tidies on TERM (a container:
                        * container.h) is gone when the node is reported
                        * cancelled */
                       "i=0; while [ -n \"$p\" ] && [ $i -lt 100 ] && "
                       "kill -0 -- -$p 2>/dev/null; do "
                       "sleep 0.1 2>/dev/null || sleep 1; i=$((i+1)); done");
  job_call *call = calloc(1, sizeof *call);
  if (!call)
    abort();
  call->sj = sj;
  call->force = force;
  int rc = job_helper(sj, NULL, cmd.s, (int)(st->connect_timeout + 5) * 1000,
                      on_killed, call);
  free(cmd.s);
  if (rc != 0)
    free(call);
  /* forced, or no helper: the local client at once as well */
  if (force || rc != 0)
    st->local->ops->cancel(st->local, &sj->sub, force);
}

static void target_closed(uv_handle_t *h) {
  ssh_target *st = h->data;
  free(st->root);
  free(st);
}

static void ssh_close(tgt *t) {
  ssh_target *st = (ssh_target *)t;
  if (st->local)
    st->local->ops->close(st->local);
  uv_close((uv_handle_t *)&st->flush, target_closed);
}

/* argv run on the host: its words quoted into one remote command. */
static int ssh_host_call(tgt *t, char *const argv[], int timeout_ms,
                         subproc_cb cb, void *data, char *err,
                         size_t errlen) {
  ssh_target *st = (ssh_target *)t;
  shbuf cmd = {0};
  for (char *const *a = argv; *a; a++) {
    shbuf_quote(&cmd, *a);
    shbuf_add(&cmd, a[1] ? " " : "");
  }
  char **v = ssh_argv(st, NULL, cmd.s);
  free(cmd.s);
  int ms = (int)st->connect_timeout * 1000 + timeout_ms;
  int rc = subproc_start(t->loop, v, ms, cb, data, err, errlen);
  strv_free(v);
  return rc;
}

static const tgt_ops ssh_ops = {
    .submit = ssh_submit,
    .cancel = ssh_cancel,
    .close = ssh_close,
    .host_call = ssh_host_call,
};

static int ssh_open(const tgt_kind *kind, uv_loop_t *loop,
                    const pipec_target *decl, tgt **out, char *err,
                    size_t errlen) {
  ssh_target *st = calloc(1, sizeof *st);
  if (!st) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  st->base.ops = &ssh_ops;
  st->base.kind = kind;
  st->base.loop = loop;
  st->base.decl = decl;
  uv_timer_init(loop, &st->flush);
  st->flush.data = st;
  int rc = tgt_kind_local.open(&tgt_kind_local, loop, decl, &st->local, err,
                               errlen);
  if (rc != 0) {
    st->local = NULL;
    ssh_close(&st->base);
    return rc;
  }
  st->host = tgt_opt_str(kind, decl, "host");
  st->user = tgt_opt_str(kind, decl, "user");
  st->identity = tgt_opt_str(kind, decl, "identity");
  st->workdir = tgt_opt_str(kind, decl, "workdir");
  st->port = tgt_opt_int(kind, decl, "port");
  st->connect_timeout = tgt_opt_int(kind, decl, "connect_timeout");
  if (st->connect_timeout <= 0) /* "0s": the default, not no timeout */
    st->connect_timeout =
        pipec_target_kind_opt(&kind->schema, "connect_timeout")->def.u.i;
  st->shared_fs = tgt_opt_bool(kind, decl, "shared_fs");
  if (!st->shared_fs && st->workdir[0] == '/') {
    if (strpbrk(st->workdir, "'\"\\$`") || strchr(st->workdir, ' ')) {
      snprintf(err, errlen, "target '%s': the workdir %.200s on %s must be "
               "a plain path (no quotes, spaces or $)", decl->name,
               st->workdir, st->host);
      ssh_close(&st->base);
      return -EINVAL;
    }
    st->root = xstrdup(st->workdir);
  }
  /* names only [A-Za-z0-9.-]: it becomes part of a remote path */
  if (gethostname(st->me, sizeof st->me) != 0)
    snprintf(st->me, sizeof st->me, "host");
  st->me[sizeof st->me - 1] = 0;
  for (char *c = st->me; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          (*c >= '0' && *c <= '9') || *c == '.' || *c == '-'))
      *c = '_';
  rc = sshcmd_ctl_dir(st->ctl_dir, sizeof st->ctl_dir, err, errlen);
  if (rc != 0) {
    ssh_close(&st->base);
    return rc;
  }
  *out = &st->base;
  return 0;
}

#define INT_DEFAULT(v) .has_default = true, .def = {.type = PIPEC_T_INT, .u.i = (v)}

static const pipec_opt_spec ssh_opts[] = {
    TGT_QUOTA_OPTS,
    /* sshd's MaxSessions is 10 per connection by default */
    {.name = "slots", .type = PIPEC_OPT_INT, .min = 1, INT_DEFAULT(8)},
    {.name = "host", .type = PIPEC_OPT_STRING, .required = true},
    {.name = "user", .type = PIPEC_OPT_STRING},
    {.name = "port", .type = PIPEC_OPT_INT, .min = 1},
    {.name = "identity", .type = PIPEC_OPT_STRING},
    {.name = "workdir", .type = PIPEC_OPT_STRING, .has_default = true,
     .def = {.type = PIPEC_T_STRING, .u.s = ".pipec-work"}},
    {.name = "shared_fs", .type = PIPEC_OPT_BOOL},
    {.name = "connect_timeout", .type = PIPEC_OPT_DURATION, INT_DEFAULT(15)},
    TGT_CONTAINER_OPTS,
};

const tgt_kind tgt_kind_ssh = {
    .schema = {.name = "ssh",
               .article = "an",
               .opts = ssh_opts,
               .n_opts = sizeof ssh_opts / sizeof ssh_opts[0]},
    .fds_per_job = 3, /* the client's pidfd, a helper's two pipes */
    .open = ssh_open,
};

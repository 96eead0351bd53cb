/*
 * tgt_local.c — the local target: each job is a child process in its own
 * session (so its whole process group can be signalled), stdin from
 * /dev/null, stdout and stderr appended to the job's log file.
 *
 * Cancel sends SIGTERM to the group and SIGKILL 5 s later if it is still
 * there; a forced cancel sends SIGKILL at once. When the main process
 * exits, whatever it left running in its group is killed: a node's work
 * ends with the node.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target.h"

extern char **environ;

#define KILL_GRACE_MS 5000

typedef struct local_job {
  uv_process_t proc;
  uv_timer_t timer;      /* SIGKILL after the grace period */
  tgt_job *job;
  tgt_result r;
  int open_handles;
  bool exited;
} local_job;

static void job_closed(uv_handle_t *h) {
  local_job *lj = h->data;
  if (--lj->open_handles > 0)
    return;
  tgt_job *job = lj->job;
  tgt_result r = lj->r;
  free(lj);
  if (job)
    job->done(job, &r);
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int term_signal) {
  local_job *lj = proc->data;
  lj->exited = true;
  lj->r.exit_code = (int)status;
  lj->r.term_signal = term_signal;
  kill(-proc->pid, SIGKILL); /* leftovers of the group */
  uv_timer_stop(&lj->timer);
  uv_close((uv_handle_t *)&lj->timer, job_closed);
  uv_close((uv_handle_t *)proc, job_closed);
}

/* environ with job's entries added, a job entry replacing the same key. */
static char **merge_env(char **extra) {
  size_t n = 0, m = 0;
  while (environ[n])
    n++;
  while (extra && extra[m])
    m++;
  char **env = calloc(n + m + 1, sizeof *env);
  if (!env)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    size_t key = strcspn(environ[i], "=");
    bool replaced = false;
    for (size_t j = 0; j < m && !replaced; j++)
      replaced = strncmp(extra[j], environ[i], key) == 0 &&
                 extra[j][key] == '=';
    if (!replaced)
      env[k++] = environ[i];
  }
  for (size_t j = 0; j < m; j++)
    env[k++] = extra[j];
  return env;
}

static int local_submit(tgt *t, tgt_job *job, char *err, size_t errlen) {
  int logfd = open(job->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                   0644);
  if (logfd < 0) {
    snprintf(err, errlen, "cannot open the log %s: %s", job->log_path,
             strerror(errno));
    return -errno;
  }
  local_job *lj = calloc(1, sizeof *lj);
  char **env = merge_env(job->env);
  if (!lj || !env) {
    close(logfd);
    free(lj);
    free(env);
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  uv_stdio_container_t stdio[3] = {
      {.flags = UV_IGNORE},
      {.flags = UV_INHERIT_FD, .data.fd = logfd},
      {.flags = UV_INHERIT_FD, .data.fd = logfd},
  };
  uv_process_options_t o = {.exit_cb = on_exit_cb,
                            .file = job->argv[0],
                            .args = job->argv,
                            .env = env,
                            .cwd = job->cwd,
                            .flags = UV_PROCESS_DETACHED,
                            .stdio_count = 3,
                            .stdio = stdio};
  lj->proc.data = lj;
  lj->timer.data = lj;
  uv_timer_init(t->loop, &lj->timer);
  lj->open_handles = 2;
  int rc = uv_spawn(t->loop, &lj->proc, &o);
  close(logfd);
  free(env);
  if (rc != 0) {
    snprintf(err, errlen, "cannot run '%s': %s", job->argv[0],
             uv_strerror(rc));
    lj->job = NULL; /* done is not called for a job never started */
    uv_close((uv_handle_t *)&lj->timer, job_closed);
    uv_close((uv_handle_t *)&lj->proc, job_closed);
    return rc;
  }
  lj->job = job;
  job->tdata = lj;
  snprintf(job->job_id, sizeof job->job_id, "%d", lj->proc.pid);
  return 0;
}

static void kill_later(uv_timer_t *timer) {
  local_job *lj = timer->data;
  if (!lj->exited)
    kill(-lj->proc.pid, SIGKILL);
}

static void local_cancel(tgt *t, tgt_job *job, bool force) {
  (void)t;
  local_job *lj = job->tdata;
  if (!lj || lj->exited)
    return;
  lj->r.cancelled = true;
  if (force) {
    kill(-lj->proc.pid, SIGKILL);
    return;
  }
  kill(-lj->proc.pid, SIGTERM);
  if (!uv_is_active((uv_handle_t *)&lj->timer))
    uv_timer_start(&lj->timer, kill_later, KILL_GRACE_MS, 0);
}

static void local_close(tgt *t) { free(t); }

static const tgt_ops local_ops = {
    .kind = "local",
    .submit = local_submit,
    .cancel = local_cancel,
    .close = local_close,
};

int tgt_local_open(uv_loop_t *loop, const pipec_target *decl, tgt **out,
                   char *err, size_t errlen) {
  tgt *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  t->ops = &local_ops;
  t->loop = loop;
  t->decl = decl;
  *out = t;
  return 0;
}

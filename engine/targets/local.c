/*
 * tgt_local.c — the local target: each job is a child process in its own
 * session (so its whole process group can be signalled), stdin from
 * /dev/null, stdout and stderr into one pipe whose bytes the loop appends
 * to the job's log file (spliced: no copy through pipec). The log file is
 * created at the first byte: a node that prints nothing leaves no file (a
 * file costs an inode per node; readers take a missing log as an empty
 * one). Processes start with posix_spawn and their exit is seen through a
 * pidfd polled by the libuv loop; once the process has exited (and its
 * group is killed), what is left in the pipe goes to the log before done.
 *
 * The log is kept bounded while the job writes it: every second its
 * middle is freed once it passes the log limit (logcap.h); the runner
 * compacts it after the attempt.
 *
 * Cancel sends SIGTERM to the group and SIGKILL 5 s later if it is still
 * there; a forced cancel sends SIGKILL at once. When the main process
 * exits, whatever it left running in its group is killed: a node's work
 * ends with the node.
 *
 * Memory: a job that asks for memory runs in a memory cgroup of its own
 * with that limit (memcg.h) where this machine lets pipec make one; the
 * kernel's OOM kill there marks the attempt as killed for memory.
 * Elsewhere the limit is not enforced (the log says so), and an attempt
 * ended by SIGKILL whose peak reached its request counts as killed for
 * memory. The peak is the largest resident set among its processes
 * (wait4's ru_maxrss, which covers the children it waited for).
 */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np, POSIX_SPAWN_SETSID */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container.h"
#include "logcap.h"
#include "memcg.h"
#include "target.h"
#include "units.h"

extern char **environ;

#define KILL_GRACE_MS 5000
#define LOG_TRIM_MS 1000
#define CG_REMOVE_TRIES 100     /* local_close waits this many ms at most
                                   for the last processes of a cgroup */

typedef struct local_target local_target;

typedef struct local_job {
  pid_t pid;
  int pidfd;             /* readable once the process has exited */
  uv_poll_t poll;
  uv_timer_t timer;      /* SIGKILL after the grace period */
  uv_timer_t trim;       /* keeps the log within the limit */
  int outfd;             /* the read end of the job's stdout and stderr */
  uv_poll_t out;         /* outfd readable: to the log */
  int logfd;             /* the log, opened at the first byte; -1 before */
  bool log_failed;       /* the log cannot be written: output is dropped */
  const char *log_path;
  uint64_t log_limit;
  tgt_job *job;
  tgt_result r;
  int open_handles;
  bool exited;
  local_target *lt;
  memcg *cg;             /* its memory cgroup, or NULL */
} local_job;

static void cg_done(local_target *lt, memcg *cg);

static void job_closed(uv_handle_t *h) {
  local_job *lj = h->data;
  if (--lj->open_handles > 0)
    return;
  tgt_job *job = lj->job;
  tgt_result r = lj->r;
  close(lj->pidfd);
  close(lj->outfd);
  if (lj->logfd >= 0)
    close(lj->logfd);
  free(lj);
  if (job) {
    job->tdata = NULL; /* a late cancel() is then a no-op */
    job->done(job, &r);
  }
}

/* Was the attempt killed for memory? Its cgroup's OOM kill says so; with
 * no cgroup, a SIGKILL (of it, or of the command its shell ran: 137)
 * with its peak at what it asked for. */
static void judge_memory(local_job *lj) {
  tgt_result *r = &lj->r;
  if (lj->job->container) {
    ctr_judge_memory(lj->job, r); /* (it has no cgroup: cg_for) */
    return;
  }
  int64_t limit = lj->job->res.memory;
  bool failed = r->term_signal || r->exit_code != 0;
  if (lj->cg && r->peak_memory <= 0)
    r->peak_memory = memcg_peak(lj->cg);
  bool killed = r->term_signal == SIGKILL ||
                (!r->term_signal && r->exit_code == 128 + SIGKILL);
  bool oom = failed && !r->cancelled && limit > 0 &&
             (lj->cg ? memcg_oom_killed(lj->cg)
                     : killed && r->peak_memory >= limit - limit / 20);
  if (lj->cg) {
    cg_done(lj->lt, lj->cg);
    lj->cg = NULL;
  }
  if (oom)
    tgt_say_out_of_memory(r, limit);
}

/* The log, open for writing at its end (created now if need be). */
static int log_fd(local_job *lj) {
  if (lj->logfd >= 0 || lj->log_failed)
    return lj->logfd;
  lj->logfd = open(lj->log_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (lj->logfd >= 0 && lseek(lj->logfd, 0, SEEK_END) < 0) {
    close(lj->logfd);
    lj->logfd = -1;
  }
  lj->log_failed = lj->logfd < 0;
  return lj->logfd;
}

/* Append up to 1 MiB of the pipe to the log (fd): the bytes moved, 0 at
 * the end of the output, or -1 with errno (EAGAIN: nothing there now). */
static ssize_t to_log(int in, int fd) {
  ssize_t n = splice(in, NULL, fd, NULL, 1 << 20,
                     SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
  if (n >= 0 || errno != EINVAL)
    return n;
  char buf[65536]; /* a log that cannot be spliced to */
  n = read(in, buf, sizeof buf);
  for (ssize_t done = 0; n > 0 && done < n;) {
    ssize_t w = write(fd, buf + done, (size_t)(n - done));
    if (w < 0 && errno != EINTR)
      return -1;
    done += w > 0 ? w : 0;
  }
  return n;
}

/* Move what the pipe holds to the log, without blocking. Returns false at
 * the end of the output (every writer closed the pipe). Output that the
 * log cannot take (a full disk) is read and dropped: the job never blocks
 * on its stdout for want of a log. */
static bool drain(local_job *lj, bool readable) {
  int avail = 0;
  if (lj->logfd < 0 && !lj->log_failed &&
      ioctl(lj->outfd, FIONREAD, &avail) == 0 && avail == 0)
    return !readable; /* nothing written: no log yet (readable: the end) */
  for (;;) {
    int fd = log_fd(lj);
    ssize_t n = fd >= 0 ? to_log(lj->outfd, fd) : -1;
    if (n < 0 && fd >= 0 && errno != EAGAIN && errno != EINTR) {
      close(fd); /* the log failed: drop the rest */
      lj->logfd = -1;
      lj->log_failed = true;
    }
    if (fd < 0 || lj->log_failed) {
      char buf[65536];
      n = read(lj->outfd, buf, sizeof buf);
    }
    if (n == 0)
      return false;
    if (n < 0 && errno != EINTR)
      return errno == EAGAIN;
  }
}

static void on_output(uv_poll_t *poll, int status, int events) {
  (void)status, (void)events;
  local_job *lj = poll->data;
  if (!drain(lj, true))
    uv_poll_stop(poll);
}

static void on_exit_cb(uv_poll_t *poll, int status, int events) {
  (void)status, (void)events;
  local_job *lj = poll->data;
  /* Kill the leftovers of the group while the exited leader is still a
   * zombie: until it is reaped its pid (the group id) cannot be reused. */
  siginfo_t si;
  si.si_pid = 0;
  if (waitid(P_PID, (id_t)lj->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
      si.si_pid == 0)
    return; /* not yet */
  kill(-lj->pid, SIGKILL);
  int ws;
  pid_t got;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  do
    got = wait4(lj->pid, &ws, 0, &ru);
  while (got < 0 && errno == EINTR);
  lj->exited = true;
  drain(lj, false); /* the group is gone: what it wrote is in the pipe */
  if (got < 0) {
    lj->r.exit_code = 127;
    snprintf(lj->r.message, sizeof lj->r.message, "lost the process: %s",
             strerror(errno));
  } else if (WIFSIGNALED(ws)) {
    lj->r.term_signal = WTERMSIG(ws);
  } else {
    lj->r.exit_code = WEXITSTATUS(ws);
  }
  lj->r.peak_memory = (int64_t)ru.ru_maxrss * 1024; /* (KiB on Linux) */
  judge_memory(lj);
  uv_poll_stop(poll);
  uv_timer_stop(&lj->timer);
  uv_timer_stop(&lj->trim);
  uv_close((uv_handle_t *)&lj->timer, job_closed);
  uv_close((uv_handle_t *)&lj->trim, job_closed);
  uv_poll_stop(&lj->out);
  uv_close((uv_handle_t *)&lj->out, job_closed);
  uv_close((uv_handle_t *)poll, job_closed);
}

/* environ with job's entries (and one_more, if set) added, replacing
 * entries of the same key. */
static char **merge_env(char **extra, char *one_more) {
  size_t n = 0, m = 0;
  while (environ[n])
    n++;
  while (extra && extra[m])
    m++;
  char **env = calloc(n + m + 2, sizeof *env);
  if (!env)
    return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    size_t key = strcspn(environ[i], "=");
    bool replaced = false;
    for (size_t j = 0; j < m && !replaced; j++)
      replaced = strncmp(extra[j], environ[i], key) == 0 &&
                 extra[j][key] == '=';
    if (one_more && strncmp(one_more, environ[i], key) == 0 &&
        one_more[key] == '=')
      replaced = true;
    if (!replaced)
      env[k++] = environ[i];
  }
  for (size_t j = 0; j < m; j++)
    env[k++] = extra[j];
  if (one_more)
    env[k++] = one_more;
  return env;
}

/* Programs found in PATH, remembered: a search costs a failed execve per
 * PATH entry in the child, for every job. */
struct local_target {
  tgt base;
  uint64_t log_limit;      /* logcap.h; 0: none */
  struct { char *name, *path; } *found;
  size_t n_found, cap_found;
  int cg_state;            /* memory cgroups: 0 not yet probed, 1 usable,
                              -1 not here (cg_why says why) */
  memcg_base cg;
  char cg_why[512];
  unsigned cg_seq;
  memcg **cg_left;         /* cgroups whose last processes were still
                              exiting: removed later */
  size_t n_left, cap_left;
};

/* An attempt's cgroup is done with: remove it, or later if its last
 * processes are still on their way out. */
static void cg_done(local_target *lt, memcg *cg) {
  for (size_t i = 0; i < lt->n_left;) /* the ones left before, first */
    if (memcg_remove(lt->cg_left[i]) != -EBUSY) {
      memcg_free(lt->cg_left[i]);
      lt->cg_left[i] = lt->cg_left[--lt->n_left];
    } else {
      i++;
    }
  if (memcg_remove(cg) != -EBUSY) {
    memcg_free(cg);
    return;
  }
  if (lt->n_left == lt->cap_left) {
    lt->cap_left = lt->cap_left ? 2 * lt->cap_left : 8;
    memcg **v = realloc(lt->cg_left, lt->cap_left * sizeof *v);
    if (!v) {
      memcg_free(cg); /* the next sweep removes it */
      return;
    }
    lt->cg_left = v;
  }
  lt->cg_left[lt->n_left++] = cg;
}

/* The memory cgroup for a job asking for memory, or NULL: then the log
 * says once why its memory is not enforced. */
static memcg *cg_for(local_target *lt, const tgt_job *job, int logfd) {
  /* a container's limit is the runtime's (--memory): a cgroup here would
   * hold its client only, and removing it would kill the watcher that
   * stops the container */
  if (job->res.memory <= 0 || job->container)
    return NULL;
  if (lt->cg_state == 0) {
    lt->cg_state = memcg_probe(&lt->cg, lt->cg_why, sizeof lt->cg_why) == 0
                       ? 1
                       : -1;
    if (lt->cg_state == 1)
      memcg_sweep(&lt->cg);
  }
  char e[512] = "";
  memcg *cg = NULL;
  if (lt->cg_state == 1 &&
      memcg_create(&lt->cg, ++lt->cg_seq, job->res.memory, &cg, e,
                   sizeof e) == 0)
    return cg;
  char lim[32];
  units_size_text(job->res.memory, lim, sizeof lim);
  dprintf(logfd, "==> pipec: memory = \"%s\" is not enforced on this "
                 "machine: %s <==\n",
          lim, lt->cg_state == 1 ? e : lt->cg_why);
  return NULL;
}

static const char *resolve(local_target *lt, const char *name) {
  if (strchr(name, '/'))
    return name;
  for (size_t i = 0; i < lt->n_found; i++)
    if (strcmp(lt->found[i].name, name) == 0)
      return lt->found[i].path;
  const char *path = getenv("PATH");
  if (!path)
    path = "/usr/local/bin:/usr/bin:/bin";
  for (const char *p = path; *p;) {
    size_t n = strcspn(p, ":");
    char cand[4096];
    if (n > 0 && (size_t)snprintf(cand, sizeof cand, "%.*s/%s", (int)n, p,
                                  name) < sizeof cand &&
        access(cand, X_OK) == 0) {
      if (lt->n_found == lt->cap_found) {
        size_t cap = lt->cap_found ? lt->cap_found * 2 : 16;
        void *nf = realloc(lt->found, cap * sizeof *lt->found);
        if (!nf)
          return name;
        lt->found = nf;
        lt->cap_found = cap;
      }
      char *nm = strdup(name), *pa = strdup(cand);
      if (!nm || !pa) {
        free(nm), free(pa);
        return name;
      }
      lt->found[lt->n_found].name = nm;
      lt->found[lt->n_found].path = pa;
      return lt->found[lt->n_found++].path;
    }
    p += n + (p[n] == ':');
  }
  return name; /* let exec report it */
}

/* Start argv in a new session with posix_spawn (vfork-like: no copy of
 * pipec's page tables, which fork() would pay for every node). */
static int spawn(const char *file, char **argv, char **env, const char *cwd,
                 int logfd, pid_t *pid) {
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, logfd, 1);
  posix_spawn_file_actions_adddup2(&fa, logfd, 2);
  if (cwd)
    posix_spawn_file_actions_addchdir_np(&fa, cwd);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setsigdefault(&at, &all); /* SIGPIPE etc. as a shell has */
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
                                    POSIX_SPAWN_SETSIGDEF);
  int rc = posix_spawn(pid, file, &fa, &at, argv, env);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  return rc;
}

static void trim_log(uv_timer_t *timer);

/* Can the log be made (its directory is there to write into)? 0, or a
 * negative errno. The file itself waits for the first byte. */
static int log_writable(const char *path) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (!slash)
    return access(".", W_OK) == 0 ? 0 : -errno;
  snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
  return access(slash == path ? "/" : dir, W_OK | X_OK) == 0 ? 0 : -errno;
}

/* A job the loop could not watch: its fds closed and lj freed, once its
 * poll handle (if it was initialised) is closed. */
static void abandoned(uv_handle_t *h) {
  local_job *lj = h->data;
  close(lj->pidfd);
  close(lj->outfd);
  free(lj);
}

static int local_submit(tgt *t, tgt_job *job, char *err, size_t errlen) {
  int wrc = log_writable(job->log_path);
  if (wrc != 0) {
    snprintf(err, errlen, "cannot open the log %s: %s", job->log_path,
             strerror(-wrc));
    return wrc;
  }
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "cannot make a pipe for the log %s: %s",
             job->log_path, strerror(errno));
    return -errno;
  }
  int logfd = pfd[1]; /* the job's end */
  local_job *lj = calloc(1, sizeof *lj);
  char cuda[160];
  snprintf(cuda, sizeof cuda, "CUDA_VISIBLE_DEVICES=%s", job->gpus);
  char **env = merge_env(job->env, job->gpus_set ? cuda : NULL);
  if (!lj || !env) {
    close(pfd[0]);
    close(logfd);
    free(lj);
    free(env);
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  local_target *lt = (local_target *)t;
  lj->lt = lt;
  lj->cg = cg_for(lt, job, logfd);
  /* a node with an image: the container client's command line */
  char **cargv = NULL, **wrapped = NULL;
  if (job->container &&
      !(cargv = ctr_argv(job->container, job, job->argv, "", err, errlen))) {
    close(pfd[0]);
    close(logfd);
    if (lj->cg) {
      memcg_remove(lj->cg);
      memcg_free(lj->cg);
    }
    free(lj);
    free(env);
    return -EINVAL;
  }
  char **argv = cargv ? cargv : job->argv;
  if (lj->cg) {
    /* the job enters its cgroup itself before it becomes the command:
     * everything it starts is inside */
    size_t n = 0;
    while (argv[n])
      n++;
    wrapped = calloc(n + 5, sizeof *wrapped);
    if (!wrapped)
      abort();
    wrapped[0] = "/bin/sh";
    wrapped[1] = "-c";
    wrapped[2] = "echo 0 > \"$0\" || { echo \"pipec: cannot enter the "
                 "memory cgroup $0\" >&2; exit 125; }; exec \"$@\"";
    wrapped[3] = (char *)memcg_procs(lj->cg);
    memcpy(wrapped + 4, argv, n * sizeof *wrapped);
    argv = wrapped;
  }
  const char *file = resolve(lt, argv[0]);
  int rc = spawn(file, argv, env, job->cwd, logfd, &lj->pid);
  ctr_argv_free(cargv);
  free(env);
  free(wrapped);
  close(logfd); /* the job holds it now */
  if (rc != 0 && lj->cg) {
    memcg_remove(lj->cg);
    memcg_free(lj->cg);
    lj->cg = NULL;
  }
  if (rc != 0) {
    close(pfd[0]);
    /* posix_spawn reports a failed chdir like a failed exec: say which */
    if (job->cwd && access(job->cwd, X_OK) != 0)
      snprintf(err, errlen, "cannot run '%s' in %s: %s", job->argv[0],
               job->cwd, strerror(errno));
    else
      snprintf(err, errlen, "cannot run '%s': %s", job->argv[0],
               strerror(rc));
    free(lj);
    return -rc;
  }
  lj->pidfd = (int)syscall(SYS_pidfd_open, lj->pid, 0);
  if (lj->pidfd < 0) {
    int e = errno;
    kill(-lj->pid, SIGKILL);
    waitpid(lj->pid, NULL, 0);
    snprintf(err, errlen, "cannot watch process %d: %s (Linux 5.3 or later "
                          "is needed)",
             (int)lj->pid, strerror(e));
    close(pfd[0]);
    if (lj->cg)
      cg_done(lt, lj->cg);
    free(lj);
    return -e;
  }
  lj->job = job;
  lj->outfd = pfd[0];
  lj->logfd = -1;
  lj->log_path = job->log_path;
  fcntl(lj->outfd, F_SETFL, O_NONBLOCK);
  lj->log_limit = lt->log_limit;
  lj->poll.data = lj;
  lj->timer.data = lj;
  lj->trim.data = lj;
  lj->out.data = lj;
  int polled = uv_poll_init(t->loop, &lj->poll, lj->pidfd);
  int e = polled != 0 ? polled : uv_poll_init(t->loop, &lj->out, lj->outfd);
  if (e != 0) {
    /* the loop cannot watch the job: it must not run unwatched */
    kill(-lj->pid, SIGKILL);
    waitpid(lj->pid, NULL, 0);
    snprintf(err, errlen, "cannot watch process %d: %s", (int)lj->pid,
             uv_strerror(e));
    if (lj->cg)
      cg_done(lt, lj->cg);
    if (polled == 0)
      uv_close((uv_handle_t *)&lj->poll, abandoned);
    else
      abandoned((uv_handle_t *)&lj->poll);
    return e;
  }
  uv_timer_init(t->loop, &lj->timer);
  uv_timer_init(t->loop, &lj->trim);
  lj->open_handles = 4;
  uv_poll_start(&lj->poll, UV_READABLE, on_exit_cb);
  uv_poll_start(&lj->out, UV_READABLE, on_output);
  if (lj->log_limit)
    uv_timer_start(&lj->trim, trim_log, LOG_TRIM_MS, LOG_TRIM_MS);
  job->tdata = lj;
  snprintf(job->job_id, sizeof job->job_id, "%d", (int)lj->pid);
  return 0;
}

static void trim_log(uv_timer_t *timer) {
  local_job *lj = timer->data;
  if (lj->logfd >= 0)
    logcap_trim(lj->logfd, lj->log_limit);
}

static void kill_later(uv_timer_t *timer) {
  local_job *lj = timer->data;
  if (!lj->exited)
    kill(-lj->pid, SIGKILL);
}

static void local_cancel(tgt *t, tgt_job *job, bool force) {
  (void)t;
  local_job *lj = job->tdata;
  if (!lj || lj->exited)
    return;
  lj->r.cancelled = true;
  if (force) {
    kill(-lj->pid, SIGKILL);
    return;
  }
  kill(-lj->pid, SIGTERM);
  if (!uv_is_active((uv_handle_t *)&lj->timer))
    uv_timer_start(&lj->timer, kill_later, KILL_GRACE_MS, 0);
}

static void local_close(tgt *t) {
  local_target *lt = (local_target *)t;
  /* the last processes of a cgroup are gone within moments of SIGKILL;
   * whatever is not, the next sweep removes */
  for (int tries = 0; lt->n_left && tries < CG_REMOVE_TRIES; tries++) {
    for (size_t i = 0; i < lt->n_left;)
      if (memcg_remove(lt->cg_left[i]) != -EBUSY) {
        memcg_free(lt->cg_left[i]);
        lt->cg_left[i] = lt->cg_left[--lt->n_left];
      } else {
        i++;
      }
    if (lt->n_left)
      usleep(1000);
  }
  for (size_t i = 0; i < lt->n_left; i++)
    memcg_free(lt->cg_left[i]);
  free(lt->cg_left);
  for (size_t i = 0; i < lt->n_found; i++) {
    free(lt->found[i].name);
    free(lt->found[i].path);
  }
  free(lt->found);
  free(lt);
}

static int local_host_call(tgt *t, char *const argv[], int timeout_ms,
                           subproc_cb cb, void *data, char *err,
                           size_t errlen) {
  return subproc_start(t->loop, argv, timeout_ms, cb, data, err, errlen);
}

static const tgt_ops local_ops = {
    .submit = local_submit,
    .cancel = local_cancel,
    .close = local_close,
    .host_call = local_host_call,
};

static int local_open(const tgt_kind *kind, uv_loop_t *loop,
                      const pipec_target *decl, tgt **out, char *err,
                      size_t errlen) {
  local_target *lt = calloc(1, sizeof *lt);
  if (!lt) {
    snprintf(err, errlen, "out of memory");
    return -ENOMEM;
  }
  char e[256];
  if (logcap_limit(&lt->log_limit, e, sizeof e) != 0)
    lt->log_limit = LOGCAP_DEFAULT; /* the runner reported the bad value */
  tgt *t = &lt->base;
  t->ops = &local_ops;
  t->kind = kind;
  t->loop = loop;
  t->decl = decl;
  *out = t;
  return 0;
}

static const pipec_opt_spec local_opts[] = {
    TGT_QUOTA_OPTS,
    {.name = "slots", .type = PIPEC_OPT_INT, .min = 1},
    TGT_CONTAINER_OPTS,
};

const tgt_kind tgt_kind_local = {
    .schema = {.name = "local",
               .opts = local_opts,
               .n_opts = sizeof local_opts / sizeof local_opts[0]},
    .counts_against_jobs = true,
    .execs_here = true,
    .fds_per_job = 3, /* its pidfd, the pipe of its output, its log */
    .open = local_open,
};

/*
 * test_tgt_local.c — the local target (engine/tgt_local.c) through
 * tgt_open: exit codes, the log file, env and cwd, cancel (SIGTERM to the
 * whole group, SIGKILL after the grace period, forced), done called exactly
 * once, spawn errors, kinds that are not available, and memory: the peak
 * of every job, and a job that asks for memory killed for it in its own
 * cgroup (where this machine lets the test make one).
 */
#define _GNU_SOURCE
#include "check.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include "target.h"

static char root[256];
static uv_loop_t loop;
static tgt *T;

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

static void setup(void) {
  const char *t = getenv("TMPDIR");
  snprintf(root, sizeof root, "%s/pipec-tgt-XXXXXX", t && *t ? t : "/tmp");
  CHECK(mkdtemp(root) != NULL);
  CHECK_EQ(uv_loop_init(&loop), 0);
  static pipec_target local = {.name = "local", .kind = "local"};
  char err[256] = "";
  CHECK_EQ(tgt_open(&loop, NULL, &local, &T, err, sizeof err), 0);
  CHECK_STREQ(T->kind->schema.name, "local");
}

static void teardown(void) {
  T->ops->close(T);
  CHECK_EQ(uv_loop_close(&loop), 0);
  nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* What the done callback saw. */
typedef struct seen {
  int calls;
  tgt_result r;
} seen;

static void on_done(tgt_job *job, const tgt_result *r) {
  seen *s = job->data;
  s->calls++;
  s->r = *r;
}

static char log_path[512];

static void job_init(tgt_job *job, seen *s, char **argv) {
  memset(job, 0, sizeof *job);
  memset(s, 0, sizeof *s);
  snprintf(log_path, sizeof log_path, "%s/job.log", root);
  job->node_name = "n";
  job->argv = argv;
  job->cwd = root;
  job->log_path = log_path;
  job->scratch = root;
  job->data = s;
  job->done = on_done;
}

/* Submit, run the loop until nothing is left, return the result. */
static void run_job(tgt_job *job) {
  char err[256] = "";
  int rc = T->ops->submit(T, job, err, sizeof err);
  if (rc != 0)
    fprintf(stderr, "submit: %s\n", err);
  CHECK_EQ(rc, 0);
  CHECK(atoi(job->job_id) > 0);
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
}

static char *read_all(const char *path) {
  static char buf[4096];
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return buf;
}

/* Processes of group pgid that are alive (zombies do not count), from
 * /proc/PID/stat: "pid (comm) state ppid pgrp ...". */
static int group_alive(pid_t pgid) {
  DIR *d = opendir("/proc");
  CHECK(d != NULL);
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    char p[300], line[1024];
    snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
    FILE *f = fopen(p, "r");
    if (!f)
      continue;
    size_t k = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[k] = 0;
    char *rp = strrchr(line, ')');
    char state;
    int ppid, pgrp;
    if (rp && sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgrp) == 3 &&
        pgrp == pgid && state != 'Z' && state != 'X')
      n++;
  }
  closedir(d);
  return n;
}

/* A leftover that was SIGKILLed may take a moment to disappear. */
static int group_alive_after(pid_t pgid, int ms) {
  int n = group_alive(pgid);
  for (int i = 0; n > 0 && i < ms / 10; i++) {
    usleep(10000);
    n = group_alive(pgid);
  }
  return n;
}

static void test_true_false(void) {
  setup();
  tgt_job job;
  seen s;
  char *t_argv[] = {"true", NULL};
  job_init(&job, &s, t_argv);
  run_job(&job);
  CHECK_EQ(s.calls, 1);
  CHECK_EQ(s.r.exit_code, 0);
  CHECK_EQ(s.r.term_signal, 0);
  CHECK(!s.r.cancelled);
  CHECK_STREQ(s.r.message, "");

  char *f_argv[] = {"false", NULL};
  job_init(&job, &s, f_argv);
  run_job(&job);
  CHECK_EQ(s.calls, 1);
  CHECK_EQ(s.r.exit_code, 1);
  CHECK_EQ(s.r.term_signal, 0);

  char *x_argv[] = {"/bin/sh", "-c", "exit 42", NULL};
  job_init(&job, &s, x_argv);
  run_job(&job);
  CHECK_EQ(s.r.exit_code, 42);

  /* a process killed by a signal reports it */
  char *k_argv[] = {"/bin/sh", "-c", "kill -USR1 $$", NULL};
  job_init(&job, &s, k_argv);
  run_job(&job);
  CHECK_EQ(s.calls, 1);
  CHECK_EQ(s.r.term_signal, SIGUSR1);
  teardown();
}

static void test_log_env_cwd(void) {
  setup();
  tgt_job job;
  seen s;
  char *argv[] = {"sh", "-c",
                  "echo out; echo err >&2; echo \"v=$PIPEC_T_VAR\"; "
                  "echo \"o=$PIPEC_T_OVER\"; pwd; "
                  "read x && echo \"stdin not empty: $x\"; exit 0",
                  NULL};
  char *env[] = {"PIPEC_T_VAR=hello world", "PIPEC_T_OVER=job", NULL};
  CHECK_EQ(setenv("PIPEC_T_OVER", "pipec", 1), 0);
  job_init(&job, &s, argv);
  job.env = env;
  /* the log is appended to, never truncated */
  FILE *f = fopen(log_path, "w");
  CHECK(f != NULL);
  fputs("before\n", f);
  fclose(f);
  run_job(&job);
  CHECK_EQ(s.calls, 1);
  CHECK_EQ(s.r.exit_code, 0);
  char want[1024];
  char real[512];
  CHECK(realpath(root, real) != NULL);
  snprintf(want, sizeof want,
           "before\nout\nerr\nv=hello world\no=job\n%s\n", real);
  CHECK_STREQ(read_all(log_path), want);
  /* pipec's own environment is untouched */
  CHECK_STREQ(getenv("PIPEC_T_OVER"), "pipec");
  unsetenv("PIPEC_T_OVER");

  /* the log file is created 0644 (under the usual umask 022) */
  struct stat st;
  CHECK_EQ(stat(log_path, &st), 0);
  CHECK_EQ(st.st_mode & 0777 & ~0022, 0644 & ~0022);
  teardown();
}

static void test_own_session(void) {
  setup();
  tgt_job job;
  seen s;
  /* the job leads its own session and process group */
  char *argv[] = {"sh", "-c",
                  "ps -o pid=,pgid=,sid= -p $$ | awk '{ print ($1 == $2 && "
                  "$2 == $3) ? \"leader\" : \"not\" }'",
                  NULL};
  job_init(&job, &s, argv);
  run_job(&job);
  CHECK_EQ(s.r.exit_code, 0);
  CHECK_STREQ(read_all(log_path), "leader\n");
  teardown();
}

/* cancel() from a timer once the job runs. */
typedef struct canceller {
  uv_timer_t timer;
  tgt_job *job;
  bool force;
  int times;
} canceller;

static void do_cancel(uv_timer_t *t) {
  canceller *c = t->data;
  for (int i = 0; i < c->times; i++)
    T->ops->cancel(T, c->job, c->force);
  uv_close((uv_handle_t *)t, NULL);
}

static double cancel_job(tgt_job *job, bool force, int times) {
  char err[256] = "";
  CHECK_EQ(T->ops->submit(T, job, err, sizeof err), 0);
  canceller c = {.job = job, .force = force, .times = times};
  uv_timer_init(&loop, &c.timer);
  c.timer.data = &c;
  uv_timer_start(&c.timer, do_cancel, 200, 0);
  uint64_t t0 = uv_hrtime();
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  return (double)(uv_hrtime() - t0) / 1e9;
}

static void test_cancel_term(void) {
  setup();
  tgt_job job;
  seen s;
  /* a background child and a foreground one: SIGTERM reaches both */
  char *argv[] = {"sh", "-c", "sleep 30 & sleep 30; wait", NULL};
  job_init(&job, &s, argv);
  double secs = cancel_job(&job, false, 2); /* cancelling twice is fine */
  pid_t pid = atoi(job.job_id);
  CHECK_EQ(s.calls, 1);
  CHECK(s.r.cancelled);
  CHECK_EQ(s.r.term_signal, SIGTERM);
  CHECK(secs < 3);
  CHECK_EQ(group_alive_after(pid, 2000), 0);
  teardown();
}

static void test_cancel_escalates(void) {
  setup();
  tgt_job job;
  seen s;
  /* the whole group ignores SIGTERM: SIGKILL comes after 5 s */
  char *argv[] = {"sh", "-c", "trap '' TERM; sleep 30 & sleep 30; wait",
                  NULL};
  job_init(&job, &s, argv);
  double secs = cancel_job(&job, false, 1);
  pid_t pid = atoi(job.job_id);
  CHECK_EQ(s.calls, 1);
  CHECK(s.r.cancelled);
  CHECK_EQ(s.r.term_signal, SIGKILL);
  CHECK(secs > 4.5 && secs < 8);
  CHECK_EQ(group_alive_after(pid, 2000), 0);
  teardown();
}

static void test_cancel_force(void) {
  setup();
  tgt_job job;
  seen s;
  char *argv[] = {"sh", "-c", "trap '' TERM; sleep 30 & sleep 30; wait",
                  NULL};
  job_init(&job, &s, argv);
  double secs = cancel_job(&job, true, 1);
  pid_t pid = atoi(job.job_id);
  CHECK_EQ(s.calls, 1);
  CHECK(s.r.cancelled);
  CHECK_EQ(s.r.term_signal, SIGKILL);
  CHECK(secs < 3);
  CHECK_EQ(group_alive_after(pid, 2000), 0);
  teardown();
}

static void test_leftovers_killed(void) {
  setup();
  tgt_job job;
  seen s;
  /* the main process exits at once; what it left in its group dies too */
  char *argv[] = {"sh", "-c", "sleep 30 & exit 3", NULL};
  job_init(&job, &s, argv);
  run_job(&job);
  pid_t pid = atoi(job.job_id);
  CHECK_EQ(s.calls, 1);
  CHECK_EQ(s.r.exit_code, 3);
  CHECK(!s.r.cancelled);
  CHECK_EQ(group_alive_after(pid, 2000), 0);
  teardown();
}

static void test_spawn_errors(void) {
  setup();
  tgt_job job;
  seen s;
  char err[256] = "";
  char *argv[] = {"pipec-no-such-program", "x", NULL};
  job_init(&job, &s, argv);
  CHECK(T->ops->submit(T, &job, err, sizeof err) < 0);
  CHECK_STREQ(err, "cannot run 'pipec-no-such-program': No such file or "
                   "directory");

  /* a path that is not executable */
  char path[600];
  snprintf(path, sizeof path, "%s/not-exec", root);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  fputs("#!/bin/sh\n", f);
  fclose(f);
  char *argv2[] = {path, NULL};
  job_init(&job, &s, argv2);
  CHECK(T->ops->submit(T, &job, err, sizeof err) < 0);
  CHECK(strstr(err, "Permission denied") != NULL);

  /* a working directory that does not exist is named as such */
  char *argv3[] = {"true", NULL};
  char cwd[600];
  snprintf(cwd, sizeof cwd, "%s/no-such-dir", root);
  job_init(&job, &s, argv3);
  job.cwd = cwd;
  CHECK(T->ops->submit(T, &job, err, sizeof err) < 0);
  char want[800];
  snprintf(want, sizeof want,
           "cannot run 'true' in %s: No such file or directory", cwd);
  CHECK_STREQ(err, want);

  /* a log that cannot be opened */
  char logp[600];
  snprintf(logp, sizeof logp, "%s/no-such-dir/x.log", root);
  job_init(&job, &s, argv3);
  job.log_path = logp;
  CHECK(T->ops->submit(T, &job, err, sizeof err) < 0);
  CHECK(strstr(err, "cannot open the log") != NULL);

  /* nothing ran, nothing is pending, done was never called */
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  CHECK_EQ(s.calls, 0);
  teardown();
}

static void test_many(void) {
  setup();
  enum { N = 50 };
  static tgt_job jobs[N];
  static seen ss[N];
  static char logs[N][600];
  char *argv[] = {"sh", "-c", "exit $((PIPEC_T_I % 7))", NULL};
  static char envs[N][32];
  static char *envv[N][2];
  for (int i = 0; i < N; i++) {
    job_init(&jobs[i], &ss[i], argv);
    snprintf(logs[i], sizeof logs[i], "%s/%d.log", root, i);
    jobs[i].log_path = logs[i];
    snprintf(envs[i], sizeof envs[i], "PIPEC_T_I=%d", i);
    envv[i][0] = envs[i];
    envv[i][1] = NULL;
    jobs[i].env = envv[i];
    char err[256];
    CHECK_EQ(T->ops->submit(T, &jobs[i], err, sizeof err), 0);
  }
  CHECK_EQ(uv_run(&loop, UV_RUN_DEFAULT), 0);
  for (int i = 0; i < N; i++) {
    CHECK_EQ(ss[i].calls, 1);
    CHECK_EQ(ss[i].r.exit_code, i % 7);
  }
  teardown();
}

/* A shell pipeline holding ~100 MiB in `tail` (one line without a
 * newline: tail keeps it whole). */
static char *hold_100m[] = {"/bin/sh", "-c",
                            "head -c 104857600 /dev/zero | tail >/dev/null",
                            NULL};

static void test_memory(void) {
  setup();
  tgt_job job;
  seen s;
  job_init(&job, &s, hold_100m);
  run_job(&job);
  CHECK_EQ(s.r.exit_code, 0);
  CHECK(!s.r.out_of_memory);
  /* the peak of a process its shell waited for */
  CHECK(s.r.peak_memory >= 90LL << 20);
  CHECK(s.r.peak_memory <= 140LL << 20);
  job_init(&job, &s, hold_100m);
  job.res.memory = 40LL << 20;
  run_job(&job);
  FILE *f = fopen(log_path, "r");
  char line[512] = "";
  bool enforced = true;
  while (f && fgets(line, sizeof line, f))
    if (strstr(line, "is not enforced on this machine"))
      enforced = false;
  if (f)
    fclose(f);
  if (!enforced) {
    fprintf(stderr, "   (memory cgroups are not available here: %s)", line);
    CHECK(s.r.exit_code == 0 && !s.r.out_of_memory);
    teardown();
    return;
  }
  CHECK(s.r.exit_code != 0 || s.r.term_signal != 0);
  CHECK(s.r.out_of_memory);
  CHECK(strstr(s.r.message, "ran out of memory: killed at its limit, memory "
                            "= \"40M\"") != NULL);
  /* a failure that is not for memory is not taken for one */
  char *fail[] = {"/bin/sh", "-c", "kill -9 $$", NULL};
  job_init(&job, &s, fail);
  job.res.memory = 40LL << 20;
  run_job(&job);
  CHECK_EQ(s.r.term_signal, 9);
  CHECK(!s.r.out_of_memory);
  teardown();
}

/* Every kind opens through tgt_open and closes without running anything
 * (opening contacts no host: an ssh or Slurm target connects on its first
 * job). The remote kinds are tested end to end in e2e/remote_*. */
static void test_kinds(void) {
  uv_loop_t l;
  CHECK_EQ(uv_loop_init(&l), 0);
  const tgt_kinds *kinds = tgt_builtin_kinds();
  CHECK_EQ(kinds->n, 3);
  for (size_t i = 0; i < kinds->n; i++) {
    tgt *t = NULL;
    char err[256] = "";
    pipec_target decl = {.name = "t", .kind = kinds->items[i]->schema.name};
    CHECK_EQ(tgt_open(&l, NULL, &decl, &t, err, sizeof err), 0);
    CHECK(t != NULL);
    CHECK(t->kind == kinds->items[i]);
    t->ops->close(t);
  }
  /* a kind this pipec does not have: a clear error, nothing opened */
  tgt *t = NULL;
  char err[256] = "";
  pipec_target k8s = {.name = "k", .kind = "kubernetes"};
  CHECK_EQ(tgt_open(&l, NULL, &k8s, &t, err, sizeof err), -EINVAL);
  CHECK(t == NULL);
  CHECK_STREQ(err, "target 'k': this pipec has no target kind 'kubernetes'");
  CHECK_EQ(uv_run(&l, UV_RUN_DEFAULT), 0);
  CHECK_EQ(uv_loop_close(&l), 0);
}

/* Under Valgrind posix_spawn cannot report a failed exec or chdir (its
 * vfork-like clone is run as a fork): the child just exits 127. */
static bool under_valgrind(void) {
  const char *p = getenv("LD_PRELOAD");
  return p && strstr(p, "vgpreload");
}

int main(void) {
  RUN(test_true_false);
  RUN(test_log_env_cwd);
  RUN(test_own_session);
  RUN(test_cancel_term);
  RUN(test_cancel_force);
  RUN(test_leftovers_killed);
  if (!under_valgrind())
    RUN(test_spawn_errors);
  RUN(test_many);
  RUN(test_kinds);
  RUN(test_memory);
  RUN(test_cancel_escalates); /* last: it waits the 5 s grace period */
  return 0;
}

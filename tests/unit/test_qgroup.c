/*
 * test_qgroup.c — quota groups shared between processes (engine/qgroup.c):
 * two sets in one directory stand for two runs; a forked child that dies
 * holding a share (kill -9) stands for a killed run.
 */
#include "check.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qgroup.h"

static char dir[64];

static void fresh_dir(void) {
  snprintf(dir, sizeof dir, "/tmp/pipec-qgroup-XXXXXX");
  CHECK(mkdtemp(dir));
}

static void rm_dir(void) {
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}

static pipec_quota group(int64_t cpus, int64_t memory, int64_t jobs) {
  return (pipec_quota){.name = "team", .target_name = "local", .target = 0,
                       .cpus = cpus, .memory = memory, .gpus = -1,
                       .jobs = jobs};
}

static qgroup_set *join(const char *label) {
  qgroup_set *s = NULL;
  char err[256];
  CHECK_EQ(qgroup_open(dir, label, &s, err, sizeof err), 0);
  return s;
}

static int take(qgroup_set *s, const pipec_quota *g, int64_t cpus,
                qgroup_share **sh) {
  pipec_resources r = {.cpus = cpus};
  char err[256] = "";
  int rc = qgroup_take(s, g, &r, "node", sh, err, sizeof err);
  if (rc < 0)
    fprintf(stderr, "take: %s\n", err);
  CHECK(rc >= 0);
  return rc;
}

static qgroup_use use_of(void) {
  qgroup_use u;
  char err[256];
  CHECK_EQ(qgroup_usage(dir, "team", &u, err, sizeof err), 0);
  return u;
}

/* Two runs share cpus = 2: the third cpu waits until one is given back. */
static void test_shared_limit(void) {
  fresh_dir();
  pipec_quota g = group(2, -1, -1);
  qgroup_set *a = join("run 1"), *b = join("run 2");
  qgroup_share *a1 = NULL, *b1 = NULL, *a2 = NULL;
  CHECK_EQ(take(a, &g, 1, &a1), QGROUP_TAKEN);
  CHECK_EQ(take(b, &g, 1, &b1), QGROUP_TAKEN);
  CHECK_EQ(take(a, &g, 1, &a2), QGROUP_WAIT);
  qgroup_use u = use_of();
  CHECK_EQ(u.cpus, 2);
  CHECK_EQ(u.jobs, 2);
  CHECK_EQ(u.holders, 2);
  CHECK_EQ(u.waiting, 1);
  CHECK_EQ(take(a, &g, 1, &a2), QGROUP_WAIT); /* still full */
  qgroup_give(b, b1);
  CHECK_EQ(take(a, &g, 1, &a2), QGROUP_TAKEN);
  u = use_of();
  CHECK_EQ(u.cpus, 2);
  CHECK_EQ(u.holders, 1);
  CHECK_EQ(u.waiting, 0);
  qgroup_close(a); /* gives back a1 and a2 */
  u = use_of();
  CHECK_EQ(u.cpus, 0);
  qgroup_close(b);
  rm_dir();
}

/* First come, first served: a waiting 2-cpu request is not overtaken by
 * a 1-cpu one that would fit. */
static void test_fifo(void) {
  fresh_dir();
  pipec_quota g = group(2, -1, -1);
  qgroup_set *a = join("run 1"), *b = join("run 2");
  qgroup_share *a1 = NULL, *big = NULL, *small = NULL;
  CHECK_EQ(take(a, &g, 1, &a1), QGROUP_TAKEN);
  CHECK_EQ(take(b, &g, 2, &big), QGROUP_WAIT);
  CHECK_EQ(take(a, &g, 1, &small), QGROUP_WAIT); /* big came first */
  qgroup_give(a, a1);
  CHECK_EQ(take(a, &g, 1, &small), QGROUP_WAIT);
  CHECK_EQ(take(b, &g, 2, &big), QGROUP_TAKEN);
  CHECK_EQ(take(a, &g, 1, &small), QGROUP_WAIT); /* full now */
  qgroup_give(b, big);
  CHECK_EQ(take(a, &g, 1, &small), QGROUP_TAKEN);
  /* a waiter that withdraws loses its place and blocks nobody */
  qgroup_share *w = NULL, *x = NULL;
  CHECK_EQ(take(b, &g, 2, &w), QGROUP_WAIT);
  qgroup_withdraw(b, w);
  CHECK_EQ(take(a, &g, 1, &x), QGROUP_TAKEN);
  qgroup_close(a);
  qgroup_close(b);
  rm_dir();
}

/* Memory and jobs count as well. */
static void test_memory_jobs(void) {
  fresh_dir();
  pipec_quota g = group(-1, 100, 3);
  qgroup_set *a = join("run 1");
  pipec_resources r60 = {.memory = 60}, r40 = {.memory = 40}, r0 = {0};
  qgroup_share *s1 = NULL, *s2 = NULL, *s3 = NULL, *s4 = NULL;
  char err[256];
  CHECK_EQ(qgroup_take(a, &g, &r60, "m60", &s1, err, sizeof err),
           QGROUP_TAKEN);
  CHECK_EQ(qgroup_take(a, &g, &r60, "m60b", &s2, err, sizeof err),
           QGROUP_WAIT);
  qgroup_give(a, s2);
  s2 = NULL;
  CHECK_EQ(qgroup_take(a, &g, &r40, "m40", &s3, err, sizeof err),
           QGROUP_TAKEN);
  CHECK_EQ(qgroup_take(a, &g, &r0, "none", &s2, err, sizeof err),
           QGROUP_TAKEN); /* jobs: 3 of 3 */
  CHECK_EQ(qgroup_take(a, &g, &r0, "fourth", &s4, err, sizeof err),
           QGROUP_WAIT);
  qgroup_use u = use_of();
  CHECK_EQ(u.memory, 100);
  CHECK_EQ(u.jobs, 3);
  CHECK_EQ(u.cpus, 0);
  qgroup_close(a);
  rm_dir();
}

/* A process killed with SIGKILL while it holds the whole group: its share
 * counts for nothing at once, and the next take removes its files. */
static void test_killed_holder(void) {
  fresh_dir();
  pipec_quota g = group(2, -1, -1);
  int ready[2];
  CHECK(pipe(ready) == 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    qgroup_set *c = join("child");
    qgroup_share *sh = NULL;
    pipec_resources r = {.cpus = 2};
    char err[256];
    if (qgroup_take(c, &g, &r, "all", &sh, err, sizeof err) != QGROUP_TAKEN)
      _exit(1);
    if (write(ready[1], "x", 1) != 1)
      _exit(1);
    pause();
    _exit(0);
  }
  char x;
  CHECK_EQ(read(ready[0], &x, 1), 1);
  close(ready[0]);
  close(ready[1]);
  qgroup_set *a = join("run 1");
  qgroup_share *s = NULL;
  CHECK_EQ(use_of().cpus, 2);
  CHECK_EQ(take(a, &g, 1, &s), QGROUP_WAIT);
  kill(pid, SIGKILL);
  CHECK(waitpid(pid, NULL, 0) == pid);
  CHECK_EQ(use_of().cpus, 0); /* the kernel released its lock */
  CHECK_EQ(take(a, &g, 2, &s), QGROUP_TAKEN);
  /* only this process's files are left */
  char cmd[1024];
  snprintf(cmd, sizeof cmd, "test $(ls '%s/holders' | wc -l) = 1 && "
                            "test $(ls '%s/shares/team' | wc -l) = 1",
           dir, dir);
  CHECK(system(cmd) == 0);
  qgroup_close(a);
  snprintf(cmd, sizeof cmd, "test -z \"$(find '%s/holders' "
                            "'%s/shares/team' -type f)\"", dir, dir);
  CHECK(system(cmd) == 0); /* and leaving removes those */
  rm_dir();
}

/* Another process in the middle of a take: this one waits, never blocks. */
static void test_lock_busy(void) {
  fresh_dir();
  pipec_quota g = group(2, -1, -1);
  qgroup_set *a = join("run 1");
  char path[512];
  snprintf(path, sizeof path, "%s/lock", dir);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    flock(fd, LOCK_EX);
    pause();
    _exit(0);
  }
  /* wait until the child holds it */
  for (int i = 0; i < 5000; i++) {
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    bool busy = flock(fd, LOCK_EX | LOCK_NB) != 0;
    close(fd);
    if (busy)
      break;
    usleep(1000);
  }
  qgroup_share *s = NULL;
  CHECK_EQ(take(a, &g, 1, &s), QGROUP_WAIT);
  kill(pid, SIGKILL);
  CHECK(waitpid(pid, NULL, 0) == pid);
  CHECK_EQ(take(a, &g, 1, &s), QGROUP_TAKEN);
  qgroup_close(a);
  rm_dir();
}

int main(void) {
  RUN(test_shared_limit);
  RUN(test_fifo);
  RUN(test_memory_jobs);
  RUN(test_killed_holder);
  RUN(test_lock_busy);
  return 0;
}

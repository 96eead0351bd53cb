/*
 * test_claims.c — claims on cache keys (engine/claims.c): one holder at a
 * time, across open files of one process and across processes; released
 * by the holder (its file removed) or by the holder's death (kill -9); a
 * missing parent directory is an error and is not created.
 */
#define _GNU_SOURCE
#include "check.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "claims.h"

static char root[256], dir[300];

static hash128 key(int n) {
  hash128 h;
  memset(&h, 0, sizeof h);
  h.b[0] = (uint8_t)n;
  h.b[15] = 0x5a;
  return h;
}

static void test_one_holder(void) {
  claim a, b;
  char holder[128], err[512];
  hash128 k = key(1);
  CHECK_EQ(claim_try(dir, &k, &a, holder, sizeof holder, err, sizeof err), 1);
  CHECK(claim_held(&a));
  /* another open file of the same process is another claimant */
  CHECK_EQ(claim_try(dir, &k, &b, holder, sizeof holder, err, sizeof err), 0);
  CHECK(!claim_held(&b));
  char want[64];
  snprintf(want, sizeof want, " %ld", (long)getpid());
  CHECK(strstr(holder, want) != NULL); /* "HOST PID" */
  /* another key is free */
  hash128 k2 = key(2);
  CHECK_EQ(claim_try(dir, &k2, &b, NULL, 0, err, sizeof err), 1);
  claim_release(&b);
  char path[400];
  snprintf(path, sizeof path, "%s", a.path);
  claim_release(&a);
  CHECK(access(path, F_OK) != 0); /* the holder removes its file */
  CHECK_EQ(claim_try(dir, &k, &a, NULL, 0, err, sizeof err), 1);
  claim_release(&a);
  claim_release(&a); /* twice is fine */
}

/* A holder killed with SIGKILL holds nothing: the kernel drops its lock
 * (its file stays; the next claimant takes it over). */
static void test_killed_holder(void) {
  hash128 k = key(3);
  int ready[2];
  CHECK_EQ(pipe(ready), 0);
  pid_t pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    claim c;
    char err[512];
    if (claim_try(dir, &k, &c, NULL, 0, err, sizeof err) != 1)
      _exit(3);
    if (write(ready[1], "x", 1) != 1)
      _exit(4);
    for (;;)
      pause();
  }
  char x;
  CHECK_EQ(read(ready[0], &x, 1), 1);
  claim c;
  char holder[128], err[512];
  CHECK_EQ(claim_try(dir, &k, &c, holder, sizeof holder, err, sizeof err), 0);
  char want[64];
  snprintf(want, sizeof want, " %ld", (long)pid);
  CHECK(strstr(holder, want) != NULL);
  CHECK_EQ(kill(pid, SIGKILL), 0);
  int st;
  CHECK_EQ(waitpid(pid, &st, 0), pid);
  CHECK_EQ(claim_try(dir, &k, &c, NULL, 0, err, sizeof err), 1);
  claim_release(&c);
  close(ready[0]);
  close(ready[1]);
}

/* The claims directory is made, its parent never: a shared cache that is
 * not mounted must not be created by a claim. */
static void test_missing_parent(void) {
  char missing[400];
  snprintf(missing, sizeof missing, "%s/not-there/claims", root);
  hash128 k = key(4);
  claim c;
  char err[512];
  int rc = claim_try(missing, &k, &c, NULL, 0, err, sizeof err);
  CHECK_EQ(rc, -ENOENT);
  CHECK(strstr(err, "not-there") != NULL);
  snprintf(missing, sizeof missing, "%s/not-there", root);
  CHECK(access(missing, F_OK) != 0);
}

int main(void) {
  snprintf(root, sizeof root, "%s/pipec-claims.XXXXXX",
           getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
  CHECK(mkdtemp(root) != NULL);
  snprintf(dir, sizeof dir, "%s/claims", root);
  RUN(test_one_holder);
  RUN(test_killed_holder);
  RUN(test_missing_parent);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
  CHECK(system(cmd) == 0);
  return 0;
}

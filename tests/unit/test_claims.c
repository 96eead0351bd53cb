/*
 * test_claims.c — claims on cache keys (engine/claims.c): one holder at a
 * time, across claimants of one process and across processes, each named
 * "HOST PID" to a waiter; released by the holder or by the holder's death
 * (kill -9); nothing is created per key, and a closed claimant leaves only
 * the lock file; a missing parent directory is an error and is not
 * created.
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

/* The names in dir, sorted, joined by spaces. */
static void names_in(const char *d, char *out, size_t len) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "ls -A '%s' | sed 's/^holder\\..*/holder/' | "
                            "sort | tr '\\n' ' '", d);
  FILE *p = popen(cmd, "r");
  CHECK(p != NULL);
  size_t n = fread(out, 1, len - 1, p);
  out[n] = 0;
  pclose(p);
}

static void test_one_holder(void) {
  claim a, b;
  char holder[128], err[512];
  claim_dir *d1 = claim_dir_new(dir), *d2 = claim_dir_new(dir);
  hash128 k = key(1);
  CHECK_EQ(claim_try(d1, &k, &a, holder, sizeof holder, err, sizeof err), 1);
  CHECK(claim_held(&a));
  /* another claimant of the same process is another claimant, and is
   * told who holds it */
  CHECK_EQ(claim_try(d2, &k, &b, holder, sizeof holder, err, sizeof err), 0);
  CHECK(!claim_held(&b));
  char want[64];
  snprintf(want, sizeof want, " %ld", (long)getpid());
  CHECK(strstr(holder, want) != NULL); /* "HOST PID" */
  /* so is the claimant itself, claiming it twice */
  CHECK_EQ(claim_try(d1, &k, &b, NULL, 0, err, sizeof err), 0);
  /* another key is free, and claiming it made no file */
  hash128 k2 = key(2);
  char names[256];
  names_in(dir, names, sizeof names);
  CHECK_EQ(claim_try(d2, &k2, &b, NULL, 0, err, sizeof err), 1);
  char names2[256];
  names_in(dir, names2, sizeof names2);
  CHECK_STREQ(names2, names);
  CHECK_STREQ(names, "holder holder locks ");
  claim_release(&b);
  claim_release(&a);
  CHECK_EQ(claim_try(d2, &k, &a, NULL, 0, err, sizeof err), 1);
  claim_release(&a);
  claim_release(&a); /* twice is fine */
  claim_dir_close(d1);
  claim_dir_close(d2);
  names_in(dir, names, sizeof names);
  CHECK_STREQ(names, "locks ");
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
    if (claim_try(claim_dir_new(dir), &k, &c, NULL, 0, err, sizeof err) != 1)
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
  claim_dir *d = claim_dir_new(dir);
  CHECK_EQ(claim_try(d, &k, &c, holder, sizeof holder, err, sizeof err), 0);
  char want[64];
  snprintf(want, sizeof want, " %ld", (long)pid);
  CHECK(strstr(holder, want) != NULL);
  CHECK_EQ(kill(pid, SIGKILL), 0);
  int st;
  CHECK_EQ(waitpid(pid, &st, 0), pid);
  CHECK_EQ(claim_try(d, &k, &c, NULL, 0, err, sizeof err), 1);
  claim_release(&c);
  claim_dir_close(d);
  /* the next claimant removes what the killed one left */
  d = claim_dir_new(dir);
  CHECK_EQ(claim_try(d, &k, &c, NULL, 0, err, sizeof err), 1);
  claim_release(&c);
  claim_dir_close(d);
  char names[256];
  names_in(dir, names, sizeof names);
  CHECK_STREQ(names, "locks ");
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
  claim_dir *d = claim_dir_new(missing);
  int rc = claim_try(d, &k, &c, NULL, 0, err, sizeof err);
  claim_dir_close(d);
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

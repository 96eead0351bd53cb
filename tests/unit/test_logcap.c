/*
 * test_logcap.c — bounded logs (engine/logcap.c): the limit from
 * PIPEC_LOG_LIMIT, the trim of a log being written (its middle's blocks
 * freed, its size and the writer's offset unchanged) and the finish (head,
 * one line, tail, cut at line ends).
 */
#define _GNU_SOURCE
#include "check.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "logcap.h"

static char dir[256], path[300];

/* n lines "line NNNNNNN\n" (13 bytes each) appended to fd */
static void lines(int fd, int from, int n) {
  char buf[32];
  for (int i = from; i < from + n; i++) {
    int len = snprintf(buf, sizeof buf, "line %07d\n", i);
    CHECK_EQ(write(fd, buf, (size_t)len), len);
  }
}

static char *slurp(size_t *n) {
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  rewind(f);
  char *buf = malloc((size_t)len + 1);
  CHECK(buf != NULL);
  CHECK_EQ(fread(buf, 1, (size_t)len, f), (size_t)len);
  buf[len] = 0;
  fclose(f);
  *n = (size_t)len;
  return buf;
}

static void test_limit(void) {
  char err[256];
  uint64_t lim;
  unsetenv("PIPEC_LOG_LIMIT");
  CHECK_EQ(logcap_limit(&lim, err, sizeof err), 0);
  CHECK_EQ(lim, 64ull << 20);
  setenv("PIPEC_LOG_LIMIT", "512K", 1);
  CHECK_EQ(logcap_limit(&lim, err, sizeof err), 0);
  CHECK_EQ(lim, 512 << 10);
  setenv("PIPEC_LOG_LIMIT", "0", 1);
  CHECK_EQ(logcap_limit(&lim, err, sizeof err), 0);
  CHECK_EQ(lim, 0);
  setenv("PIPEC_LOG_LIMIT", "lots", 1);
  CHECK_EQ(logcap_limit(&lim, err, sizeof err), -1);
  CHECK(strstr(err, "'lots', not a size") != NULL);
  unsetenv("PIPEC_LOG_LIMIT");
}

static void test_trim_and_finish(void) {
  const uint64_t limit = 64 << 10;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
  CHECK(fd >= 0);
  lines(fd, 0, 4000);                       /* 52000 bytes: under */
  logcap_trim(fd, limit);
  CHECK_EQ(logcap_finish(path, limit), 0);
  struct stat st;
  CHECK_EQ(stat(path, &st), 0);
  CHECK_EQ(st.st_size, 52000);              /* short: untouched */

  lines(fd, 4000, 96000);                   /* 1.3 MB */
  CHECK_EQ(fstat(fd, &st), 0);
  off_t size = st.st_size;
  blkcnt_t blocks = st.st_blocks;
  logcap_trim(fd, limit);
  CHECK_EQ(fstat(fd, &st), 0);
  CHECK_EQ(st.st_size, size);               /* the size stays */
  if (st.st_blocks < blocks)                /* where holes can be punched */
    CHECK(st.st_blocks * 512 < 2 * (blkcnt_t)limit + 16 * 4096);
  else
    fprintf(stderr, "   (no hole punching here)\n");
  lines(fd, 100000, 10);                    /* the writer goes on at the end */
  close(fd);

  CHECK_EQ(logcap_finish(path, limit), 0);
  size_t n;
  char *log = slurp(&n);
  CHECK(n <= limit + 256);
  CHECK(n >= limit - 2 * 4096);
  CHECK(strncmp(log, "line 0000000\n", 13) == 0);
  CHECK(strstr(log, "line 0100009\n") == log + n - 13);
  char *mark = strstr(log, "==> pipec: ");
  CHECK(mark != NULL && mark > log && mark[-1] == '\n');
  CHECK(strstr(mark, " bytes of output left out here (a log keeps its first "
                     "and last 32768 bytes: PIPEC_LOG_LIMIT=64K) <==\n") !=
        NULL);
  char *after = strchr(mark, '\n') + 1;
  CHECK(strncmp(after, "line ", 5) == 0);   /* the tail starts a line */
  CHECK_EQ(memchr(log, 0, n) == NULL, 1);   /* no hole bytes */
  free(log);
  /* a finish of a finished log changes nothing */
  CHECK_EQ(stat(path, &st), 0);
  size = st.st_size;
  CHECK_EQ(logcap_finish(path, limit), 0);
  CHECK_EQ(stat(path, &st), 0);
  CHECK_EQ(st.st_size, size);
  CHECK_EQ(logcap_finish("/nonexistent/log", limit), 0);
  CHECK_EQ(logcap_append(path, "==> pipec: attempt 2 of 3 (node x) <==\n"),
           0);
  log = slurp(&n);
  CHECK(strstr(log, "line 0100009\n==> pipec: attempt 2 of 3 (node x) <==\n") !=
        NULL);
  free(log);
  unlink(path);
}

int main(void) {
  const char *t = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/pipec-logcap-XXXXXX", t && *t ? t : "/tmp");
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/node.log", dir);
  RUN(test_limit);
  RUN(test_trim_and_finish);
  rmdir(dir);
  return 0;
}

/*
 * logcap.c — bounded logs (logcap.h).
 *
 * The head is [0, H) and the tail [size - T, size) with H = limit / 2 and
 * T = limit - H - the left-out line's length;
 * the head is cut after its last newline within the last LINE_SLACK bytes
 * of it, the tail starts after its first newline within its first
 * LINE_SLACK bytes, so the left-out line sits between whole lines. A trim
 * punches [H rounded up, size - limit / 2 - LINE_SLACK rounded down) to
 * whole blocks; the finish only ever reads inside the head and the tail
 * (which starts at most LINE_SLACK before the last half), so it never
 * sees the zeros of a hole.
 */
#define _GNU_SOURCE /* fallocate */
#include "logcap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "units.h"

#define LINE_SLACK 4096
#define BLOCK 4096

int logcap_limit(uint64_t *limit, char *err, size_t errlen) {
  const char *v = getenv("PIPEC_LOG_LIMIT");
  *limit = LOGCAP_DEFAULT;
  if (!v || !*v)
    return 0;
  int64_t n;
  if (units_size(v, &n) != 0 || n < 0) {
    snprintf(err, errlen, "PIPEC_LOG_LIMIT is '%s', not a size (like 64M, "
                          "1G, or 0 for no limit)", v);
    return -1;
  }
  /* a limit below two line slacks would leave nothing of head or tail */
  *limit = n == 0 ? 0 : (uint64_t)n < 4 * LINE_SLACK ? 4 * LINE_SLACK
                                                     : (uint64_t)n;
  return 0;
}

void logcap_trim(int fd, uint64_t limit) {
  struct stat sb;
  if (!limit || fstat(fd, &sb) != 0 || (uint64_t)sb.st_size <= limit)
    return;
  uint64_t half = limit / 2;
  /* the finish's tail may reach back a line slack before the last half
   * (when the head ends early at a newline): keep that too */
  uint64_t keep = half + LINE_SLACK;
  if ((uint64_t)sb.st_size <= keep)
    return;
  uint64_t from = (half + BLOCK - 1) / BLOCK * BLOCK;
  uint64_t to = ((uint64_t)sb.st_size - keep) / BLOCK * BLOCK;
  if (to > from)
    (void)fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    (off_t)from, (off_t)(to - from));
}

/* Copy len bytes at offset off of in to out. */
static int copy_range(int in, int out, uint64_t off, uint64_t len) {
  char buf[65536];
  while (len > 0) {
    size_t want = len < sizeof buf ? (size_t)len : sizeof buf;
    ssize_t n = pread(in, buf, want, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? -errno : -EIO;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(out, buf + done, (size_t)(n - done));
      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return w < 0 ? -errno : -EIO;
      done += w;
    }
    off += (uint64_t)n;
    len -= (uint64_t)n;
  }
  return 0;
}

/* Where the head should end: after the last '\n' in [end - LINE_SLACK,
 * end), else at end. */
static uint64_t head_end(int fd, uint64_t end) {
  char buf[LINE_SLACK];
  uint64_t from = end > LINE_SLACK ? end - LINE_SLACK : 0;
  ssize_t n = pread(fd, buf, (size_t)(end - from), (off_t)from);
  for (ssize_t i = n - 1; i >= 0; i--)
    if (buf[i] == '\n')
      return from + (uint64_t)i + 1;
  return end;
}

/* Where the tail should start: after the first '\n' in [start, start +
 * LINE_SLACK), else at start. */
static uint64_t tail_start(int fd, uint64_t start, uint64_t size) {
  char buf[LINE_SLACK];
  uint64_t len = size - start < LINE_SLACK ? size - start : LINE_SLACK;
  ssize_t n = pread(fd, buf, (size_t)len, (off_t)start);
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\n')
      return start + (uint64_t)i + 1 < size ? start + (uint64_t)i + 1
                                            : start;
  return start;
}

static void size_text(uint64_t n, char *buf, size_t len) {
  if (n >= (1ull << 30) && n % (1ull << 30) == 0)
    snprintf(buf, len, "%lluG", (unsigned long long)(n >> 30));
  else if (n >= (1ull << 20) && n % (1ull << 20) == 0)
    snprintf(buf, len, "%lluM", (unsigned long long)(n >> 20));
  else if (n >= 1024 && n % 1024 == 0)
    snprintf(buf, len, "%lluK", (unsigned long long)(n >> 10));
  else
    snprintf(buf, len, "%llu bytes", (unsigned long long)n);
}

int logcap_finish(const char *path, uint64_t limit) {
  struct stat sb;
  if (!limit || stat(path, &sb) != 0 || (uint64_t)sb.st_size <= limit)
    return 0;
  int in = open(path, O_RDONLY | O_CLOEXEC);
  if (in < 0)
    return -errno;
  uint64_t size = (uint64_t)sb.st_size, half = limit / 2;
  uint64_t h = head_end(in, half);
  char tmp[PATH_MAX], lim[32], line[256];
  size_text(limit, lim, sizeof lim);
  const char *fmt = "%s==> pipec: %llu bytes of output left out here (a log "
                    "keeps its first and last %llu bytes: PIPEC_LOG_LIMIT=%s) "
                    "<==\n";
  const char *nl = h > 0 && h == half ? "\n" : "";
  /* the line counts against the limit (at its longest), so the result is
   * within it and finishing it again changes nothing */
  uint64_t room = (uint64_t)snprintf(line, sizeof line, fmt, nl, ~0ull,
                                     (unsigned long long)half, lim);
  uint64_t t = tail_start(in, size - (limit - h - room), size);
  int n = snprintf(line, sizeof line, fmt, nl, (unsigned long long)(t - h),
                   (unsigned long long)half, lim);
  snprintf(tmp, sizeof tmp, "%s.pipec-XXXXXX", path);
  int out = mkostemp(tmp, O_CLOEXEC);
  if (out < 0) {
    int e = -errno;
    close(in);
    return e;
  }
  int rc = copy_range(in, out, 0, h);
  if (rc == 0 && write(out, line, (size_t)n) != n)
    rc = -EIO;
  if (rc == 0)
    rc = copy_range(in, out, t, size - t);
  if (rc == 0 && fchmod(out, sb.st_mode & 07777) != 0)
    rc = -errno;
  close(out);
  close(in);
  if (rc == 0 && rename(tmp, path) != 0)
    rc = -errno;
  if (rc != 0)
    unlink(tmp);
  return rc;
}

int logcap_append(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return -errno;
  size_t n = strlen(text);
  int rc = write(fd, text, n) == (ssize_t)n ? 0 : -EIO;
  close(fd);
  return rc;
}

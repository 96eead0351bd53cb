/*
 * subproc.c — run a helper to completion with a deadline (subproc.h).
 */
#define _GNU_SOURCE
#include "subproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Append what fd has to buf (keeping a NUL); 0 at EOF. */
static int drain(int fd, char *buf, size_t cap, size_t *len) {
  char tmp[4096];
  ssize_t n = read(fd, tmp, sizeof tmp);
  if (n < 0)
    return errno == EINTR || errno == EAGAIN ? 1 : 0;
  if (n == 0)
    return 0;
  size_t room = cap - 1 - *len;
  size_t take = (size_t)n < room ? (size_t)n : room;
  memcpy(buf + *len, tmp, take);
  *len += take;
  buf[*len] = 0;
  return 1;
}

int subproc_run(char *const argv[], int timeout_ms, subproc_out *o) {
  memset(o, 0, sizeof *o);
  o->status = -1;
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    goto fail0;
  if (pipe2(err, O_CLOEXEC) != 0) {
    close(out[0]), close(out[1]);
    goto fail0;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(out[1]), close(err[1]);
  if (rc != 0) {
    close(out[0]), close(err[0]);
    snprintf(o->err, sizeof o->err, "cannot run '%s': %s", argv[0],
             strerror(rc));
    return -1;
  }
  size_t lo = 0, le = 0;
  struct pollfd pf[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  long long deadline = now_ms() + timeout_ms;
  while (pf[0].fd >= 0 || pf[1].fd >= 0) {
    long long left = deadline - now_ms();
    if (left <= 0) {
      o->timed_out = 1;
      kill(pid, SIGKILL);
      break;
    }
    int n = poll(pf, 2, (int)left);
    if (n < 0 && errno != EINTR)
      break;
    for (int i = 0; i < 2 && n > 0; i++) {
      if (pf[i].fd < 0 || !pf[i].revents)
        continue;
      int more = i == 0 ? drain(pf[i].fd, o->out, sizeof o->out, &lo)
                        : drain(pf[i].fd, o->err, sizeof o->err, &le);
      if (!more) {
        close(pf[i].fd);
        pf[i].fd = -1;
      }
    }
  }
  for (int i = 0; i < 2; i++)
    if (pf[i].fd >= 0)
      close(pf[i].fd);
  int ws;
  while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
    ;
  o->status = WIFSIGNALED(ws) ? 128 + WTERMSIG(ws) : WEXITSTATUS(ws);
  return 0;
fail0:
  snprintf(o->err, sizeof o->err, "cannot make a pipe: %s", strerror(errno));
  return -1;
}

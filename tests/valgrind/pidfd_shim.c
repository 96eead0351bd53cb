/*
 * pidfd_shim.c — pidfd_open(2) for programs under Valgrind 3.19 (Debian
 * 12's), which does not know the system call and fails it with ENOSYS; the
 * local target watches every job through a pidfd, so no node could run.
 * .ci/valgrind preloads this library (LD_PRELOAD) into the processes it
 * runs under Valgrind; nothing else uses it.
 *
 * syscall(SYS_pidfd_open, pid, 0) returns one end of a socket pair; a
 * thread waits for the process to exit without reaping it (waitid with
 * WNOWAIT) and then writes a byte to the other end, so the fd becomes
 * readable exactly when a real pidfd would. The caller reaps the process
 * itself, as with a real pidfd. Every other system call is passed on.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

typedef long (*syscall_fn)(long, ...);

typedef struct watch {
  pid_t pid;
  int fd;
} watch;

static void *wait_exit(void *arg) {
  watch *w = arg;
  siginfo_t si;
  while (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOWAIT) < 0 &&
         errno == EINTR)
    ;
  char c = 1;
  (void)!send(w->fd, &c, 1, MSG_NOSIGNAL);
  close(w->fd);
  free(w);
  return NULL;
}

static long fake_pidfd_open(pid_t pid) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
    return -1;
  watch *w = malloc(sizeof *w);
  if (!w) {
    close(sv[0]);
    close(sv[1]);
    errno = ENOMEM;
    return -1;
  }
  w->pid = pid;
  w->fd = sv[1];
  pthread_attr_t at;
  pthread_attr_init(&at);
  pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
  pthread_t th;
  int rc = pthread_create(&th, &at, wait_exit, w);
  pthread_attr_destroy(&at);
  if (rc != 0) {
    close(sv[0]);
    close(sv[1]);
    free(w);
    errno = rc;
    return -1;
  }
  return sv[0];
}

long syscall(long n, ...) {
  va_list ap;
  va_start(ap, n);
  long a[6];
  for (int i = 0; i < 6; i++)
    a[i] = va_arg(ap, long);
  va_end(ap);
  if (n == SYS_pidfd_open && a[1] == 0)
    return fake_pidfd_open((pid_t)a[0]);
  static syscall_fn real;
  if (!real)
    real = (syscall_fn)dlsym(RTLD_NEXT, "syscall");
  return real(n, a[0], a[1], a[2], a[3], a[4], a[5]);
}

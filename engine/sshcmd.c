/*
 * sshcmd.c — the OpenSSH client's command line (sshcmd.h).
 */
#include "sshcmd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alloc.h"

int sshcmd_ctl_dir(char *buf, size_t len, char *err, size_t errlen) {
  snprintf(buf, len, "/tmp/pipec-ssh-%ld", (long)getuid());
  if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
    int e = errno;
    snprintf(err, errlen, "cannot create %s: %s", buf, strerror(e));
    return -e;
  }
  struct stat sb;
  if (lstat(buf, &sb) != 0 || !S_ISDIR(sb.st_mode) ||
      sb.st_uid != getuid() || (sb.st_mode & 077)) {
    snprintf(err, errlen, "%s must be a directory of yours that only you "
             "can use (it holds ssh's connection sockets)", buf);
    return -EPERM;
  }
  return 0;
}

char **sshcmd_argv(const sshcmd_host *h, const char *ctl_dir,
                   const char *errfile, const char *ctl_op, size_t extra,
                   size_t *n) {
  char **v = xcalloc(32 + extra + 1, sizeof *v);
  size_t k = 0;
  char buf[PATH_MAX + 64];
  v[k++] = xstrdup("ssh");
  const char *cfg = getenv("PIPEC_SSH_CONFIG");
  if (cfg && *cfg) {
    v[k++] = xstrdup("-F");
    v[k++] = xstrdup(cfg);
  }
  /* LogLevel INFO: "Connection ... closed by remote host" reaches the -E
   * file even when the user's config quiets ssh (only pipec reads it) */
  const char *opts[] = {"BatchMode=yes", "LogLevel=INFO", "ControlMaster=auto",
                        "ControlPersist=60", "ServerAliveInterval=5",
                        "ServerAliveCountMax=3"};
  for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
    v[k++] = xstrdup("-o");
    v[k++] = xstrdup(opts[i]);
  }
  snprintf(buf, sizeof buf, "ControlPath=%s/%%C", ctl_dir);
  v[k++] = xstrdup("-o");
  v[k++] = xstrdup(buf);
  snprintf(buf, sizeof buf, "ConnectTimeout=%lld", h->connect_timeout);
  v[k++] = xstrdup("-o");
  v[k++] = xstrdup(buf);
  if (errfile) {
    v[k++] = xstrdup("-E");
    v[k++] = xstrdup(errfile);
  }
  if (ctl_op) {
    v[k++] = xstrdup("-O");
    v[k++] = xstrdup(ctl_op);
  }
  if (h->port) {
    snprintf(buf, sizeof buf, "%lld", h->port);
    v[k++] = xstrdup("-p");
    v[k++] = xstrdup(buf);
  }
  if (h->user && *h->user) {
    v[k++] = xstrdup("-l");
    v[k++] = xstrdup(h->user);
  }
  if (h->identity && *h->identity) {
    v[k++] = xstrdup("-i");
    v[k++] = xstrdup(h->identity);
  }
  v[k++] = xstrdup("--");
  v[k++] = xstrdup(h->host);
  *n = k;
  return v;
}

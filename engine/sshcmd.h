/*
 * sshcmd.h — how pipec calls the system's OpenSSH client, for everything
 * that talks to a host: the ssh target (targets/ssh.c) and ssh:// shared
 * caches (sharedcache.h). One place for the options, so all calls to one
 * host share one multiplexed connection (ControlMaster, ControlPath in
 * /tmp/pipec-ssh-UID, kept 60 s after the last use) whoever makes them,
 * and ~/.ssh/config, agents and jump hosts work as they do for the user
 * ($PIPEC_SSH_CONFIG, if set, is the config file: `ssh -F`).
 */
#ifndef PIPEC_SSHCMD_H
#define PIPEC_SSHCMD_H

#include <stddef.h>

typedef struct sshcmd_host {
  const char *host;              /* required */
  const char *user, *identity;   /* NULL or "": ssh's own choice */
  long long port;                /* 0: ssh's own choice */
  long long connect_timeout;     /* seconds, > 0 */
} sshcmd_host;

/* The ControlPath directory, made if needed and checked to be the
 * user's own and private: 0 and buf filled, or a negative errno with err. */
int sshcmd_ctl_dir(char *buf, size_t len, char *err, size_t errlen);

/* The ssh client's argv up to and including the host: "ssh", the options,
 * -E errfile (if not NULL), -O ctl_op (if not NULL: talk to the master),
 * "--", the host. The array (malloc'd, each string too) has room for
 * `extra` more words and a NULL after them; *n is the count so far. */
char **sshcmd_argv(const sshcmd_host *h, const char *ctl_dir,
                   const char *errfile, const char *ctl_op, size_t extra,
                   size_t *n);

#endif

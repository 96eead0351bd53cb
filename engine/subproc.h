/*
 * subproc.h — run a short helper program (ssh -O check, a remote kill,
 * sbatch, squeue, scancel) on the libuv loop and get what it printed in a
 * callback, with a deadline. Nothing here blocks: the loop keeps running
 * the scheduler, the status line and Ctrl-C while helpers run, and any
 * number of them run at once. Jobs themselves never run here (tgt_local).
 *
 * A helper runs in a session of its own, so a Ctrl-C at the terminal
 * reaches pipec only (which then cancels what it must), and the deadline
 * kills the helper's whole process group.
 */
#ifndef PIPEC_SUBPROC_H
#define PIPEC_SUBPROC_H

#include <stddef.h>
#include <uv.h>

typedef struct subproc_out {
  int status;        /* exit code; 128+N if killed by signal N */
  char out[8192];    /* stdout, NUL-terminated, cut at the buffer's size */
  char err[1024];    /* stderr, likewise */
  int timed_out;     /* killed at the deadline */
} subproc_out;

/* Called once the helper has ended and its output pipes are closed (or
 * the deadline killed it). o is valid during the call only. */
typedef void (*subproc_cb)(const subproc_out *o, void *data);

/* Start argv (argv[0] looked up in PATH) on loop with stdin from
 * /dev/null, killed after timeout_ms. 0: cb will be called once, from the
 * loop (never from within this call). Negative (a libuv error, e.g.
 * UV_ENOENT, UV_EMFILE) with err saying why it could not start: cb will
 * not be called. */
int subproc_start(uv_loop_t *loop, char *const argv[], int timeout_ms,
                  subproc_cb cb, void *data, char *err, size_t errlen);

#endif

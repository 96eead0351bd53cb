/*
 * subproc.h — run a short helper program (sbatch, squeue, scancel) to the
 * end and capture what it prints, with a deadline. For the control calls of
 * remote targets, which take milliseconds; jobs themselves never run here.
 */
#ifndef PIPEC_SUBPROC_H
#define PIPEC_SUBPROC_H

#include <stddef.h>

typedef struct subproc_out {
  int status;        /* exit code; 128+N if killed by signal N; -1: not run */
  char out[8192];    /* stdout, NUL-terminated, cut at the buffer's size */
  char err[1024];    /* stderr, likewise */
  int timed_out;     /* killed at the deadline */
} subproc_out;

/* Run argv (argv[0] looked up in PATH) with stdin from /dev/null and wait
 * at most timeout_ms. 0 when it ran (whatever its exit status), or -1 with
 * o->err saying why it could not start. */
int subproc_run(char *const argv[], int timeout_ms, subproc_out *o);

#endif

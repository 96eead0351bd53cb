/*
 * target.h — compute targets: where a node's job runs.
 *
 * One small interface (after ninja's CommandRunner): submit a job, get a
 * completion callback on the libuv loop, cancel. Each kind (local, ssh,
 * slurm, and test fakes) is one file implementing tgt_ops. The scheduler
 * never knows which kind it talks to; quotas are the scheduler's business,
 * staging is the target's.
 *
 * Job lifecycle (driven by the scheduler):
 *
 *     submit() ──> running ──> done_cb(result)      exactly once per submit
 *                     │
 *                  cancel() ──> done_cb(result.cancelled = true)
 *
 * A job's outputs are files the command writes to job->out_paths (in a
 * scratch directory of this workspace); the target makes sure they are there
 * (copying them back from a remote host if it must) before calling done_cb.
 * The runner hashes them into the object store only after a zero exit.
 */
#ifndef PIPEC_TARGET_H
#define PIPEC_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "pipec/ir.h"

typedef struct tgt tgt;
typedef struct tgt_job tgt_job;

typedef struct tgt_result {
  int exit_code;        /* valid if !signaled */
  int term_signal;      /* signal that ended the process, or 0 */
  bool cancelled;       /* cancel() was called */
  char message[512];    /* why it failed, when it's not just an exit code
                           (spawn error, lost connection, ...) */
} tgt_result;

typedef void (*tgt_done_cb)(tgt_job *job, const tgt_result *r);

struct tgt_job {
  /* Set by the runner before submit; owned by the runner. */
  const char *node_name;
  char **argv;            /* NULL-terminated; argv[0] looked up in PATH */
  char **env;             /* NULL-terminated "K=V" added to pipec's environ */
  const char *cwd;        /* working directory: the pipeline's directory */
  const char *log_path;   /* stdout and stderr are appended here */
  const char *scratch;    /* the job's scratch directory (outputs go here) */
  const char **in_paths;  /* files the job reads (for staging) */
  uint32_t n_in;
  const char **out_paths; /* files the job must write */
  uint32_t n_out;
  const char **files;     /* other files the command reads (code files, a
                             plugin), absolute: staged with the inputs */
  uint32_t n_files;
  bool builtin;           /* argv[0] is this pipec (`pipec exec ...`) */
  pipec_resources res;
  uint32_t node;          /* index of the node in the pipeline */
  void *data;             /* the runner's */
  /* Set by the scheduler before submit. */
  tgt_done_cb done;       /* the target calls it once the job has ended */
  char gpus[128];         /* gpu ids the job holds ("0,2"), or "" */
  bool gpus_set;          /* the target counts gpus: export gpus as
                             CUDA_VISIBLE_DEVICES (even when empty) */
  void *sched;            /* the scheduler's */
  /* Set by the target. */
  char job_id[64];        /* "12345" (pid), "host:4242", slurm id */
  void *tdata;            /* the target's */
};

typedef struct tgt_ops {
  const char *kind;
  /* Start the job. 0, or a negative error with err filled (nothing was
   * started and done will not be called). */
  int (*submit)(tgt *t, tgt_job *job, char *err, size_t errlen);
  /* Ask the job to stop (SIGTERM to its process group, scancel, ...);
   * force kills at once. done is still called once it has stopped. */
  void (*cancel)(tgt *t, tgt_job *job, bool force);
  /* Free the target; no job may be running. */
  void (*close)(tgt *t);
} tgt_ops;

struct tgt {
  const tgt_ops *ops;
  uv_loop_t *loop;
  const pipec_target *decl;  /* name, kind, options */
  void *priv;
};

/* Open the target described by decl on loop. 0, or negative with err. */
int tgt_open(uv_loop_t *loop, const pipec_target *decl, tgt **out, char *err,
             size_t errlen);

/* One constructor per kind. */
int tgt_local_open(uv_loop_t *loop, const pipec_target *decl, tgt **out,
                   char *err, size_t errlen);
int tgt_ssh_open(uv_loop_t *loop, const pipec_target *decl, tgt **out,
                 char *err, size_t errlen);
int tgt_slurm_open(uv_loop_t *loop, const pipec_target *decl, tgt **out,
                   char *err, size_t errlen);

#endif

/*
 * target.h — compute targets: where a node's job runs.
 *
 * One small interface (after ninja's CommandRunner): submit a job, get a
 * completion callback on the libuv loop, cancel. Each kind is one file
 * under engine/targets/ defining a tgt_kind (its name, the schema of its
 * options, a few properties and its open function) and one entry in the
 * table of engine/targets/kinds.c; a caller may add kinds of its own (the
 * tests' fake kind, tests/fake_target.c) with tgt_kinds_add. The compiler
 * checks target blocks against the same table's schemas
 * (tgt_kinds_schema), and the scheduler, the quotas and the runner read
 * only the kind's properties: none of them knows which kind it talks to.
 *
 * No target ever blocks the loop: every program a target runs (the job,
 * ssh, sbatch, squeue, scancel, tar) is a child process watched by the
 * loop (tgt_local's processes, or subproc.h's helpers).
 *
 * Job lifecycle (driven by the scheduler):
 *
 *     submit() ──> started ──> running ──> done(job, result)
 *        │       (job_id set)       │       exactly once per
 *        │                       cancel()   successful submit
 *        │                          └──> done(result.cancelled = true)
 *        └── error: nothing started, no callback is called
 *
 * A job whose job_id is set when submit returns has started; otherwise the
 * target calls job->started once it knows the id (Slurm, when sbatch has
 * answered). A job that fails before it has an id (sbatch refused it) gets
 * done without started.
 *
 * A job's outputs are files the command writes to job->out_paths (in a
 * scratch directory of this workspace); the target makes sure they are there
 * (copying them back from a remote host if it must) before calling done.
 * The runner hashes them into the object store only after a zero exit.
 */
#ifndef PIPEC_TARGET_H
#define PIPEC_TARGET_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "pipec/ir.h"
#include "pipec/target_kind.h"
#include "subproc.h"

typedef struct tgt tgt;
typedef struct tgt_job tgt_job;
typedef struct tgt_kind tgt_kind;

typedef struct tgt_result {
  int exit_code;        /* valid if !signaled */
  int term_signal;      /* signal that ended the process, or 0 */
  bool cancelled;       /* cancel() was called */
  bool out_of_memory;   /* it was killed for memory: its memory cgroup's
                           OOM kill, Slurm's OUT_OF_MEMORY, a SIGKILL with
                           its peak at the memory it asked for */
  int64_t peak_memory;  /* the most memory it held at once, bytes (the
                           largest resident set of its processes); 0:
                           not known */
  char message[512];    /* why it failed, when it's not just an exit code
                           (spawn error, lost connection, ...) */
} tgt_result;

typedef void (*tgt_done_cb)(tgt_job *job, const tgt_result *r);
typedef void (*tgt_started_cb)(tgt_job *job);

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
  struct ctr_job *container; /* run the command in this container
                             (container.h: the target wraps argv with
                             ctr_argv for its host), or NULL */
  uint32_t node;          /* index of the node in the pipeline */
  void *data;             /* the runner's */
  /* Set by the scheduler before submit. */
  tgt_started_cb started; /* the target calls it when it sets job_id
                             after submit has returned */
  tgt_done_cb done;       /* the target calls it once the job has ended */
  char gpus[128];         /* gpu ids the job holds ("0,2"), or "" */
  bool gpus_set;          /* the target counts gpus: export gpus as
                             CUDA_VISIBLE_DEVICES (even when empty) */
  void *sched;            /* the scheduler's */
  int64_t retry_memory;   /* set before the runner hears an attempt
                             ended: the memory (bytes) the next attempt
                             will ask for when it grew (memory_growth,
                             after it ran out of memory), else 0 */
  /* Set by the target. */
  char job_id[64];        /* "12345" (pid), "host:4242", slurm id */
  void *tdata;            /* the target's */
};

typedef struct tgt_ops {
  /* Start the job. 0, or a negative error with err filled (nothing was
   * started and neither callback will be called; -EMFILE or -ENFILE: this
   * process is out of file descriptors, try again later). */
  int (*submit)(tgt *t, tgt_job *job, char *err, size_t errlen);
  /* Ask the job to stop (SIGTERM to its process group, scancel, ...);
   * force kills at once. done is still called once it has stopped (never
   * from within cancel itself). Returns at once: what it has to run on
   * another machine runs on the loop. */
  void (*cancel)(tgt *t, tgt_job *job, bool force);
  /* Free the target; no job may be running, and the loop must then run
   * until it is idle (the target may still close handles on it). */
  void (*close)(tgt *t);
  /* Run a short program (argv[0] looked up in PATH) on the host where the
   * target's commands run, as subproc_start does here: 0 and cb called
   * once from the loop, or negative with err. container.c asks it for
   * images and the runtime's version. NULL: the kind has no such host
   * (it cannot run containers). */
  int (*host_call)(tgt *t, char *const argv[], int timeout_ms,
                   subproc_cb cb, void *data, char *err, size_t errlen);
} tgt_ops;

struct tgt {
  const tgt_ops *ops;
  const tgt_kind *kind;
  uv_loop_t *loop;
  const pipec_target *decl;  /* name, kind, options */
  void *priv;
};

/* A kind of target: one file under engine/targets/ (or a test's own). */
struct tgt_kind {
  pipec_target_kind schema;  /* name and options, as the compiler checks
                                them (target_kind.h) */
  bool counts_against_jobs;  /* its jobs are this machine's work: -j bounds
                                how many run at once */
  bool execs_here;           /* its commands are exec'd on this machine:
                                their argv and environment must fit this
                                machine's exec limits */
  const char *slots_alias;   /* an option that, when given, bounds the
                                running jobs in place of `slots` (Slurm's
                                max_jobs); NULL if none */
  int fds_per_job;           /* file descriptors a running job holds in
                                this process (for lowering -j to fit
                                RLIMIT_NOFILE) */
  /* Open a target of this kind described by decl on loop (t->kind and
   * the rest set). 0, or negative with err. */
  int (*open)(const tgt_kind *kind, uv_loop_t *loop, const pipec_target *decl,
              tgt **out, char *err, size_t errlen);
};

#define TGT_MAX_KINDS 16

/* A table of kinds. Plain data: copy it to add to it. */
typedef struct tgt_kinds {
  uint32_t n;
  const tgt_kind *items[TGT_MAX_KINDS];
  const pipec_target_kind *schemas[TGT_MAX_KINDS]; /* &items[i]->schema */
} tgt_kinds;

/* The kinds built into pipec: local, ssh, slurm (engine/targets/kinds.c). */
const tgt_kinds *tgt_builtin_kinds(void);
/* Add kind to k. 0, -EEXIST (a kind of that name is there) or -ENOSPC. */
int tgt_kinds_add(tgt_kinds *k, const tgt_kind *kind);
/* The kind named name, or NULL. */
const tgt_kind *tgt_kinds_find(const tgt_kinds *k, const char *name);
/* The compiler's view of k (for pipec_compile_opts.target_kinds); points
 * into k. */
pipec_target_kinds tgt_kinds_schema(const tgt_kinds *k);

/* Open the target described by decl on loop, of its kind in kinds (NULL:
 * the built-in ones). 0, or negative with err. */
int tgt_open(uv_loop_t *loop, const tgt_kinds *kinds, const pipec_target *decl,
             tgt **out, char *err, size_t errlen);

/* Option key of the target: as written, else its kind's default, else
 * NULL. kind may be NULL (then only what is written). */
const pipec_value *tgt_opt(const tgt_kind *kind, const pipec_target *decl,
                           const char *key);
/* The same, as an int (0 if absent or not an int), a string (NULL) or a
 * bool (false). */
int64_t tgt_opt_int(const tgt_kind *kind, const pipec_target *decl,
                    const char *key);
const char *tgt_opt_str(const tgt_kind *kind, const pipec_target *decl,
                        const char *key);
bool tgt_opt_bool(const tgt_kind *kind, const pipec_target *decl,
                  const char *key);

/* Mark r as killed for memory (it asked for limit bytes) and say so in
 * r->message: "ran out of memory: killed at its limit, memory = "100M"
 * (peak 104M)". */
void tgt_say_out_of_memory(tgt_result *r, int64_t limit);

/* The local kind (engine/targets/local.c): the ssh kind runs its client
 * processes on an inner local target. */
extern const tgt_kind tgt_kind_local;

/* The quota options every kind takes, first in its schema (`slots` is the
 * kind's own: its default differs). */
#define TGT_QUOTA_OPTS                                   \
  {.name = "cpus", .type = PIPEC_OPT_INT, .min = 1},     \
  {.name = "memory", .type = PIPEC_OPT_SIZE},            \
  {.name = "gpus", .type = PIPEC_OPT_GPUS}

/* The container runtime that runs the nodes with an `image` on a target's
 * host (container.h), taken by every built-in kind. */
extern const char *const tgt_container_runtimes[]; /* podman, docker */
#define TGT_CONTAINER_OPTS                                              \
  {.name = "container_runtime", .type = PIPEC_OPT_STRING,               \
   .has_default = true,                                                 \
   .def = {.type = PIPEC_T_STRING, .u.s = "podman"},                    \
   .choices = tgt_container_runtimes}

#endif

/*
 * container.h — running a node's command in a container image (DESIGN §7,
 * docs/containers.md), the same way on every target kind.
 *
 * Two halves:
 *
 *   resolving   once per run and per target, before any cache key is
 *               computed: every image the target's nodes name is looked up
 *               with the target's runtime on the target's host (`podman
 *               image inspect --format {{.Id}} REF`, through the kind's
 *               host_call), giving its image ID, the digest of its config,
 *               which names its content (its layers and its settings): a
 *               tag moved to another image gives another ID, the same
 *               image under another tag the same one. The ID goes into the
 *               node's cache key and its record; the container runs by ID,
 *               so a tag moved during the run changes nothing. A missing
 *               runtime or image is the node's error (ctr_image.error).
 *
 *   wrapping    each kind turns the job's command line, as its host sees it
 *               (paths below `prefix` on a staged ssh host), into a command
 *               line that runs it in a container (ctr_argv): a small sh
 *               shim that runs `RUNTIME run --rm` with the inputs mounted
 *               read-only at their paths, the scratch directory read-write,
 *               the pipeline directory read-only as the working directory,
 *               the job's environment, its cpus and memory as limits, no
 *               network unless asked, labels naming the workspace, run and
 *               node, and the name pipec-RUN-NODE-ATTEMPT-WS. The target
 *               stops a job by signalling its process group: the shim then
 *               kills the container by name; a watcher in a session of its
 *               own kills it too when the shim dies without a word (SIGKILL,
 *               a lost ssh session), so no container outlives its job.
 */
#ifndef PIPEC_CONTAINER_H
#define PIPEC_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipec/ir.h"

typedef struct tgt_job tgt_job;
typedef struct tgt_kinds tgt_kinds;

/* How one job runs in its container; the runner's, pointed to by
 * tgt_job.container. */
typedef struct ctr_job {
  const char *runtime;     /* the runtime program on the host: "podman" */
  const char *image_id;    /* "sha256:<hex>": what runs */
  const char *ref;         /* the image as the pipeline names it */
  bool network;            /* the runtime's default network; else none */
  char name[192];          /* "pipec-RUN-NODE" (ctr_argv adds -ATTEMPT-WS) */
  char ws_tag[16];         /* 8 hex digits naming the workspace */
  const char *ws_dir;      /* the workspace's .pipec directory (a label) */
  int64_t run_id;
  unsigned attempts;       /* containers started so far (ctr_argv counts) */
} ctr_job;

/* Fill c's name from the run, the node and the workspace. */
void ctr_job_name(ctr_job *c, int64_t run_id, const char *node,
                  const char *ws_dir);

/* The command line (NULL-terminated, every string malloc'd; free with
 * ctr_argv_free) that runs cmd — job's command as the host sees it, with
 * paths below prefix ("" when the host sees this machine's paths) — in
 * c's container. Counts the attempt. A built-in's `pipec` is the image's.
 * NULL with err if a path cannot be mounted (one with ':'). */
char **ctr_argv(ctr_job *c, const tgt_job *job, char *const *cmd,
                const char *prefix, char *err, size_t errlen);
void ctr_argv_free(char **v);

/* The message of a container job that exited with code: what 125, 126 and
 * 127 mean when they come from the runtime, or NULL. */
const char *ctr_exit_hint(int code);

/* The memory account of a container job's attempt, whatever its target.
 * The container runs under the runtime's monitor, not under the client
 * the target started: what the target measured is the client's, so the
 * peak is not known (0). The runtime enforces `memory` (--memory) and
 * kills the container at it with SIGKILL, which the client reports as
 * exit code 137: with a limit, that is an attempt killed for memory. */
struct tgt_result;
void ctr_judge_memory(const tgt_job *job, struct tgt_result *r);

/* ---- resolving ------------------------------------------------------------ */

/* One image one target's nodes name. */
typedef struct ctr_image {
  uint32_t target;         /* index into the pipeline's targets */
  const char *ref;         /* as written (the IR's) */
  char *id;                /* "sha256:<hex>", or NULL: see error */
  char *error;             /* why not: no runtime, no such image */
  bool missing;            /* the runtime answered: no such image */
} ctr_image;

typedef struct ctr_images {
  ctr_image *v;
  uint32_t n;
} ctr_images;

/* Look up every image named by the nodes and templates of p (with
 * only_kind, only those on targets of that kind) on its target, all at
 * once, on a loop of its own. kinds: the target kinds (NULL: built-in).
 * 0 (each image has its id or its error), or -1 with err (out of memory,
 * no loop). */
int ctr_resolve(const pipec_pipeline *p, const tgt_kinds *kinds,
                const char *only_kind, ctr_images *out, char *err,
                size_t errlen);
/* The entry of (target, ref), or NULL. */
const ctr_image *ctr_images_find(const ctr_images *im, uint32_t target,
                                 const char *ref);
void ctr_images_free(ctr_images *im);

/* A target's runtime, as `pipec targets` shows it. */
typedef struct ctr_runtime_info {
  const char *name;        /* "podman" (the target's container_runtime) */
  char *path;              /* where the host has it, or NULL */
  char *version;           /* "podman version 4.3.1", or NULL */
  char *error;             /* why neither is known, or NULL */
  bool probed;             /* asked the host (only targets with images) */
} ctr_runtime_info;

/* For each target of p (info has p->n_targets entries): its runtime, and
 * for the targets that run nodes with an image, the runtime's path and
 * version on the host. 0, or -1 with err. */
int ctr_runtimes(const pipec_pipeline *p, const tgt_kinds *kinds,
                 ctr_runtime_info *info, char *err, size_t errlen);
void ctr_runtimes_free(ctr_runtime_info *info, uint32_t n);

/* The runtime target decl uses ("podman" unless it says). */
const char *ctr_runtime_of(const pipec_target *decl);

#endif

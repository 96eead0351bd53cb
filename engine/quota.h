/*
 * quota.h — what a target can run at once: `cpus`, `memory`, `gpus` (a
 * count or device ids) and `slots` from its declaration. A running node
 * holds its resources (a node that names no cpus holds 1 where cpus are
 * counted) until it ends; gpus are handed out by device id, never shared.
 * The kind decides the rest: the default of `slots` (ssh: 8) and an
 * option that stands for it (slurm: `max_jobs`, 256 unless given).
 */
#ifndef PIPEC_QUOTA_H
#define PIPEC_QUOTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipec/ir.h"
#include "target.h"

#define QUOTA_MAX_GPUS 64

typedef struct quota {
  int64_t cpus, memory, slots;   /* 0: unlimited */
  int64_t used_cpus, used_memory, used_slots;
  uint32_t n_gpus;               /* devices; 0 and !gpus_limited: any */
  int64_t gpu_ids[QUOTA_MAX_GPUS];
  bool gpu_busy[QUOTA_MAX_GPUS];
  bool gpus_limited;
} quota;

/* t's quotas; kind (NULL: unknown) gives the defaults. */
void quota_init(quota *q, const tgt_kind *kind, const pipec_target *t);
/* Could r ever fit in an empty q? */
bool quota_possible(const quota *q, const pipec_resources *r);
/* Does r fit now? */
bool quota_fits(const quota *q, const pipec_resources *r);
/* Take r (it must fit); the gpu ids taken go to gpus ("0,2"), "" if none. */
void quota_take(quota *q, const pipec_resources *r, char *gpus, size_t len);
/* Give back what quota_take took with that gpus string. */
void quota_give(quota *q, const pipec_resources *r, const char *gpus);

#endif

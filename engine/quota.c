/*
 * quota.c — resource accounting per target (quota.h).
 */
#include "quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void quota_init(quota *q, const tgt_kind *kind, const pipec_target *t) {
  memset(q, 0, sizeof *q);
  q->cpus = tgt_opt_int(kind, t, "cpus");
  q->memory = tgt_opt_int(kind, t, "memory");
  /* slots: its alias as written, slots as written, then the defaults */
  const char *alias = kind ? kind->slots_alias : NULL;
  if (alias && pipec_target_opt(t, alias))
    q->slots = tgt_opt_int(kind, t, alias);
  else if (pipec_target_opt(t, "slots") || !alias)
    q->slots = tgt_opt_int(kind, t, "slots");
  else
    q->slots = tgt_opt_int(kind, t, alias);
  const pipec_opt *g = pipec_target_opt(t, "gpus");
  if (!g)
    return;
  q->gpus_limited = true;
  if (g->value.type == PIPEC_T_LIST) {
    for (uint32_t i = 0; i < g->value.u.list.n && i < QUOTA_MAX_GPUS; i++)
      q->gpu_ids[q->n_gpus++] = g->value.u.list.items[i].u.i;
  } else {
    for (int64_t i = 0; i < g->value.u.i && i < QUOTA_MAX_GPUS; i++)
      q->gpu_ids[q->n_gpus++] = i;
  }
}

static int64_t cpus_of(const quota *q, const pipec_resources *r) {
  return q->cpus ? (r->cpus > 0 ? r->cpus : 1) : 0;
}

static uint32_t free_gpus(const quota *q) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < q->n_gpus; i++)
    n += !q->gpu_busy[i];
  return n;
}

bool quota_possible(const quota *q, const pipec_resources *r) {
  return (!q->cpus || cpus_of(q, r) <= q->cpus) &&
         (!q->memory || r->memory <= q->memory) &&
         (!q->gpus_limited || r->gpus <= (int64_t)q->n_gpus);
}

bool quota_fits(const quota *q, const pipec_resources *r) {
  return (!q->cpus || q->used_cpus + cpus_of(q, r) <= q->cpus) &&
         (!q->memory || q->used_memory + r->memory <= q->memory) &&
         (!q->slots || q->used_slots + 1 <= q->slots) &&
         (!q->gpus_limited || r->gpus <= (int64_t)free_gpus(q));
}

void quota_take(quota *q, const pipec_resources *r, char *gpus, size_t len) {
  q->used_cpus += cpus_of(q, r);
  q->used_memory += q->memory ? r->memory : 0;
  q->used_slots += 1;
  gpus[0] = 0;
  size_t w = 0;
  for (uint32_t i = 0, n = 0; q->gpus_limited && i < q->n_gpus &&
                              n < (uint32_t)r->gpus;
       i++)
    if (!q->gpu_busy[i]) {
      q->gpu_busy[i] = true;
      n++;
      w += (size_t)snprintf(gpus + w, w < len ? len - w : 0, "%s%lld",
                            w ? "," : "", (long long)q->gpu_ids[i]);
    }
}

void quota_give(quota *q, const pipec_resources *r, const char *gpus) {
  q->used_cpus -= cpus_of(q, r);
  q->used_memory -= q->memory ? r->memory : 0;
  q->used_slots -= 1;
  for (const char *p = gpus; p && *p;) {
    char *end;
    long long id = strtoll(p, &end, 10);
    for (uint32_t i = 0; i < q->n_gpus; i++)
      if (q->gpu_ids[i] == id && q->gpu_busy[i]) {
        q->gpu_busy[i] = false;
        break;
      }
    p = *end == ',' ? end + 1 : end;
    if (end == p && *p != ',')
      break;
  }
}

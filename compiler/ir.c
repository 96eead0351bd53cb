/*
 * ir.c — name lookups in a compiled pipeline (ir.h).
 *
 * pipec_pipeline_node is called for names given on the command line and
 * for every member of a family a selection names ('aligned[*]' of 10^5
 * members), so a compiled pipeline carries a hash index of node names,
 * built once by ir_index_build (ir_index.h). A pipeline built by hand,
 * without one, is searched in turn.
 */
#include "pipec/ir.h"
#include "pipec/target_kind.h"

#include <stdlib.h>
#include <string.h>

#include "ir_index.h"

uint32_t ir_name_hash(const char *s) {
  uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */
  for (; *s; s++) {
    h ^= (unsigned char)*s;
    h *= 0x100000001b3ull;
  }
  return (uint32_t)(h ^ (h >> 32));
}

/* The table of p's names in slots (cap zeroed entries, a power of two). */
static void index_fill(pipec_pipeline *p, uint32_t *slots, uint32_t cap) {
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    uint32_t k = ir_name_hash(p->nodes[i].name) & (cap - 1);
    while (slots[k])
      k = (k + 1) & (cap - 1);
    slots[k] = i + 1;
  }
  p->name_index = slots;
  p->name_index_cap = cap;
}

static uint32_t index_cap(const pipec_pipeline *p) {
  uint32_t cap = 16;
  while (cap < 2 * (uint64_t)p->n_nodes + 1 && cap < (1u << 31))
    cap *= 2;
  return cap;
}

void ir_index_build(arena *a, pipec_pipeline *p) {
  uint32_t cap = index_cap(p);
  index_fill(p, arena_alloc(a, (size_t)cap * sizeof(uint32_t)), cap);
}

uint32_t *pipec_pipeline_index(pipec_pipeline *p) {
  uint32_t cap = index_cap(p);
  uint32_t *slots = calloc(cap, sizeof *slots);
  p->name_index = NULL;
  p->name_index_cap = 0;
  if (slots)
    index_fill(p, slots, cap);
  return slots;
}

uint32_t pipec_pipeline_node(const pipec_pipeline *p, const char *name) {
  if (p->name_index) {
    uint32_t cap = p->name_index_cap;
    for (uint32_t k = ir_name_hash(name) & (cap - 1); p->name_index[k];
         k = (k + 1) & (cap - 1))
      if (strcmp(p->nodes[p->name_index[k] - 1].name, name) == 0)
        return p->name_index[k] - 1;
    return PIPEC_NONE;
  }
  for (uint32_t i = 0; i < p->n_nodes; i++)
    if (strcmp(p->nodes[i].name, name) == 0)
      return i;
  return PIPEC_NONE;
}

uint32_t pipec_pipeline_family(const pipec_pipeline *p, const char *name) {
  for (uint32_t i = 0; i < p->n_families; i++)
    if (strcmp(p->families[i].name, name) == 0)
      return i;
  return PIPEC_NONE;
}

const pipec_param *pipec_node_param(const pipec_node *n, const char *name) {
  for (uint32_t i = 0; i < n->n_params; i++)
    if (strcmp(n->params[i].name, name) == 0)
      return &n->params[i];
  return NULL;
}

const pipec_opt *pipec_target_opt(const pipec_target *t, const char *key) {
  for (uint32_t i = 0; i < t->n_opts; i++)
    if (strcmp(t->opts[i].key, key) == 0)
      return &t->opts[i];
  return NULL;
}

const pipec_opt_spec *pipec_target_kind_opt(const pipec_target_kind *k,
                                            const char *key) {
  for (uint32_t i = 0; i < k->n_opts; i++)
    if (strcmp(k->opts[i].name, key) == 0)
      return &k->opts[i];
  return NULL;
}

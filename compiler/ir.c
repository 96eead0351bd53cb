/*
 * ir.c — name lookups in a compiled pipeline (ir.h). Linear scans: the
 * engine calls them for a handful of names given on the command line, never
 * in a loop over the graph.
 */
#include "pipec/ir.h"
#include "pipec/target_kind.h"

#include <string.h>

uint32_t pipec_pipeline_node(const pipec_pipeline *p, const char *name) {
  for (uint32_t i = 0; i < p->n_nodes; i++)
    if (strcmp(p->nodes[i].name, name) == 0)
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

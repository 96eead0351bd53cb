/*
 * plan.c — node selection for partial runs; see plan.h.
 *
 * The IR lists nodes in topological order, so "downstream" is one forward
 * sweep and "upstream" one backward sweep: O(nodes + edges), no recursion.
 */
#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "editdist.h"

const char *plan_mode_name(const plan_sel *sel) {
  if (sel->from && sel->to)
    return "from-to";
  if (sel->from)
    return "from";
  if (sel->to)
    return "to";
  if (sel->n_nodes == 1)
    return "node";
  if (sel->n_nodes > 1)
    return "nodes";
  return "full";
}

static int lookup(const pipec_pipeline *p, const char *name, uint32_t *out,
                  char *err, size_t errlen) {
  uint32_t i = pipec_pipeline_node(p, name);
  if (i != PIPEC_NONE) {
    *out = i;
    return 0;
  }
  const char **names = malloc((p->n_nodes + 1) * sizeof *names);
  if (!names)
    abort();
  for (uint32_t k = 0; k < p->n_nodes; k++)
    names[k] = p->nodes[k].name;
  const char *best = editdist_suggest(name, names, p->n_nodes);
  if (best)
    snprintf(err, errlen, "no node '%s' in pipeline '%s'; did you mean '%s'?",
             name, p->name, best);
  else
    snprintf(err, errlen, "no node '%s' in pipeline '%s'", name, p->name);
  free(names);
  return -1;
}

/* mark[] |= node and everything downstream of it */
static void mark_down(const pipec_pipeline *p, uint32_t node, bool *mark) {
  mark[node] = true;
  for (uint32_t i = node + 1; i < p->n_nodes; i++)
    for (uint32_t k = 0; k < p->nodes[i].n_inputs && !mark[i]; k++)
      if (mark[p->nodes[i].inputs[k].producer])
        mark[i] = true;
}

/* mark[] |= node and everything upstream of it */
static void mark_up(const pipec_pipeline *p, uint32_t node, bool *mark) {
  mark[node] = true;
  for (uint32_t i = node + 1; i-- > 0;)
    if (mark[i])
      for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
        mark[p->nodes[i].inputs[k].producer] = true;
}

int plan_select(const pipec_pipeline *p, const plan_sel *sel, bool *in_plan,
                char *err, size_t errlen) {
  uint32_t n = p->n_nodes;
  bool selective = sel->n_nodes || sel->from || sel->to;
  for (uint32_t i = 0; i < n; i++)
    in_plan[i] = !selective;
  if (!selective)
    return 0;
  for (uint32_t k = 0; k < sel->n_nodes; k++) {
    uint32_t i = 0;
    if (lookup(p, sel->nodes[k], &i, err, errlen))
      return -1;
    in_plan[i] = true;
  }
  if (!sel->from && !sel->to)
    return 0;
  bool *down = calloc((size_t)n + 1, 1), *up = calloc((size_t)n + 1, 1);
  if (!down || !up)
    abort();
  uint32_t f = 0, t = 0;
  int rc = 0;
  if ((sel->from && lookup(p, sel->from, &f, err, errlen)) ||
      (sel->to && lookup(p, sel->to, &t, err, errlen))) {
    rc = -1;
    goto done;
  }
  if (sel->from)
    mark_down(p, f, down);
  if (sel->to)
    mark_up(p, t, up);
  for (uint32_t i = 0; i < n; i++) {
    bool in = sel->from && sel->to ? down[i] && up[i]
              : sel->from           ? down[i]
                                    : up[i];
    in_plan[i] = in_plan[i] || in;
  }
  if (sel->from && sel->to && !down[t]) {
    snprintf(err, errlen, "node '%s' is not downstream of '%s'", sel->to,
             sel->from);
    rc = -1;
  }
done:
  free(down);
  free(up);
  return rc;
}

void plan_upstream(const pipec_pipeline *p, const bool *in_plan,
                   bool *upstream) {
  uint32_t n = p->n_nodes;
  bool *need = calloc((size_t)n + 1, 1);
  if (!need)
    abort();
  for (uint32_t i = n; i-- > 0;) {
    if (!in_plan[i] && !need[i])
      continue;
    for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
      need[p->nodes[i].inputs[k].producer] = true;
  }
  for (uint32_t i = 0; i < n; i++)
    upstream[i] = need[i] && !in_plan[i];
  free(need);
}

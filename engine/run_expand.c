/*
 * run_expand.c — a run over a pipeline with run-time loops (expand.h).
 *
 * A run starts from the compiled pipeline (R->p0). Before planning, every
 * loop whose producer's output is already in the cache is expanded, so a
 * cached re-run expands the same members and runs nothing, and a member
 * can be selected by name (`--node 'counted[part_ab]'`). Nodes that still
 * need an unexpanded loop (a gather of it, keys() of it, and what reads
 * those) are held back. The run then goes in phases: after each, the
 * loops whose producers now have outputs are expanded, the runner's state
 * moves to the new pipeline by node name (what settled stays settled),
 * and the nodes that became runnable are scheduled. A loop whose producer
 * failed leaves its readers skipped, saying why.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"

/* Per-node state for R->p (zeroed), and the plan arrays. */
void run_nodes_alloc(runner *R) {
  const pipec_pipeline *p = R->p;
  R->nodes = xcalloc(p->n_nodes, sizeof *R->nodes);
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    /* one block: the hashes, then the sizes (run_node_free_fields) */
    uint32_t outs = run_comp(R, i)->n_outputs;
    hash128 *h = xcalloc(outs, sizeof(hash128) + sizeof(uint64_t));
    R->nodes[i].out_hash = h;
    R->nodes[i].out_size = (uint64_t *)(void *)(h + outs);
  }
  R->in_plan = xcalloc(p->n_nodes, sizeof(bool));
  R->upstream = xcalloc(p->n_nodes, sizeof(bool));
  R->held = xcalloc(p->n_nodes, sizeof(bool));
}

/* Mark the nodes that wait for an unexpanded loop, and what reads them. */
static void mark_held(runner *R) {
  const pipec_pipeline *p = R->p;
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    bool h = exp_blocked(&p->nodes[i]);
    for (uint32_t k = 0; k < p->nodes[i].n_inputs && !h; k++) {
      uint32_t from = p->nodes[i].inputs[k].producer;
      h = from != PIPEC_NONE && R->held[from];
    }
    R->held[i] = h;
  }
}

/* Is name a member of a run-time family not expanded yet? Its family's
 * producer then, else PIPEC_NONE. */
static uint32_t unexpanded_member(const runner *R, const char *name) {
  const pipec_pipeline *p0 = R->p0;
  for (uint32_t f = 0; f < p0->n_fanouts; f++) {
    if (R->exp.known[f])
      continue;
    const pipec_fanout *fo = &p0->fanouts[f];
    for (uint32_t t = fo->first_template;
         t < fo->first_template + fo->n_templates; t++) {
      const char *fam = p0->families[p0->templates[t].family].name;
      size_t n = strlen(fam);
      if (strncmp(name, fam, n) == 0 && (name[n] == '[' || !name[n]))
        return fo->producer;
    }
  }
  return PIPEC_NONE;
}

int run_plan(runner *R, bool first, char *err, size_t errlen) {
  const pipec_pipeline *p = R->p;
  mark_held(R);
  bool *sel = xcalloc(p->n_nodes, sizeof *sel);
  char e[1024];
  if (plan_select(p, &R->o->sel, sel, e, sizeof e) != 0) {
    /* a member of a loop that has not expanded: say how to get there */
    const char *names[2] = {R->o->sel.from, R->o->sel.to};
    uint32_t prod = PIPEC_NONE;
    const char *which = NULL;
    for (uint32_t i = 0; i < R->o->sel.n_nodes && prod == PIPEC_NONE; i++)
      if ((prod = unexpanded_member(R, R->o->sel.nodes[i])) != PIPEC_NONE)
        which = R->o->sel.nodes[i];
    for (int i = 0; i < 2 && prod == PIPEC_NONE; i++)
      if (names[i] && (prod = unexpanded_member(R, names[i])) != PIPEC_NONE)
        which = names[i];
    if (prod != PIPEC_NONE)
      snprintf(err, errlen, "'%s' belongs to a family that expands once "
                            "'%s' has run, and it has not: run it first "
                            "(pipec run FILE --to %s)",
               which, R->p0->nodes[prod].name, R->p0->nodes[prod].name);
    else
      snprintf(err, errlen, "%s", e);
    free(sel);
    return -1;
  }
  R->total = 0;
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    R->in_plan[i] = sel[i] && !R->held[i] && !R->nodes[i].settled;
    R->held[i] = R->held[i] && sel[i];
    R->total += R->in_plan[i] || R->nodes[i].settled || R->held[i];
  }
  (void)first;
  free(sel);
  /* per family: how many members this run has, how many settled */
  free(R->fam_done);
  free(R->fam_total);
  R->fam_done = xcalloc(p->n_families + 1, sizeof *R->fam_done);
  R->fam_total = xcalloc(p->n_families + 1, sizeof *R->fam_total);
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    uint32_t f = p->nodes[i].family;
    if (f == PIPEC_NONE)
      continue;
    R->fam_total[f] += R->in_plan[i] || R->nodes[i].settled || R->held[i];
    R->fam_done[f] += R->nodes[i].settled;
  }
  memset(R->upstream, 0, p->n_nodes * sizeof *R->upstream);
  plan_upstream(p, R->in_plan, R->upstream);
  for (uint32_t i = 0; i < p->n_nodes; i++)
    if (R->nodes[i].known || R->nodes[i].settled)
      R->upstream[i] = false;
  return 0;
}

/* Record fanout f's members (their keys) with the run. */
static void record_expansion(runner *R, uint32_t f) {
  const exp_set *s = &R->exp;
  const pipec_pipeline *p0 = R->p0;
  size_t len = 1;
  for (uint32_t i = 0; i < s->count[f]; i++)
    len += strlen(s->all[s->first[f] + i].key) + 1;
  char *keys = xmalloc(len), *q = keys;
  for (uint32_t i = 0; i < s->count[f]; i++) {
    const char *k = s->all[s->first[f] + i].key;
    size_t n = strlen(k);
    memcpy(q, k, n);
    q += n;
    *q++ = '\n';
  }
  *q = '\0';
  const pipec_fanout *fo = &p0->fanouts[f];
  const char *fam = p0->families[p0->templates[fo->first_template].family].name;
  if (R->run_id) {
    run_batch_open(R);
    store_expansion_add(R->st, R->run_id, f, fam, keys);
  }
  free(keys);
  char *msg = xprintf("%s[*]: %u member%s from %s.%s", fam, s->count[f],
                      s->count[f] == 1 ? "" : "s",
                      p0->nodes[fo->producer].name, fo->port);
  pipec_event ev = {.kind = PIPEC_EV_EXPANDED, .node = fam, .detail = msg,
                    .total = s->count[f]};
  run_emit(R, &ev);
  free(msg);
}

/* Move the runner's per-node state from R->p to np, by node name. */
static void rebuild(runner *R, const pipec_pipeline *np) {
  const pipec_pipeline *op = R->p;
  run_node *old = R->nodes;
  bool *old_held = R->held;
  R->nodes = NULL;
  free(R->in_plan);
  free(R->upstream);
  R->p = np;
  run_nodes_alloc(R);
  for (uint32_t i = 0; i < op->n_nodes; i++) {
    uint32_t j = pipec_pipeline_node(np, op->nodes[i].name);
    if (j == PIPEC_NONE) {
      run_node_release(&old[i], op->nodes[i].n_inputs,
                       run_comp_of(op, i)->n_outputs);
      run_node_free_fields(&old[i]);
      continue;
    }
    run_node_free_fields(&R->nodes[j]); /* the fresh one's arrays */
    R->nodes[j] = old[i];
  }
  free(old);
  free(old_held);
  /* no node runs between phases: the table of running keys starts over */
  free(R->inflight);
  R->inflight = NULL;
  R->inflight_cap = 0;
}

/* The output object of fanout f's producer in the current pipeline, if
 * known. */
static const hash128 *producer_output(runner *R, uint32_t f) {
  const pipec_fanout *fo = &R->p0->fanouts[f];
  uint32_t j = pipec_pipeline_node(R->p, R->p0->nodes[fo->producer].name);
  if (j == PIPEC_NONE || !R->nodes[j].known)
    return NULL;
  int k = run_output_index(run_comp(R, j), fo->port);
  return k < 0 ? NULL : &R->nodes[j].out_hash[k];
}

/* Read every loop whose producer's output is known and expand. *grew:
 * something new was expanded. 0, or -1 with err. */
static int expand_known(runner *R, bool *grew, char *err, size_t errlen) {
  *grew = false;
  for (uint32_t f = 0; f < R->p0->n_fanouts; f++) {
    if (R->exp.known[f])
      continue;
    const hash128 *out = producer_output(R, f);
    if (!out)
      continue;
    if (exp_read(&R->exp, R->objs, R->p0, f, out, err, errlen) != 0)
      return -1;
    record_expansion(R, f);
    *grew = true;
  }
  if (!*grew)
    return 0;
  const pipec_pipeline *np = exp_apply(&R->exp, R->p0, err, errlen);
  if (!np)
    return -1;
  rebuild(R, np);
  return 0;
}

/* Before planning: settle in the cache the nodes a loop's producer needs,
 * in order, as `why` does; every producer found there is expanded. */
int run_expand_cached(runner *R, char *err, size_t errlen) {
  const pipec_pipeline *p = R->p;
  if (!p->n_fanouts)
    return 0;
  bool *need = xcalloc(p->n_nodes, sizeof *need);
  for (uint32_t f = 0; f < p->n_fanouts; f++)
    need[p->fanouts[f].producer] = true;
  for (uint32_t i = p->n_nodes; i-- > 0;)
    if (need[i])
      for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
        if (p->nodes[i].inputs[k].producer != PIPEC_NONE)
          need[p->nodes[i].inputs[k].producer] = true;
  bool *miss = xcalloc(p->n_nodes, sizeof *miss);
  bool *forced_sel = NULL;
  if (R->o->force) {
    char e[256];
    forced_sel = xcalloc(p->n_nodes, sizeof *forced_sel);
    if (plan_select(p, &R->o->sel, forced_sel, e, sizeof e) != 0)
      memset(forced_sel, 0, p->n_nodes * sizeof *forced_sel);
  }
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    if (!need[i])
      continue;
    bool below_miss = false;
    for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++) {
      uint32_t from = p->nodes[i].inputs[k].producer;
      below_miss |= from != PIPEC_NONE && miss[from];
    }
    char e[512];
    /* a node this run forces makes new outputs: its loop expands after */
    bool forced = R->o->force && forced_sel && forced_sel[i];
    if (below_miss || forced || exp_blocked(&p->nodes[i]) ||
        run_compute_key(R, i, false, e, sizeof e) != 0 ||
        !p->nodes[i].cache || !run_cache_lookup(R, i)) {
      miss[i] = true;
      free(R->nodes[i].reason); /* looked again when it is scheduled */
      R->nodes[i].reason = NULL;
      R->nodes[i].known = false;
    }
  }
  free(need);
  free(miss);
  free(forced_sel);
  bool grew;
  return expand_known(R, &grew, err, errlen);
}

int run_expand_after(runner *R, bool *grew, char *err, size_t errlen) {
  return expand_known(R, grew, err, errlen);
}

/* The run-time loop node i waits for: one it gathers or takes keys() of,
 * or that of a held node it reads. PIPEC_NONE if none is found. */
static uint32_t waits_for(const runner *R, uint32_t i, int depth) {
  const pipec_pipeline *p = R->p, *p0 = R->p0;
  const pipec_node *n = &p->nodes[i];
  for (uint32_t f = 0; f < p0->n_fanouts; f++) {
    const pipec_fanout *fo = &p0->fanouts[f];
    uint32_t t0 = fo->first_template, t1 = t0 + fo->n_templates;
    for (uint32_t k = 0; k < n->n_inputs; k++)
      if (n->inputs[k].kind == PIPEC_IN_GATHER && n->inputs[k].ref >= t0 &&
          n->inputs[k].ref < t1)
        return f;
    for (uint32_t d = 0; d < n->n_deferred; d++)
      if (n->deferred[d].kind == PIPEC_DEFER_KEYS &&
          n->deferred[d].ref >= t0 && n->deferred[d].ref < t1)
        return f;
  }
  for (uint32_t k = 0; k < n->n_inputs && depth < 64; k++) {
    uint32_t from = n->inputs[k].producer;
    if (from != PIPEC_NONE && R->held[from])
      return waits_for(R, from, depth + 1);
  }
  return PIPEC_NONE;
}

void run_settle_held(runner *R) {
  const pipec_pipeline *p = R->p, *p0 = R->p0;
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    if (!R->held[i] || R->nodes[i].settled)
      continue;
    uint32_t f = waits_for(R, i, 0);
    char *msg;
    if (f == PIPEC_NONE) {
      msg = xstrdup("a family it reads never expanded");
    } else {
      const pipec_fanout *fo = &p0->fanouts[f];
      const char *fam =
          p0->families[p0->templates[fo->first_template].family].name;
      uint32_t j = pipec_pipeline_node(p, p0->nodes[fo->producer].name);
      bool ok = j != PIPEC_NONE && R->nodes[j].known;
      msg = ok ? xprintf("the run stopped before %s[*] could expand", fam)
               : xprintf("its input family %s[*] could not expand: '%s' did "
                         "not succeed",
                         fam, p0->nodes[fo->producer].name);
    }
    run_settle_skipped(R, i, msg);
    free(msg);
  }
}

void run_family_event(const runner *R, uint32_t node, pipec_event *ev) {
  uint32_t f = R->p->nodes[node].family;
  if (f == PIPEC_NONE || !R->fam_total)
    return;
  ev->family = R->p->families[f].name;
  ev->family_done = R->fam_done[f];
  ev->family_total = R->fam_total[f];
}

/*
 * run_state.c — what the pipeline's nodes were last, loaded once per run
 * (run_int.h), and the compact records of cached nodes.
 *
 * A run looks each node up in the cache and explains each miss. Asking the
 * store once per node costs a query per node (a no-op run of 10^5 nodes
 * did little else); instead the newest record of every node of the
 * pipeline, with its cache entry's outputs, comes in one query
 * (store_pipeline_state) the first time a node is looked at, and a node
 * whose key is the one recorded there is looked up in it. Anything the
 * state cannot answer for sure (a key it does not have, an entry that was
 * not there) goes to the store as before; the objects are checked either
 * way (run_obj_trust).
 *
 * A cached node whose record would repeat the newest one exactly (same
 * name, component, target and key) is recorded as a reference to it:
 * the ids go to store_run_cached_add with the batch, as ranges.
 */
#include <stdlib.h>
#include <string.h>

#include "run_int.h"

/* FNV-1a of a node name: slots of the state's open-addressing index. */
static uint64_t name_hash(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* Load the state (once; a failure leaves it empty: every lookup then
 * asks the store). */
void run_state_load(runner *R) {
  if (R->state_loaded || !R->pipeline_id)
    return; /* (no pipeline yet: every lookup asks the store) */
  R->state_loaded = true;
  if (store_pipeline_state(R->st, R->pipeline_id, &R->state, &R->n_state) !=
      0) {
    R->state = NULL;
    R->n_state = 0;
    R->state_partial = true; /* unknown: ask the store per node */
    return;
  }
  R->state_cap = 1;
  while (R->state_cap < 2 * (size_t)R->n_state + 2)
    R->state_cap *= 2;
  R->state_idx = xcalloc(R->state_cap, sizeof *R->state_idx);
  for (uint32_t i = 0; i < R->n_state; i++) {
    size_t k = name_hash(R->state[i].node) & (R->state_cap - 1);
    while (R->state_idx[k])
      k = (k + 1) & (R->state_cap - 1);
    R->state_idx[k] = i + 1;
  }
}

void run_state_repack(runner *R) {
  if (R->pipeline_id && !R->o->dry_run)
    store_pipeline_state_pack(R->st, R->pipeline_id);
}

const store_node_state *run_state_of(runner *R, uint32_t node,
                                     bool *complete) {
  run_state_load(R);
  if (complete)
    *complete = R->state_loaded && !R->state_partial;
  if (!R->state_cap)
    return NULL;
  const char *name = R->p->nodes[node].name;
  for (size_t k = name_hash(name) & (R->state_cap - 1); R->state_idx[k];
       k = (k + 1) & (R->state_cap - 1)) {
    const store_node_state *s = &R->state[R->state_idx[k] - 1];
    if (strcmp(s->node, name) == 0)
      return s;
  }
  return NULL;
}

void run_state_forget(runner *R, uint32_t node) {
  store_node_state *s = (store_node_state *)run_state_of(R, node, NULL);
  if (s)
    s->has_entry = false;
}

bool run_state_ref(runner *R, uint32_t node) {
  const run_node *rn = &R->nodes[node];
  const pipec_node *n = &R->p->nodes[node];
  const store_node_state *s = run_state_of(R, node, NULL);
  const ctr_image *im = run_node_image(R, node);
  /* everything show lists of it must be what this run would record */
  if (!s || !s->has_key || !s->has_ord || !rn->have_key ||
      !s->entry_is_its || s->ord != (int64_t)node ||
      !hash_eq(&s->key, &rn->key) || !s->component || !s->target ||
      strcmp(s->component, run_comp(R, node)->name) != 0 ||
      strcmp(s->target, R->p->targets[n->target].name) != 0 ||
      (im ? !s->image || strcmp(s->image, im->ref) != 0 : s->image != NULL))
    return false;
  if (R->n_refs == R->cap_refs) {
    R->cap_refs = R->cap_refs ? 2 * R->cap_refs : 256;
    R->refs = xrealloc(R->refs, R->cap_refs * sizeof *R->refs);
  }
  R->refs[R->n_refs++] = s->node_run;
  return true;
}

int run_state_flush(runner *R) {
  if (!R->n_refs)
    return 0;
  int rc = store_run_cached_add(R->st, R->run_id, R->refs, R->n_refs);
  R->n_refs = 0;
  return rc;
}

void run_state_free(runner *R) {
  store_node_states_free(R->state, R->n_state);
  free(R->state_idx);
  free(R->refs);
}

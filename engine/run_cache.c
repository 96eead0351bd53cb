/*
 * run_cache.c — a node's cache key, its lookup in the cache, why it misses,
 * and the upstream nodes of a partial run (run_int.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_int.h"

/* ---- cache lookups ------------------------------------------------------- */

/* The hashes of what is wired to node's inputs: producers' outputs (all
 * known by now) and source files (hashed at the start, run_sources.c). */
hash128 *run_input_hashes(runner *R, uint32_t node) {
  const pipec_node *n = &R->p->nodes[node];
  hash128 *hs = xcalloc(n->n_inputs, sizeof *hs);
  for (uint32_t i = 0; i < n->n_inputs; i++) {
    const pipec_input *in = &n->inputs[i];
    if (in->kind == PIPEC_IN_SOURCE) {
      hs[i] = R->src_hash[run_source_index(R, in->source)];
      continue;
    }
    if (in->kind == PIPEC_IN_ITEM) { /* an entry of the loop's dir */
      hs[i] = R->exp.all[in->ref].hash;
      continue;
    }
    int k = run_port_index(R, in->producer, in->producer_port);
    hs[i] = R->nodes[in->producer].out_hash[k];
  }
  return hs;
}

/* ---- images ---------------------------------------------------------------- */

int run_images(runner *R, char *err, size_t errlen) {
  return ctr_resolve(R->p0, R->o->kinds, NULL, &R->images, err, errlen);
}

const ctr_image *run_node_image(const runner *R, uint32_t node) {
  const pipec_node *n = &R->p->nodes[node];
  return n->image ? ctr_images_find(&R->images, n->target, n->image) : NULL;
}

/* The node's cache key. Its parts (readable, for `why` and the miss
 * reason) cost more than the key: only a node that runs needs them, so
 * with_parts is false on the cache-hit path. A node whose image could not
 * be resolved has no key: that is its error. */
int run_compute_key(runner *R, uint32_t node, bool with_parts, char *err,
                       size_t errlen) {
  run_node *rn = &R->nodes[node];
  const ctr_image *im = run_node_image(R, node);
  if (R->p->nodes[node].image && (!im || !im->id)) {
    snprintf(err, errlen, "%s", im ? im->error
                                   : "its image was not looked up");
    return -ENOENT;
  }
  hash128 *hs = run_input_hashes(R, node);
  ck_parts_clear(&rn->parts);
  int rc = ck_compute(R->p, node, hs, im ? im->id : NULL, hash_memo_cb,
                      R->memo, &rn->key, with_parts ? &rn->parts : NULL, err,
                      errlen);
  free(hs);
  if (rc != 0)
    return rc;
  rn->have_key = true;
  free(rn->parts_text);
  rn->parts_text = with_parts ? ck_parts_format(&rn->parts, NULL) : NULL;
  return 0;
}

/* Look the node's key up in the cache: 1 and its outputs known if every
 * object is there and intact (obj_trust), 0 on a miss (the entry is gone
 * then, and rn->reason says why when an object was the cause). */
int run_cache_lookup(runner *R, uint32_t node) {
  run_node *rn = &R->nodes[node];
  const pipec_component *c = run_comp(R, node);
  store_output *outs = NULL;
  uint32_t n = 0;
  /* the node's newest record has this key and its entry: no query */
  const store_node_state *ps = run_state_of(R, node, NULL);
  bool from_state = ps && ps->has_key && ps->has_entry &&
                    hash_eq(&ps->key, &rn->key);
  if (from_state) {
    outs = ps->outs;
    n = ps->n_outs;
  } else if (store_cache_get(R->st, &rn->key, &outs, &n) != 1) {
    return 0;
  }
  char *why = NULL;
  for (uint32_t i = 0; i < c->n_outputs && !why; i++) {
    uint32_t k = 0;
    while (k < n && strcmp(outs[k].port, c->outputs[i].name) != 0)
      k++;
    if (k == n) {
      why = xstrdup("its cache entry lacks an output");
      break;
    }
    char e[512];
    /* readers stay: a node that read the object before it changed read
     * it intact (its attempt was checked), and one after would have seen
     * the change (only damage that leaves the stat alone, which only
     * `cache verify` finds, could have been read unseen) */
    int rc = run_obj_trust(R, &outs[k].hash, outs[k].has_st ? &outs[k].st : NULL,
                       false, e, sizeof e);
    if (rc == -ENOENT)
      why = xstrdup("a cached output is missing from the object store");
    else if (rc > 0)
      why = xprintf("a cached output was damaged (re-hashed: %s)", e);
    else if (rc < 0)
      why = xprintf("a cached output cannot be read (%s)", e);
    rn->out_hash[i] = outs[k].hash;
    rn->out_size[i] = outs[k].size;
  }
  if (!from_state)
    store_outputs_free(outs, n);
  if (why) { /* forget the entry (a damaged object took it already) */
    store_cache_delete(R->st, &rn->key);
    if (from_state)
      run_state_forget(R, node);
    free(rn->reason);
    rn->reason = why;
    return 0;
  }
  rn->known = true;
  return 1;
}

/* The lines of text joined by sep into one line (malloc'd). */
static char *join_lines(const char *text, const char *sep) {
  size_t n = 0, seps = 0;
  for (const char *q = text; *q; q++, n++)
    seps += *q == '\n';
  char *out = xcalloc(n + seps * strlen(sep) + 1, 1), *o = out;
  for (const char *q = text; *q; q++) {
    if (*q != '\n') {
      *o++ = *q;
    } else if (q[1]) {
      strcpy(o, sep);
      o += strlen(sep);
    }
  }
  *o = 0;
  return out;
}

/* Why the node must run: what changed since its last success. */
char *run_miss_reason(runner *R, uint32_t node) {
  run_node *rn = &R->nodes[node];
  if (rn->reason)
    return xstrdup(rn->reason);
  if (R->o->force && R->in_plan[node])
    return xstrdup("--force");
  if (!R->p->nodes[node].cache)
    return xstrdup("cache = false");
  char *old_text = NULL;
  bool complete = false;
  const store_node_state *ps = run_state_of(R, node, &complete);
  if (!ps && complete)
    return xstrdup("never ran"); /* (the state holds every node that ran) */
  if (store_last_parts(R->st, R->pipeline_id, R->p->nodes[node].name,
                       &old_text) != 1)
    return xstrdup("never ran");
  ck_parts old = {0};
  char err[256], *diff = NULL;
  char *why;
  if (ck_parts_parse(old_text, strlen(old_text), &old, err, sizeof err) != 0)
    why = xstrdup("the last run's key cannot be read");
  else if (ck_explain(&old, &rn->parts, &diff) > 0)
    why = join_lines(diff, "; ");
  else
    why = xstrdup("its last outputs are no longer in the store");
  free(diff);
  free(old_text);
  ck_parts_free(&old);
  return why;
}


/* ---- nodes outside the plan ---------------------------------------------- */

/* Upstream nodes give their outputs from the store: their key, from their
 * own inputs, must have a cache entry. */
int run_resolve_upstream(runner *R, char *err, size_t errlen) {
  for (uint32_t i = 0; i < R->p->n_nodes; i++) {
    if (!R->upstream[i] || R->nodes[i].known)
      continue;
    const char *name = R->p->nodes[i].name;
    char e[512];
    if (run_compute_key(R, i, false, e, sizeof e) != 0) {
      snprintf(err, errlen, "node '%s' (needed by the selection): %s", name,
               e);
      return -1;
    }
    if (!run_cache_lookup(R, i) &&
        !(run_shared_pull_now(R, i) == 1 && run_cache_lookup(R, i))) {
      const char *why = R->nodes[i].reason;
      if (why)
        snprintf(err, errlen,
                 "node '%s' is needed by the selection but %s%s; run it "
                 "first (e.g. pipec run FILE --to %s)",
                 name, why, strstr(why, "damaged") ? ", and was removed" : "",
                 name);
      else
        snprintf(err, errlen,
                 "node '%s' is needed by the selection but has no stored "
                 "outputs for its current inputs; run it first (e.g. pipec "
                 "run FILE --to %s)",
                 name, name);
      return -1;
    }
  }
  return 0;
}


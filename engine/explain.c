/*
 * explain.c — --dry-run (what would run, and why) and `pipec why` (run_int.h):
 * both compute keys and look in the cache like a run, and run nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "editdist.h"
#include "run_int.h"

/* One PIPEC_EV_PLAN event. */
static void plan_event(runner *R, const char *node, const char *status,
                       const char *why) {
  pipec_event ev = {.kind = PIPEC_EV_PLAN,
                    .node = node,
                    .status = status,
                    .detail = why,
                    .dry_run = true};
  uint32_t i = pipec_pipeline_node(R->p, node);
  if (i != PIPEC_NONE)
    run_family_event(R, i, &ev);
  run_emit(R, &ev);
}

/* --dry-run: what would run and why, in order; runs nothing. A node whose
 * input would be recomputed runs too (its key depends on that content). */
void run_dry_run(runner *R) {
  /* every lookup in one read transaction (else each takes the lock) */
  bool tx = store_begin_read(R->st) == 0;
  for (uint32_t f = 0; f < R->p0->n_fanouts; f++) {
    if (R->exp.known[f])
      continue;
    const pipec_fanout *fo = &R->p0->fanouts[f];
    const pipec_family *fam =
        &R->p0->families[R->p0->templates[fo->first_template].family];
    char *name = xprintf("%s[*]", fam->name);
    char *why = xprintf("its members are known once '%s' has run",
                        R->p0->nodes[fo->producer].name);
    plan_event(R, name, "expands", why);
    free(name);
    free(why);
  }
  for (uint32_t i = 0; i < R->p->n_nodes; i++) {
    if (R->held[i]) {
      plan_event(R, R->p->nodes[i].name, "would run",
                 "after a family it reads expands");
      R->res->ran++;
      continue;
    }
    if (!R->in_plan[i])
      continue;
    const pipec_node *n = &R->p->nodes[i];
    const char *pending = NULL;
    for (uint32_t k = 0; k < n->n_inputs && !pending; k++) {
      uint32_t from = n->inputs[k].producer;
      if (from != PIPEC_NONE && !R->nodes[from].known)
        pending = R->p->nodes[from].name;
    }
    if (pending) {
      char *why = xprintf("input from '%s', which runs first", pending);
      plan_event(R, n->name, "would run", why);
      free(why);
      R->res->ran++;
      continue;
    }
    char err[512];
    int rc = run_compute_key(R, i, false, err, sizeof err);
    if (rc == 0 && n->cache && !R->o->force && run_cache_lookup(R, i)) {
      plan_event(R, n->name, "cached", NULL);
      R->res->cached++;
      continue;
    }
    /* the key's parts say what changed; a node that never ran has none
     * to compare (and a plan of 10^6 new nodes makes none) */
    bool complete = false;
    if (rc == 0 && (run_state_of(R, i, &complete) || !complete))
      rc = run_compute_key(R, i, true, err, sizeof err);
    if (rc != 0) {
      plan_event(R, n->name, "would fail", err);
      R->res->failed++;
      continue;
    }
    char *why = run_miss_reason(R, i);
    plan_event(R, n->name, "would run", why);
    free(why);
    R->res->ran++;
  }
  if (tx)
    store_commit(R->st);
  pipec_event end = {.kind = PIPEC_EV_RUN_END,
                     .ran = R->res->ran,
                     .cached = R->res->cached,
                     .failed = R->res->failed};
  run_emit(R, &end);
}

/* ---- pipec why ------------------------------------------------------------ */

int run_why(ws *w, const pipec_pipeline *p0, const char *node_name,
            pipec_why *out, char *err, size_t errlen) {
  run_opts o = {.dry_run = true};
  memset(out, 0, sizeof *out);
  run_result res;
  runner R = {.p = p0, .o = &o, .res = &res, .w = w};
  memset(&res, 0, sizeof res);
  int code = RUN_USAGE;
  if ((code = run_setup(&R, err, errlen)) != 0) {
    code = code == RUN_WORKSPACE ? RUN_WORKSPACE : RUN_USAGE;
    goto out;
  }
  code = RUN_USAGE;
  /* the sources, then the loops that the cache can expand, so a member
   * can be asked about */
  if (run_sources(&R, false, err, errlen) != 0 ||
      run_images(&R, err, errlen) != 0 ||
      run_expand_cached(&R, err, errlen) != 0)
    goto out;
  const pipec_pipeline *p = R.p;
  uint32_t node = pipec_pipeline_node(p, node_name);
  if (node == PIPEC_NONE) {
    const char **names = xcalloc(p->n_nodes, sizeof *names);
    for (uint32_t i = 0; i < p->n_nodes; i++)
      names[i] = p->nodes[i].name;
    const char *best = editdist_suggest(node_name, names, p->n_nodes);
    snprintf(err, errlen, "pipeline '%s' has no node '%s'%s%s%s", p->name,
             node_name, best ? "; did you mean '" : "", best ? best : "",
             best ? "'?" : "");
    free(names);
    goto out;
  }
  char *main_rel = run_workspace_path(&R, p->file);
  int rc = store_pipeline_get_or_create(R.st, p->name, main_rel,
                                        &R.pipeline_id);
  free(main_rel);
  if (rc != 0) {
    snprintf(err, errlen, "%s", store_errmsg(R.st));
    goto out;
  }
  /* the node and everything upstream, in order: the first that misses the
   * cache is the reason everything below it would run */
  bool *need = xcalloc(p->n_nodes, sizeof *need);
  need[node] = true;
  for (uint32_t i = node + 1; i-- > 0;)
    if (need[i])
      for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++)
        if (p->nodes[i].inputs[k].producer != PIPEC_NONE)
          need[p->nodes[i].inputs[k].producer] = true;
  code = RUN_OK;
  for (uint32_t i = 0; i <= node; i++) {
    if (!need[i])
      continue;
    char e[512];
    if (run_compute_key(&R, i, true, e, sizeof e) != 0) {
      *out = (pipec_why){.verdict = PIPEC_WHY_UNKEYABLE,
                         .node = xstrdup(node_name),
                         .upstream = xstrdup(p->nodes[i].name),
                         .reason = xstrdup(e)};
      break;
    }
    if (p->nodes[i].cache && run_cache_lookup(&R, i)) {
      if (i == node) {
        *out = (pipec_why){.verdict = PIPEC_WHY_CACHED,
                           .node = xstrdup(node_name)};
        hash_hex(&R.nodes[i].key, out->key);
      }
      continue;
    }
    char *why = run_miss_reason(&R, i);
    *out = (pipec_why){.verdict = i == node ? PIPEC_WHY_RUNS
                                            : PIPEC_WHY_UPSTREAM,
                       .node = xstrdup(node_name),
                       .upstream = i == node ? NULL
                                             : xstrdup(p->nodes[i].name),
                       .reason = why};
    break;
  }
  const ctr_image *im = run_node_image(&R, node);
  if (im) {
    out->image = xstrdup(im->ref);
    out->image_id = im->id ? xstrdup(im->id) : NULL;
  }
  free(need);
out:
  run_free(&R);
  return code;
}


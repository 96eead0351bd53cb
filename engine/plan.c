/*
 * plan.c — node selection for partial runs; see plan.h.
 *
 * The IR lists nodes in topological order, so "downstream" is one forward
 * sweep and "upstream" one backward sweep: O(nodes + edges), no recursion.
 * A name selects a node, or the members of a family: 'aligned[*]' all of
 * them, 'model[1,*]' those whose first key part is 1.
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

static void suggest(const pipec_pipeline *p, const char *name, char *err,
                    size_t errlen) {
  /* nodes outside families and the families: a typo is nearer those */
  const char **names = malloc((p->n_nodes + p->n_families + 1) *
                              sizeof *names);
  char **fam = malloc((p->n_families + 1) * sizeof *fam);
  if (!names || !fam)
    abort();
  uint32_t k = 0;
  for (uint32_t i = 0; i < p->n_nodes; i++)
    if (p->nodes[i].family == PIPEC_NONE)
      names[k++] = p->nodes[i].name;
  for (uint32_t f = 0; f < p->n_families; f++) {
    size_t n = strlen(p->families[f].name) + 4;
    fam[f] = malloc(n);
    if (!fam[f])
      abort();
    snprintf(fam[f], n, "%s[*]", p->families[f].name);
    names[k++] = fam[f];
  }
  const char *best = editdist_suggest(name, names, k);
  if (best)
    snprintf(err, errlen, "no node '%s' in pipeline '%s'; did you mean '%s'?",
             name, p->name, best);
  else
    snprintf(err, errlen, "no node '%s' in pipeline '%s'", name, p->name);
  for (uint32_t f = 0; f < p->n_families; f++)
    free(fam[f]);
  free(fam);
  free(names);
}

/* Mark the members of family f that `pattern` (the text between the
 * brackets of NAME[...]) selects; their count, or -1 with err. */
static int mark_family(const pipec_pipeline *p, uint32_t f,
                       const char *pattern, bool *mark, char *err,
                       size_t errlen) {
  const pipec_family *fam = &p->families[f];
  if (fam->runtime) {
    snprintf(err, errlen,
             "the members of family '%s' are known only at run time (its "
             "loop runs over a node's output)",
             fam->name);
    return -1;
  }
  if (strcmp(pattern, "*") == 0) {
    for (uint32_t m = 0; m < fam->n_members; m++)
      mark[fam->members[m]] = true;
    return (int)fam->n_members;
  }
  /* one part per index variable, separated by ',' */
  uint32_t nparts = 1;
  for (const char *q = pattern; *q; q++)
    nparts += *q == ',';
  if (nparts != fam->n_vars) {
    snprintf(err, errlen,
             "family '%s' has %u index variable%s, but '%s[%s]' gives %u; "
             "'%s[*]' selects every member",
             fam->name, fam->n_vars, fam->n_vars == 1 ? "" : "s", fam->name,
             pattern, nparts, fam->name);
    return -1;
  }
  const char **parts = malloc((nparts + 1) * sizeof *parts);
  size_t *lens = malloc((nparts + 1) * sizeof *lens);
  if (!parts || !lens)
    abort();
  const char *s = pattern;
  for (uint32_t i = 0; i < nparts; i++) {
    size_t n = strcspn(s, ",");
    parts[i] = s;
    lens[i] = n;
    s += n + (s[n] == ',');
  }
  int count = 0;
  for (uint32_t m = 0; m < fam->n_members; m++) {
    bool match = true;
    for (uint32_t i = 0; i < nparts && match; i++) {
      const char *have = fam->parts[(size_t)m * fam->n_vars + i];
      match = (lens[i] == 1 && parts[i][0] == '*') ||
              (strlen(have) == lens[i] && memcmp(have, parts[i], lens[i]) == 0);
    }
    if (match) {
      mark[fam->members[m]] = true;
      count++;
    }
  }
  free(parts);
  free(lens);
  if (count == 0) {
    snprintf(err, errlen, "no member of family '%s' matches '%s[%s]'",
             fam->name, fam->name, pattern);
    return -1;
  }
  return count;
}

/* Mark the nodes `name` selects: a node, or members of a family. 0, or
 * -1 with err (the nearest known name). */
static int select_name(const pipec_pipeline *p, const char *name, bool *mark,
                       char *err, size_t errlen) {
  uint32_t i = pipec_pipeline_node(p, name);
  if (i != PIPEC_NONE) {
    mark[i] = true;
    return 0;
  }
  const char *open = strchr(name, '[');
  size_t len = strlen(name);
  if (open && len > 0 && name[len - 1] == ']') {
    char *fname = strndup(name, (size_t)(open - name));
    char *pattern = strndup(open + 1, (size_t)(name + len - 1 - open - 1));
    if (!fname || !pattern)
      abort();
    uint32_t f = pipec_pipeline_family(p, fname);
    int rc = f == PIPEC_NONE ? -2
                             : mark_family(p, f, pattern, mark, err, errlen);
    free(fname);
    free(pattern);
    if (rc >= 0)
      return 0;
    if (rc == -1)
      return -1;
  }
  uint32_t f = pipec_pipeline_family(p, name);
  if (f != PIPEC_NONE) {
    const pipec_family *fam = &p->families[f];
    snprintf(err, errlen,
             "'%s' is a family of %u node%s: select '%s[*]' for all of them, "
             "or one, like '%s'",
             name, fam->n_members, fam->n_members == 1 ? "" : "s", name,
             fam->n_members ? p->nodes[fam->members[0]].name
                            : "NAME[KEY]");
    return -1;
  }
  suggest(p, name, err, errlen);
  return -1;
}

/* mark[] |= everything downstream of the nodes marked */
static void mark_down(const pipec_pipeline *p, bool *mark) {
  for (uint32_t i = 0; i < p->n_nodes; i++)
    for (uint32_t k = 0; k < p->nodes[i].n_inputs && !mark[i]; k++) {
      const pipec_input *in = &p->nodes[i].inputs[k];
      if (in->kind == PIPEC_IN_NODE && mark[in->producer])
        mark[i] = true;
    }
}

/* mark[] |= everything upstream of the nodes marked */
static void mark_up(const pipec_pipeline *p, bool *mark) {
  for (uint32_t i = p->n_nodes; i-- > 0;)
    if (mark[i])
      for (uint32_t k = 0; k < p->nodes[i].n_inputs; k++) {
        const pipec_input *in = &p->nodes[i].inputs[k];
        if (in->kind == PIPEC_IN_NODE)
          mark[in->producer] = true;
      }
}

int plan_select(const pipec_pipeline *p, const plan_sel *sel, bool *in_plan,
                char *err, size_t errlen) {
  uint32_t n = p->n_nodes;
  bool selective = sel->n_nodes || sel->from || sel->to;
  for (uint32_t i = 0; i < n; i++)
    in_plan[i] = !selective;
  if (!selective)
    return 0;
  for (uint32_t k = 0; k < sel->n_nodes; k++)
    if (select_name(p, sel->nodes[k], in_plan, err, errlen))
      return -1;
  if (!sel->from && !sel->to)
    return 0;
  bool *down = calloc((size_t)n + 1, 1), *up = calloc((size_t)n + 1, 1);
  bool *to = calloc((size_t)n + 1, 1);
  if (!down || !up || !to)
    abort();
  int rc = 0;
  if ((sel->from && select_name(p, sel->from, down, err, errlen)) ||
      (sel->to && select_name(p, sel->to, up, err, errlen))) {
    rc = -1;
    goto done;
  }
  memcpy(to, up, n);
  if (sel->from)
    mark_down(p, down);
  if (sel->to)
    mark_up(p, up);
  for (uint32_t i = 0; i < n; i++) {
    bool in = sel->from && sel->to ? down[i] && up[i]
              : sel->from           ? down[i]
                                    : up[i];
    in_plan[i] = in_plan[i] || in;
  }
  if (sel->from && sel->to) {
    bool any = false;
    for (uint32_t i = 0; i < n && !any; i++)
      any = to[i] && down[i];
    if (!any) {
      snprintf(err, errlen, "node '%s' is not downstream of '%s'", sel->to,
               sel->from);
      rc = -1;
    }
  }
done:
  free(down);
  free(up);
  free(to);
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
      if (p->nodes[i].inputs[k].kind == PIPEC_IN_NODE)
        need[p->nodes[i].inputs[k].producer] = true;
  }
  for (uint32_t i = 0; i < n; i++)
    upstream[i] = need[i] && !in_plan[i];
  free(need);
}

/* ---- what this engine can run ------------------------------------------- */

int plan_runnable(const pipec_pipeline *p, char *err, size_t errlen) {
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const pipec_node *n = &p->nodes[i];
    /* a node's name names its scratch directory and log file */
    if (strchr(n->name, '/')) {
      snprintf(err, errlen,
               "node '%s' (%s:%u): a family key cannot hold '/' (its node's "
               "scratch directory and log are named after it); loop over "
               "names without slashes, e.g. the file names of a glob",
               n->name, n->loc.file ? n->loc.file : p->file, n->loc.line);
      return -1;
    }
  }
  return 0;
}

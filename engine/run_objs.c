/*
 * run_objs.c — the objects a run reads and writes, and the inputs of each
 * attempt (run_int.h: how inputs are given and checked).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "integrity.h"
#include "tree.h"
#include "run_int.h"

/* ---- the objects the run uses ---------------------------------------------
 * Entries are never removed during a run; pointers into the table stay
 * valid only until the next run_objs_get() (which may grow it). */

static size_t objs_slot(const run_objs *t, const hash128 *h) {
  uint64_t k;
  memcpy(&k, h->b, sizeof k);
  return (size_t)k & (t->cap - 1);
}

run_obj *run_objs_find(runner *R, const hash128 *h) {
  run_objs *t = &R->objs_seen;
  if (!t->cap)
    return NULL;
  for (size_t i = objs_slot(t, h);; i = (i + 1) & (t->cap - 1)) {
    if (!t->v[i].used)
      return NULL;
    if (hash_eq(&t->v[i].hash, h))
      return &t->v[i];
  }
}

run_obj *run_objs_get(runner *R, const hash128 *h) {
  run_objs *t = &R->objs_seen;
  run_obj *o = run_objs_find(R, h);
  if (o)
    return o;
  if ((t->n + 1) * 2 > t->cap) {
    run_objs bigger = {xcalloc(t->cap ? t->cap * 2 : 64, sizeof(run_obj)),
                       t->cap ? t->cap * 2 : 64, t->n};
    for (size_t i = 0; i < t->cap; i++) {
      if (!t->v[i].used)
        continue;
      size_t j = objs_slot(&bigger, &t->v[i].hash);
      while (bigger.v[j].used)
        j = (j + 1) & (bigger.cap - 1);
      bigger.v[j] = t->v[i];
    }
    free(t->v);
    *t = bigger;
  }
  size_t i = objs_slot(t, h);
  while (t->v[i].used)
    i = (i + 1) & (t->cap - 1);
  t->v[i] = (run_obj){.hash = *h, .used = true};
  t->n++;
  return &t->v[i];
}

/* The object changed under the run (its bytes no longer match its name):
 * whoever links it from now on, or linked it before, must not use it. why
 * (malloc'd; NULL keeps the last one) says how, for their messages. */
void run_obj_changed(run_obj *o, char *why) {
  o->known = false;
  o->damage++;
  if (why) {
    free(o->why);
    o->why = why;
  }
}

/* May object h be used? The run's own view of it first (it moves with
 * pipec's links), else recorded (the store's row, NULL if none); a stat
 * that differs is re-hashed (integrity.h: a damaged object is removed and
 * the entries naming it dropped, with readers those computed from it too).
 * Returns
 * integ_check()'s verdict, why filled when it is not 0. */
int run_obj_trust(runner *R, const hash128 *h, const hash_stat *recorded,
                     bool readers, char *why, size_t whylen) {
  run_obj *o = run_objs_get(R, h);
  hash_stat rec, now;
  bool had = o->known, rehashed = false;
  if (had)
    rec = o->st;
  else if (recorded)
    rec = *recorded;
  int rc = integ_check(R->st, R->objs, h, had || recorded ? &rec : NULL,
                       readers, &now, &rehashed, why, whylen);
  if (rc != 0) {
    run_obj_changed(o, NULL);
    return rc;
  }
  o->st = now;
  o->known = true;
  if (rehashed || !had)   /* the store's record is this stat now */
    o->dirty = false;
  return 0;
}

/* pipec itself just linked or unlinked object h, which moves its ctime
 * and nothing else: take the new stat as the one to expect, unless
 * something else moved as well (then the next use re-hashes). */
void run_obj_own_change(runner *R, const hash128 *h) {
  run_obj *o = run_objs_find(R, h);
  hash_stat now;
  if (!o || !o->known)
    return;
  if (obj_stat(R->objs, h, &now) == 0 && now.dev == o->st.dev &&
      now.ino == o->st.ino && now.size == o->st.size &&
      now.mtime_ns == o->st.mtime_ns) {
    o->dirty = o->dirty || now.ctime_ns != o->st.ctime_ns;
    o->st = now;
  } else {
    o->known = false;
  }
}

/* Write the stats the run saw to the store, for the next run's checks. */
void run_objs_flush(runner *R) {
  run_objs *t = &R->objs_seen;
  bool open = false;
  for (size_t i = 0; i < t->cap; i++) {
    run_obj *o = &t->v[i];
    if (!o->used || !o->known || !o->dirty)
      continue;
    if (!open && !(open = store_begin(R->st) == 0))
      return;
    store_object_put(R->st, &o->hash, o->st.size, &o->st);
    o->dirty = false;
  }
  char e[768];
  if (open)
    run_commit(R, e, sizeof e);
}

void run_objs_free(run_objs *t) {
  for (size_t i = 0; i < t->cap; i++)
    free(t->v[i].why);
  free(t->v);
  memset(t, 0, sizeof *t);
}


/* ---- inputs: given as links, checked after each attempt ------------------ */

/* "input 'x' (from a.out)", "input 'ref' (source data/ref.fa)" */
static char *input_name(const runner *R, uint32_t node, uint32_t i) {
  const pipec_input *in = &R->p->nodes[node].inputs[i];
  if (in->kind == PIPEC_IN_SOURCE)
    return xprintf("input '%s' (source %s)", in->port, in->source);
  return xprintf("input '%s' (from %s.%s)", in->port,
                 R->p->nodes[in->producer].name, in->producer_port);
}

/* Who makes the input again: "the next run recomputes 'a'" or, for a
 * source, "the next run stores it again from the project". */
static char *remedy(const runner *R, uint32_t node, uint32_t i) {
  const pipec_input *in = &R->p->nodes[node].inputs[i];
  if (in->kind == PIPEC_IN_SOURCE)
    return xstrdup("the next run stores it again from the project");
  return xprintf("the next run recomputes '%s'",
                 R->p->nodes[in->producer].name);
}

typedef struct link_set {
  run_link *v;
  uint32_t n, cap;
} link_set;

static int add_file(void *ctx, const hash128 *h, char kind) {
  link_set *ls = ctx;
  if (kind != 'f') /* subtrees are walked; executables are copies */
    return 0;
  if (ls->n == ls->cap) {
    ls->cap = ls->cap ? ls->cap * 2 : 16;
    ls->v = xrealloc(ls->v, ls->cap * sizeof *ls->v);
  }
  ls->v[ls->n++] = (run_link){.hash = *h};
  return 0;
}

/* Check object h before a node links it: 0, or -1 with err. */
static int trust_linked(runner *R, uint32_t node, uint32_t i,
                        const hash128 *h, char *err, size_t errlen) {
  char e[512];
  run_obj *seen = run_objs_find(R, h);
  hash_stat rec;
  bool have = (!seen || !seen->known) &&
              store_object_get(R->st, h, NULL, &rec) == 1;
  if (run_obj_trust(R, h, have ? &rec : NULL, false, e, sizeof e) == 0)
    return 0;
  run_obj *o = run_objs_find(R, h);
  char *what = input_name(R, node, i), *fix = remedy(R, node, i);
  if (o && o->why)
    snprintf(err, errlen, "its %s %s during this run, so it is not in the "
                          "store any more; %s", what, o->why, fix);
  else
    snprintf(err, errlen, "its %s is damaged in the store (%s) and was "
                          "removed; %s", what, e, fix);
  free(what);
  free(fix);
  return -1;
}

/* Make the attempt's input links, each after checking its objects. 0, or
 * -1 with err: an input that is damaged, or that an earlier node of the
 * run changed (then it is not in the store any more). */
int run_inputs_link(runner *R, uint32_t node, char *err, size_t errlen) {
  const pipec_node *n = &R->p->nodes[node];
  run_node *rn = &R->nodes[node];
  for (uint32_t i = 0; i < n->n_inputs; i++) {
    run_input *in = &rn->x->inputs[i];
    char e[512];
    if (trust_linked(R, node, i, &in->hash, err, errlen) != 0)
      return -1;
    if (!in->objs) { /* what it links: the file, or the files of the tree */
      link_set ls = {0};
      if (!in->dir)
        add_file(&ls, &in->hash, 'f');
      else if (tree_walk(R->objs, &in->hash, add_file, &ls, e, sizeof e)) {
        char *what = input_name(R, node, i);
        snprintf(err, errlen, "cannot read the tree of its %s: %s", what, e);
        free(what);
        free(ls.v);
        return -1;
      }
      in->objs = ls.v;
      in->n_objs = ls.n;
    }
    for (uint32_t k = in->dir ? 0 : in->n_objs; k < in->n_objs; k++)
      if (trust_linked(R, node, i, &in->objs[k].hash, err, errlen) != 0)
        return -1;
    int rc = in->dir ? tree_materialize(R->objs, &in->hash, in->link, e,
                                        sizeof e)
                     : obj_materialize(R->objs, &in->hash, in->link, 0, e,
                                       sizeof e);
    if (rc != 0) {
      char *what = input_name(R, node, i);
      snprintf(err, errlen, "cannot give the node its %s: %s", what, e);
      free(what);
      if (in->dir)
        fs_rm_rf(in->link);
      return -1;
    }
    in->linked = true;
    for (uint32_t k = 0; k < in->n_objs; k++) {
      run_obj *o = run_objs_find(R, &in->objs[k].hash);
      if (!o)
        o = run_objs_get(R, &in->objs[k].hash);
      o->users++;
      in->objs[k].damage = o->damage;
      run_obj_own_change(R, &in->objs[k].hash);
    }
  }
  return 0;
}

/* After an attempt: did it leave object l of input i as it was? NULL, or
 * why the node fails (malloc'd). */
static char *check_one(runner *R, uint32_t node, uint32_t i, run_link *l) {
  const pipec_node *n = &R->p->nodes[node];
  run_obj *o = run_objs_find(R, &l->hash);
  if (!o)
    return NULL;
  if (o->damage != l->damage) { /* found changed while we read it */
    char *what = input_name(R, node, i);
    char *msg = xprintf("%s %s while node '%s' read it, so its result is "
                        "not used; the next run recomputes it",
                        what, o->why ? o->why : "was changed in place",
                        n->name);
    free(what);
    return msg;
  }
  hash_stat now;
  if (o->known && R->fine_ts && obj_stat(R->objs, &l->hash, &now) == 0 &&
      hash_stat_eq(&now, &o->st))
    return NULL;
  /* it moved (its link was replaced, another pipec linked it...), or
   * timestamps are too coarse to tell: the bytes decide */
  char e[512];
  int rc = integ_check(R->st, R->objs, &l->hash, NULL, false, &now, NULL, e,
                       sizeof e);
  o = run_objs_find(R, &l->hash);
  if (rc == 0) {
    /* intact; a chmod (an owner may make it writable) is undone */
    if (obj_seal(R->objs, &l->hash, &now) != 0)
      now = (hash_stat){0};
    o->st = now;
    o->known = now.ino != 0;
    o->dirty = true;
    return NULL;
  }
  char *what = input_name(R, node, i);
  char *msg;
  if (o->users <= 1) {
    run_obj_changed(o, xprintf("was changed in place by node '%s'", n->name));
    msg = xprintf("node '%s' changed its %s in place: inputs are read-only; "
                  "write to an output instead",
                  n->name, what);
  } else {
    run_obj_changed(o, xprintf("was changed in place by one of the %u nodes "
                               "reading it at the same time (node '%s' is "
                               "one)",
                               o->users, n->name));
    msg = xprintf("%s was changed in place while node '%s' and %u other "
                  "node%s reading it ran: inputs are read-only; write to an "
                  "output instead",
                  what, n->name, o->users - 1, o->users == 2 ? "" : "s");
  }
  l->damage = o->damage;
  free(what);
  return msg;
}

/* After an attempt: did it leave every input as it was? NULL, or why the
 * node fails (malloc'd). A changed object is removed and its cache
 * entries dropped; the nodes that read it at the same time fail too. */
char *run_inputs_check(runner *R, uint32_t node) {
  const pipec_node *n = &R->p->nodes[node];
  run_node *rn = &R->nodes[node];
  for (uint32_t i = 0; rn->x && rn->x->inputs && i < n->n_inputs; i++) {
    run_input *in = &rn->x->inputs[i];
    if (!in->linked)
      continue;
    for (uint32_t k = 0; k < in->n_objs; k++) {
      char *msg = check_one(R, node, i, &in->objs[k]);
      if (msg)
        return msg;
    }
  }
  return NULL;
}

/* Remove the attempt's input links (pipec's own unlinks: the objects'
 * expected stats follow). */
void run_inputs_release(runner *R, uint32_t node) {
  const pipec_node *n = &R->p->nodes[node];
  run_node *rn = &R->nodes[node];
  for (uint32_t i = 0; rn->x && rn->x->inputs && i < n->n_inputs; i++) {
    run_input *in = &rn->x->inputs[i];
    if (!in->linked)
      continue;
    if (in->dir) {
      fs_rm_rf(in->link);
      for (uint32_t k = 0; k < in->n_objs; k++)
        run_obj_own_change(R, &in->objs[k].hash);
    } else {
      run_obj *o = run_objs_find(R, &in->hash);
      struct stat sb;
      bool ours = o && o->known && lstat(in->link, &sb) == 0 &&
                  (uint64_t)sb.st_ino == o->st.ino &&
                  (uint64_t)sb.st_dev == o->st.dev;
      unlink(in->link);
      if (ours)
        run_obj_own_change(R, &in->hash);
    }
    for (uint32_t k = 0; k < in->n_objs; k++) {
      run_obj *o = run_objs_find(R, &in->objs[k].hash);
      if (o && o->users)
        o->users--;
    }
    in->linked = false;
  }
}

void run_inputs_free(run_node *rn, uint32_t n_in) {
  run_exec *x = rn->x;
  if (!x)
    return;
  for (uint32_t i = 0; x->inputs && i < n_in; i++) {
    free(x->inputs[i].link);
    free(x->inputs[i].objs);
  }
  free(x->inputs);
  x->inputs = NULL;
}

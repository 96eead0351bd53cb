/*
 * expand.c — run-time fan-out (expand.h).
 *
 * exp_apply builds the new pipeline in one pass over the compiled one: a
 * loop's members are placed right before the first node that gathers
 * them (the compiler put every node a template reads before that one),
 * or at the end, so the result is still in topological order; old nodes
 * keep their structs (shared with the compiled pipeline, which must
 * outlive it) unless an input or param has to change.
 */
#include "expand.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "alloc.h"
#include "literal.h"
#include "tree.h"

void exp_init(exp_set *s, const pipec_pipeline *p) {
  memset(s, 0, sizeof *s);
  s->a = arena_new();
  s->n_fanouts = p->n_fanouts;
  s->known = arena_alloc(s->a, (p->n_fanouts + 1) * sizeof *s->known);
  s->first = arena_alloc(s->a, (p->n_fanouts + 1) * sizeof *s->first);
  s->count = arena_alloc(s->a, (p->n_fanouts + 1) * sizeof *s->count);
}

void exp_free(exp_set *s) {
  if (s->a)
    arena_free(s->a);
  for (uint32_t i = 0; i < s->n_indexes; i++)
    free(s->indexes[i]);
  free(s->indexes);
  free(s->all);
  memset(s, 0, sizeof *s);
}

/* ---- reading items ------------------------------------------------------ */

static void add_item(exp_set *s, const char *key, size_t len,
                     const hash128 *h) {
  if (s->n_all == s->cap_all) {
    s->cap_all = s->cap_all ? s->cap_all * 2 : 64;
    s->all = xrealloc(s->all, s->cap_all * sizeof *s->all);
  }
  exp_item *it = &s->all[s->n_all++];
  it->key = arena_intern(s->a, key, len);
  it->is_file = h != NULL;
  if (h)
    it->hash = *h;
}

/* The whole object h, NUL-terminated (malloc'd). */
static char *read_object(const obj_store *objs, const hash128 *h,
                         size_t *len, char *err, size_t errlen) {
  char path[PATH_MAX];
  obj_path(objs, h, path, sizeof path);
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, errlen, "cannot read the loop's source: %s",
             strerror(errno));
    return NULL;
  }
  size_t cap = 4096, n = 0;
  char *buf = xmalloc(cap + 1);
  for (size_t got; (got = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += got;
    if (n == cap)
      buf = xrealloc(buf, (cap *= 2) + 1);
  }
  fclose(f);
  buf[n] = '\0';
  *len = n;
  return buf;
}

static int read_dir(exp_set *s, const obj_store *objs, const hash128 *out,
                    const char *what, char *err, size_t errlen) {
  tree_entry *e = NULL;
  uint32_t n = 0;
  char e2[512];
  if (tree_read(objs, out, &e, &n, e2, sizeof e2) != 0) {
    snprintf(err, errlen, "%s is not a directory tree: %s", what, e2);
    return -1;
  }
  int rc = 0;
  for (uint32_t i = 0; i < n && rc == 0; i++) {
    if (e[i].kind == 'd') {
      snprintf(err, errlen, "%s holds a directory '%s': a loop over a dir "
                            "goes over its files", what, e[i].name);
      rc = -1;
      break;
    }
    add_item(s, e[i].name, strlen(e[i].name), &e[i].hash);
  }
  tree_entries_free(e, n);
  return rc;
}

static int read_lines(exp_set *s, const obj_store *objs, const hash128 *out,
                      char *err, size_t errlen) {
  size_t len;
  char *text = read_object(objs, out, &len, err, errlen);
  if (!text)
    return -1;
  for (char *line = text; line < text + len;) {
    char *nl = memchr(line, '\n', (size_t)(text + len - line));
    size_t n = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
    if (n && line[n - 1] == '\r')
      n--;
    if (n) /* an empty line is no item */
      add_item(s, line, n, NULL);
    line += (nl ? (size_t)(nl - line) + 1 : n);
    if (!nl)
      break;
  }
  free(text);
  return 0;
}

/* A json list through SQLite's JSON reader (well kept, and already ours). */
static int read_json(exp_set *s, const obj_store *objs, const hash128 *out,
                     const char *what, char *err, size_t errlen) {
  size_t len;
  char *text = read_object(objs, out, &len, err, errlen);
  if (!text)
    return -1;
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  int rc = -1;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK ||
      sqlite3_prepare_v2(db, "SELECT json_type(?1), value, type FROM "
                             "json_each(?1)",
                         -1, &st, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot read JSON: %s",
             db ? sqlite3_errmsg(db) : "out of memory");
    goto out;
  }
  sqlite3_bind_text(st, 1, text, (int)len, SQLITE_STATIC);
  int r;
  bool first = true;
  while ((r = sqlite3_step(st)) == SQLITE_ROW) {
    const char *top = (const char *)sqlite3_column_text(st, 0);
    if (first && (!top || strcmp(top, "array") != 0)) {
      snprintf(err, errlen, "%s holds a JSON %s, not a list", what,
               top ? top : "value");
      goto out;
    }
    first = false;
    const char *type = (const char *)sqlite3_column_text(st, 2);
    if (!type || (strcmp(type, "text") != 0 && strcmp(type, "integer") != 0 &&
                  strcmp(type, "real") != 0)) {
      snprintf(err, errlen, "%s: a list item is %s; a loop's items are "
                            "strings or numbers", what, type ? type : "null");
      goto out;
    }
    const char *v = (const char *)sqlite3_column_text(st, 1);
    add_item(s, v ? v : "", v ? strlen(v) : 0, NULL);
  }
  if (r != SQLITE_DONE) {
    snprintf(err, errlen, "%s is not valid JSON: %s", what,
             sqlite3_errmsg(db));
    goto out;
  }
  if (first) { /* no row: an empty list, or not a list */
    sqlite3_reset(st);
    sqlite3_stmt *t = NULL;
    if (sqlite3_prepare_v2(db, "SELECT json_type(?1)", -1, &t, NULL) ==
        SQLITE_OK) {
      sqlite3_bind_text(t, 1, text, (int)len, SQLITE_STATIC);
      const char *top = sqlite3_step(t) == SQLITE_ROW
                            ? (const char *)sqlite3_column_text(t, 0)
                            : NULL;
      if (!top || strcmp(top, "array") != 0) {
        snprintf(err, errlen, "%s holds %s, not a JSON list", what,
                 top ? top : "no valid JSON");
        sqlite3_finalize(t);
        goto out;
      }
      sqlite3_finalize(t);
    }
  }
  rc = 0;
out:
  sqlite3_finalize(st);
  sqlite3_close(db);
  free(text);
  return rc;
}

static int key_cmp(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int exp_read(exp_set *s, const obj_store *objs, const pipec_pipeline *p,
             uint32_t f, const hash128 *out, char *err, size_t errlen) {
  const pipec_fanout *fo = &p->fanouts[f];
  char what[512];
  snprintf(what, sizeof what, "%s.%s (for %s in it, %s:%u)",
           p->nodes[fo->producer].name, fo->port, fo->var,
           fo->loc.file ? fo->loc.file : p->file, fo->loc.line);
  uint32_t first = s->n_all;
  int rc = fo->kind == PIPEC_FANOUT_DIR
               ? read_dir(s, objs, out, what, err, errlen)
           : fo->kind == PIPEC_FANOUT_LINES ? read_lines(s, objs, out, err,
                                                         errlen)
                                            : read_json(s, objs, out, what,
                                                        err, errlen);
  uint32_t n = s->n_all - first;
  /* keys name nodes, scratch directories and logs: one each, no '/' */
  const char **keys = xcalloc(n + 1, sizeof *keys);
  for (uint32_t i = 0; rc == 0 && i < n; i++) {
    const char *k = s->all[first + i].key;
    if (strchr(k, '/') || strchr(k, '\n') || !*k) {
      snprintf(err, errlen, "%s: the item '%s' cannot be a key (a key has "
                            "no '/' or line break)", what, k);
      rc = -1;
    }
    keys[i] = k;
  }
  if (rc == 0 && n > 1) {
    qsort(keys, n, sizeof *keys, key_cmp);
    for (uint32_t i = 1; i < n && rc == 0; i++)
      if (strcmp(keys[i - 1], keys[i]) == 0) {
        snprintf(err, errlen, "%s has the item '%s' twice: each item is a "
                              "member's key", what, keys[i]);
        rc = -1;
      }
  }
  free(keys);
  if (rc != 0) {
    s->n_all = first;
    return -1;
  }
  s->first[f] = first;
  s->count[f] = n;
  s->known[f] = true;
  return 0;
}

/* ---- expanding ------------------------------------------------------------ */

/* The fanout that template t belongs to. */
static uint32_t fanout_of(const pipec_pipeline *p, uint32_t t) {
  for (uint32_t f = 0; f < p->n_fanouts; f++)
    if (t >= p->fanouts[f].first_template &&
        t < p->fanouts[f].first_template + p->fanouts[f].n_templates)
      return f;
  return PIPEC_NONE;
}

/* "counted[*]" or "model[1,*]" with the item's key for '*'. */
static const char *member_key(arena *a, const char *tkey, const char *item) {
  const char *star = strchr(tkey, '*');
  if (!star)
    return arena_strdup(a, tkey);
  return arena_printf(a, "%.*s%s%s", (int)(star - tkey), tkey, item, star + 1);
}

/* ${VAR} of text replaced by item, $${ by ${. */
static const char *subst(arena *a, const char *text, const char *var,
                         const char *item) {
  size_t vl = strlen(var);
  size_t cap = strlen(text) + 1, n = 0;
  for (const char *q = text; (q = strstr(q, "${")); q += 2)
    cap += strlen(item);
  char *out = arena_alloc(a, cap + 1);
  for (const char *q = text; *q;) {
    if (q[0] == '$' && q[1] == '$' && q[2] == '{') {
      memcpy(out + n, "${", 2);
      n += 2;
      q += 3;
    } else if (q[0] == '$' && q[1] == '{' && strncmp(q + 2, var, vl) == 0 &&
               q[2 + vl] == '}') {
      size_t il = strlen(item);
      memcpy(out + n, item, il);
      n += il;
      q += 3 + vl;
    } else {
      out[n++] = *q++;
    }
  }
  out[n] = '\0';
  return out;
}

/* A plain word: what may be pasted into a command (as ${} at compile
 * time). */
static bool plain_word(const char *s) {
  for (; *s; s++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                "0123456789_.-+,:@%=", *s))
      return false;
  return true;
}

typedef struct builder {
  exp_set *s;
  const pipec_pipeline *p;
  pipec_pipeline *q;
  VEC(pipec_node) nodes;
  uint32_t *tmember;           /* per template: index of its first member
                                  in q's nodes (members of one template are
                                  contiguous, in item order), or NONE */
  uint32_t *tcount;
  uint32_t *map;               /* old node index -> new index */
  char *err;
  size_t errlen;
} builder;

/* The keys of template t's members, as a [string] value. */
static bool keys_value(builder *b, uint32_t t, pipec_value *out) {
  uint32_t f = fanout_of(b->p, t);
  const pipec_node *tn = &b->p->templates[t];
  uint32_t n = b->s->count[f];
  pipec_value *items = arena_alloc(b->s->a, (n + 1) * sizeof *items);
  for (uint32_t i = 0; i < n; i++) {
    const char *k = member_key(b->s->a, tn->key, b->s->all[b->s->first[f] + i].key);
    items[i] = (pipec_value){.type = PIPEC_T_STRING, .u.s = k};
  }
  *out = (pipec_value){.type = PIPEC_T_LIST,
                       .u.list = {items, n, PIPEC_T_STRING}};
  return true;
}

/* Fill in the deferred params of node n (a copy in b's arena): item is
 * the member's item (NULL for a node outside a loop). */
static bool resolve_params(builder *b, pipec_node *n, const exp_item *item,
                           const char *var) {
  if (!n->n_deferred)
    return true;
  pipec_param *ps = arena_alloc(b->s->a, (n->n_params + 1) * sizeof *ps);
  memcpy(ps, n->params, n->n_params * sizeof *ps);
  bool *started = arena_alloc(b->s->a, n->n_params + 1);
  const pipec_component *c = &b->p->components[n->component];
  for (uint32_t d = 0; d < n->n_deferred; d++) {
    const pipec_deferred *df = &n->deferred[d];
    pipec_param *pm = &ps[df->param];
    if (df->kind == PIPEC_DEFER_KEYS) {
      pipec_value v;
      keys_value(b, df->ref, &v);
      if (started[df->param]) { /* several keys() into one list */
        uint32_t n0 = pm->value.u.list.n, n1 = v.u.list.n;
        pipec_value *all = arena_alloc(b->s->a, (n0 + n1 + 1) * sizeof *all);
        memcpy(all, pm->value.u.list.items, n0 * sizeof *all);
        memcpy(all + n0, v.u.list.items, n1 * sizeof *all);
        v.u.list.items = all;
        v.u.list.n = n0 + n1;
      }
      pm->value = v;
      started[df->param] = true;
      continue;
    }
    if (!item) {
      snprintf(b->err, b->errlen, "node '%s': a run-time value outside its "
                                  "loop", n->name);
      return false;
    }
    bool command = strcmp(pm->name, "command") == 0 ||
                   (c->kind == PIPEC_COMP_COMMAND && false);
    if (command && !plain_word(item->key)) {
      snprintf(b->err, b->errlen,
               "node '%s': the item '%s' is pasted into the command with "
               "${%s}, but it is not a plain word (letters, digits, "
               "_.-+,:@%%=): give it to the command as a param or an input "
               "instead, so it is quoted",
               n->name, item->key, var);
      return false;
    }
    const char *text = subst(b->s->a, df->text, var, item->key);
    pipec_type t = pm->value.type;
    if (t == PIPEC_T_STRING || t == PIPEC_T_PATH) {
      pm->value = (pipec_value){.type = t, .u.s = text};
    } else {
      char e[256];
      pipec_value v;
      if (literal_parse(b->s->a, text, t, false, &v, e, sizeof e) != 0) {
        snprintf(b->err, b->errlen, "node '%s': param '%s' from the item "
                                    "'%s': %s", n->name, pm->name, item->key,
                 e);
        return false;
      }
      pm->value = v;
    }
  }
  n->params = ps;
  n->n_deferred = 0;
  n->deferred = NULL;
  return true;
}

/* The inputs of node n, as the new pipeline has them: NODE edges to their
 * producer's new index (b->map: every producer is placed before its
 * readers); GATHER inputs of known loops one NODE input per member;
 * TEMPLATE inputs the same item's member; ITEM inputs waiting for the
 * loop's producer, `ref` the item (index into s->all). item and fanout
 * are the member's (PIPEC_NONE outside a loop). */
static void resolve_inputs(builder *b, pipec_node *n, uint32_t item,
                           uint32_t fanout) {
  uint32_t cap = n->n_inputs;
  for (uint32_t i = 0; i < n->n_inputs; i++)
    if (n->inputs[i].kind == PIPEC_IN_GATHER &&
        b->tmember[n->inputs[i].ref] != PIPEC_NONE)
      cap += b->tcount[n->inputs[i].ref];
  pipec_input *in = arena_alloc(b->s->a, (cap + 1) * sizeof *in);
  uint32_t k = 0, index = 0;
  const char *port = NULL;
  for (uint32_t i = 0; i < n->n_inputs; i++) {
    const pipec_input *x = &n->inputs[i];
    if (!port || strcmp(port, x->port) != 0) {
      port = x->port;
      index = 0;
    }
    in[k] = *x;
    switch (x->kind) {
    case PIPEC_IN_GATHER:
      if (b->tmember[x->ref] == PIPEC_NONE)
        break; /* not expanded yet: the node waits (exp_blocked) */
      for (uint32_t m = 0; m < b->tcount[x->ref]; m++, k++) {
        in[k] = *x;
        in[k].kind = PIPEC_IN_NODE;
        in[k].producer = b->tmember[x->ref] + m;
        in[k].index = index++;
      }
      continue;
    case PIPEC_IN_TEMPLATE:
      in[k].kind = PIPEC_IN_NODE;
      in[k].producer = b->tmember[x->ref] + (item - b->s->first[fanout]);
      break;
    case PIPEC_IN_ITEM:
      in[k].producer = b->map[b->p->fanouts[fanout].producer];
      in[k].producer_port = b->p->fanouts[fanout].port;
      in[k].ref = item;
      break;
    case PIPEC_IN_NODE:
      in[k].producer = b->map[x->producer];
      break;
    case PIPEC_IN_SOURCE:
      break;
    }
    in[k].index = index++;
    k++;
  }
  n->inputs = in;
  n->n_inputs = k;
}

/* Make the members of fanout f (its items known) at the end of b->nodes. */
static bool make_members(builder *b, uint32_t f) {
  const pipec_fanout *fo = &b->p->fanouts[f];
  for (uint32_t t = fo->first_template;
       t < fo->first_template + fo->n_templates; t++) {
    const pipec_node *tn = &b->p->templates[t];
    b->tmember[t] = b->nodes.n;
    b->tcount[t] = b->s->count[f];
    const pipec_family *fam = &b->p->families[tn->family];
    for (uint32_t i = 0; i < b->s->count[f]; i++) {
      uint32_t item = b->s->first[f] + i;
      pipec_node n = *tn;
      n.key = member_key(b->s->a, tn->key, b->s->all[item].key);
      n.name = arena_printf(b->s->a, "%s[%s]", fam->name, n.key);
      resolve_inputs(b, &n, item, f);
      if (!resolve_params(b, &n, &b->s->all[item], fo->var))
        return false;
      VEC_PUSH(b->s->a, b->nodes, n);
    }
  }
  return true;
}

bool exp_blocked(const pipec_node *n) {
  for (uint32_t i = 0; i < n->n_inputs; i++)
    if (n->inputs[i].kind == PIPEC_IN_GATHER)
      return true;
  for (uint32_t d = 0; d < n->n_deferred; d++)
    if (n->deferred[d].kind == PIPEC_DEFER_KEYS)
      return true;
  return false;
}

/* The first node of p that gathers (or takes keys of) a template of
 * fanout f, or p->n_nodes. */
static uint32_t first_reader(const pipec_pipeline *p, uint32_t f) {
  const pipec_fanout *fo = &p->fanouts[f];
  for (uint32_t i = 0; i < p->n_nodes; i++) {
    const pipec_node *n = &p->nodes[i];
    for (uint32_t k = 0; k < n->n_inputs; k++)
      if (n->inputs[k].kind == PIPEC_IN_GATHER &&
          n->inputs[k].ref >= fo->first_template &&
          n->inputs[k].ref < fo->first_template + fo->n_templates)
        return i;
    for (uint32_t d = 0; d < n->n_deferred; d++)
      if (n->deferred[d].kind == PIPEC_DEFER_KEYS &&
          n->deferred[d].ref >= fo->first_template &&
          n->deferred[d].ref < fo->first_template + fo->n_templates)
        return i;
  }
  return p->n_nodes;
}

pipec_pipeline *exp_apply(exp_set *s, const pipec_pipeline *p, char *err,
                          size_t errlen) {
  builder b = {.s = s, .p = p, .err = err, .errlen = errlen};
  b.tmember = arena_alloc(s->a, (p->n_templates + 1) * sizeof *b.tmember);
  b.tcount = arena_alloc(s->a, (p->n_templates + 1) * sizeof *b.tcount);
  for (uint32_t t = 0; t < p->n_templates; t++)
    b.tmember[t] = PIPEC_NONE;
  uint32_t *at = arena_alloc(s->a, (p->n_fanouts + 1) * sizeof *at);
  for (uint32_t f = 0; f < p->n_fanouts; f++)
    at[f] = s->known[f] ? first_reader(p, f) : PIPEC_NONE;
  uint32_t *map = arena_alloc(s->a, (p->n_nodes + 1) * sizeof *map);
  b.map = map;
  for (uint32_t i = 0; i <= p->n_nodes; i++) {
    for (uint32_t f = 0; f < p->n_fanouts; f++)
      if (at[f] == i && !make_members(&b, f))
        return NULL;
    if (i == p->n_nodes)
      break;
    pipec_node n = p->nodes[i];
    resolve_inputs(&b, &n, PIPEC_NONE, PIPEC_NONE);
    bool keys_known = true; /* keys() of loops expanded: filled in */
    for (uint32_t d = 0; d < n.n_deferred; d++)
      keys_known &= n.deferred[d].kind == PIPEC_DEFER_KEYS &&
                    b.tmember[n.deferred[d].ref] != PIPEC_NONE;
    if (keys_known && !resolve_params(&b, &n, NULL, NULL))
      return NULL;
    map[i] = b.nodes.n;
    VEC_PUSH(s->a, b.nodes, n);
  }
  pipec_pipeline *q = arena_alloc(s->a, sizeof *q);
  *q = *p;
  memset(q->load_id, 0, sizeof q->load_id); /* (not what was compiled) */
  q->nodes = b.nodes.items;
  q->n_nodes = b.nodes.n;
  q->name_index = NULL;
  q->name_index_cap = 0;
  /* families: members of the expanded loops */
  q->families = arena_alloc(s->a, (p->n_families + 1) * sizeof *q->families);
  memcpy(q->families, p->families, p->n_families * sizeof *q->families);
  for (uint32_t fi = 0; fi < p->n_families; fi++) {
    pipec_family *fam = &q->families[fi];
    if (!fam->runtime)
      continue;
    uint32_t n = 0;
    for (uint32_t t = 0; t < fam->n_templates; t++)
      if (b.tmember[fam->templates[t]] != PIPEC_NONE)
        n += b.tcount[fam->templates[t]];
    if (!n)
      continue;
    uint32_t *members = arena_alloc(s->a, (n + 1) * sizeof *members);
    const char **keys = arena_alloc(s->a, (n + 1) * sizeof *keys);
    uint32_t k = 0;
    for (uint32_t t = 0; t < fam->n_templates; t++) {
      uint32_t ti = fam->templates[t];
      for (uint32_t m = 0; b.tmember[ti] != PIPEC_NONE && m < b.tcount[ti];
           m++) {
        members[k] = b.tmember[ti] + m;
        keys[k] = q->nodes[members[k]].key;
        k++;
      }
    }
    fam->members = members;
    fam->keys = keys;
    fam->n_members = n;
    fam->parts = NULL;
  }
  for (uint32_t fi = 0; fi < p->n_families; fi++) {
    pipec_family *fam = &q->families[fi];
    if (fam->runtime)
      continue;
    uint32_t *members = arena_alloc(s->a, (fam->n_members + 1) *
                                              sizeof *members);
    for (uint32_t k = 0; k < fam->n_members; k++)
      members[k] = map[fam->members[k]];
    fam->members = members;
  }
  /* publishes: old ones renumbered, templates' ones per member */
  uint32_t n_pub = 0;
  for (uint32_t i = 0; i < p->n_publishes; i++) {
    const pipec_publish *pb = &p->publishes[i];
    n_pub += pb->fanout == PIPEC_NONE       ? 1
             : b.tmember[pb->node] != PIPEC_NONE ? b.tcount[pb->node]
                                                 : 0;
  }
  pipec_publish *pubs = arena_alloc(s->a, (n_pub + 1) * sizeof *pubs);
  uint32_t np = 0;
  for (uint32_t i = 0; i < p->n_publishes; i++) {
    const pipec_publish *pb = &p->publishes[i];
    if (pb->fanout == PIPEC_NONE) {
      pubs[np] = *pb;
      pubs[np++].node = map[pb->node];
      continue;
    }
    if (b.tmember[pb->node] == PIPEC_NONE)
      continue;
    const char *var = p->fanouts[pb->fanout].var;
    for (uint32_t m = 0; m < b.tcount[pb->node]; m++) {
      uint32_t item = s->first[pb->fanout] + m;
      pubs[np] = *pb;
      pubs[np].node = b.tmember[pb->node] + m;
      pubs[np].fanout = PIPEC_NONE;
      pubs[np].path = subst(s->a, pb->path, var, s->all[item].key);
      np++;
    }
  }
  q->publishes = pubs;
  q->n_publishes = np;
  /* the index lives as long as the set: free()d by exp_free */
  if (s->n_indexes == s->cap_indexes) {
    s->cap_indexes = s->cap_indexes ? 2 * s->cap_indexes : 4;
    s->indexes = xrealloc(s->indexes, s->cap_indexes * sizeof *s->indexes);
  }
  s->indexes[s->n_indexes++] = pipec_pipeline_index(q);
  return q;
}

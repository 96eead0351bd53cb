/*
 * sema_input.c — what an input port is wired to (sema_int.h): another
 * node's output, a family member, a gather of a family (`aligned[*].bam`,
 * in SOURCE order), a list of those (`[a.out, b.out]`), a source file of
 * the project (`file("p")`, `dir("p")`, a path param, a [path] list
 * param, a loop variable over [path]), or, inside a run-time loop, the
 * loop's item (a dir entry) and the other templates of its body.
 *
 * Each thing wired becomes one pipec_input entry with its index in the
 * port; a list port takes any number (none for an empty gather), a plain
 * port exactly one. Mistakes say which side is the list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

/* File-like port types: what a source file or a dir entry can feed. */
static bool file_like(pipec_port_type t) { return t != PIPEC_PORT_DIR; }

static const char *port_text(const sema_port *w) {
  return pipec_port_type_text(w->type, w->list);
}

/* The entry's type fits the port (a variadic port takes the first entry's
 * type, and every later one must match it). */
/* `from` is printed "%s%s%s" with from_a, from_b (so nothing is made for
 * the common case, a fit). */
static bool fits3(sema *S, sema_port *w, pipec_port_type have, ast_loc at,
                  const char *what, const char *from_a, const char *from_b,
                  const char *from_c) {
  /* a port's entries are pushed one after the other */
  bool first = S->tmp_inputs.n == 0 ||
               S->tmp_inputs.items[S->tmp_inputs.n - 1].port != w->name;
  if (!w->declared && first) {
    w->type = have;
    return true;
  }
  if (have == w->type)
    return true;
  if (w->types_ok) {
    if (w->declared)
      sema_error(S, "type-mismatch", at,
                 "input '%s' of '%s' is a %s, but %s%s%s is a %s", w->name,
                 w->comp, port_text(w), from_a, from_b, from_c,
                 pipec_port_type_name(have));
    else
      sema_error(S, "type-mismatch", at,
                 "%s holds %ss, but %s%s%s is a %s: the items of a list are "
                 "of one type",
                 what, pipec_port_type_name(w->type), from_a, from_b, from_c,
                 pipec_port_type_name(have));
  }
  return false;
}

static bool fits(sema *S, sema_port *w, pipec_port_type have, ast_loc at,
                 const char *what, const char *from) {
  return fits3(S, w, have, at, what, from, "", "");
}

static void push(sema *S, sema_port *w, pipec_input_kind kind,
                 pipec_port_type type, uint32_t producer, const char *pport,
                 const char *source, uint32_t ref) {
  uint32_t index = 0;
  if (S->tmp_inputs.n &&
      S->tmp_inputs.items[S->tmp_inputs.n - 1].port == w->name)
    index = S->tmp_inputs.items[S->tmp_inputs.n - 1].index + 1;
  pipec_input e = {.port = w->name, .type = type, .producer = producer,
                   .producer_port = pport, .index = index, .kind = kind};
  if (kind == PIPEC_IN_SOURCE)
    e.source = source;
  else
    e.ref = ref;
  if (S->tmp_inputs.n == S->tmp_inputs.cap) {
    uint32_t ncap = S->tmp_inputs.cap ? S->tmp_inputs.cap * 2 : 16;
    void *b = realloc(S->tmp_inputs.items, (size_t)ncap * sizeof e);
    if (!b)
      arena_oom((size_t)ncap * sizeof e);
    S->tmp_inputs.items = b;
    S->tmp_inputs.cap = ncap;
  }
  S->tmp_inputs.items[S->tmp_inputs.n++] = e;
}

/* The output port `member` (NULL: the only one) of a node of component
 * comp, named `who` in messages. -1 after reporting. */
static int out_port(sema *S, uint32_t comp, const char *member,
                    const char *who, ast_loc at) {
  scomp *sc = &S->comps.items[comp];
  const pipec_component *c = &sc->ir;
  if (!member) {
    if (c->n_outputs == 1)
      return 0;
    pipec_diag *g = sema_error(S, "unknown-port", at,
                               "%s has %u outputs; say which one", who,
                               c->n_outputs);
    if (c->n_outputs)
      pipec_diag_hint(g, "for example %s.%s", who, c->outputs[0].name);
    return -1;
  }
  int k = sema_comp_find(S, sc, FIND_OUTPUT, member);
  if (k >= 0)
    return k;
  char list[256] = "";
  size_t w = 0;
  const char **names = arena_alloc(S->a, (c->n_outputs + 1) * sizeof *names);
  for (uint32_t i = 0; i < c->n_outputs; i++) {
    names[i] = c->outputs[i].name;
    if (w < sizeof list)
      w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", i ? ", " : "",
                            names[i]);
  }
  if (w >= sizeof list)
    memcpy(list + sizeof list - 4, "...", 4);
  pipec_diag *g = sema_error(S, "unknown-port", at, "%s (%s) has no output "
                             "'%s'", who, c->name, member);
  sema_suggest(g, member, names, c->n_outputs);
  if (!g->hint)
    pipec_diag_hint(g, "its outputs are: %s", c->n_outputs ? list : "(none)");
  return -1;
}

/* A source file or directory for port w. */
static bool wire_source(sema *S, sema_port *w, const char *path, bool dir,
                        ast_loc at, const char *what, const char *how) {
  if (w->declared && dir != (w->type == PIPEC_PORT_DIR)) {
    pipec_diag *g = sema_error(S, "type-mismatch", at, "%s is a %s, but %s "
                               "is a %s",
                               what, port_text(w), how,
                               dir ? "directory" : "file");
    if (dir)
      pipec_diag_hint(g, "a directory feeds a dir port; a file: "
                         "file(\"...\")");
    else
      pipec_diag_hint(g, "a dir port takes a directory: dir(\"%s\")", path);
    return false;
  }
  const char *src = sema_source(S, path, dir, at, what);
  if (!src)
    return false;
  pipec_port_type t = dir ? PIPEC_PORT_DIR
                          : w->declared && file_like(w->type) ? w->type
                                                              : PIPEC_PORT_FILE;
  if (!fits(S, w, t, at, what, how))
    return false;
  push(S, w, PIPEC_IN_SOURCE, t, PIPEC_NONE, NULL, src, PIPEC_NONE);
  return true;
}

static bool wire_call(sema *S, sema_port *w, const ast_value *v,
                      const char *what) {
  const char *fn = v->u.call.fn;
  bool is_file = strcmp(fn, "file") == 0, is_dir = strcmp(fn, "dir") == 0;
  if (!is_file && !is_dir) {
    pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                               "%s takes node outputs or source files, not "
                               "%s(...)",
                               what, fn);
    if (strcmp(fn, "glob") == 0 || strcmp(fn, "range") == 0 ||
        strcmp(fn, "lines") == 0)
      pipec_diag_hint(g, "%s(...) is the SOURCE of a loop: for x in "
                         "%s(...) { ... }",
                      fn, fn);
    else
      pipec_diag_hint(g, "file(\"path\") and dir(\"path\") are source "
                         "files; NODE.PORT is an output");
    return false;
  }
  if (v->u.call.n != 1 || v->u.call.args[0]->kind != AST_STRING) {
    pipec_diag *g = sema_error(S, "bad-call", v->loc,
                               "%s() takes one path, as a string", fn);
    pipec_diag_hint(g, "%s(\"data/%s\")", fn, is_dir ? "ref" : "x.csv");
    return false;
  }
  const ast_value *arg = v->u.call.args[0];
  /* a run-time item cannot name a source file: those are hashed and
   * stored when the pipeline compiles */
  for (const char *q = strstr(arg->u.s.text, "${"); q;
       q = strstr(q + 2, "${")) {
    const char *end = strchr(q, '}');
    if (!end || (q > arg->u.s.text && q[-1] == '$'))
      continue;
    const senv *e = sema_env_find(
        S->env, arena_intern(S->a, q + 2, (size_t)(end - q - 2)));
    if (e && e->bind->fanout != PIPEC_NONE) {
      pipec_diag *g = sema_error(S, "runtime-item", arg->loc,
                                 "%s: %s() names a source file, known when "
                                 "the pipeline compiles; '%s' is known only "
                                 "at run time",
                                 what, fn, e->bind->var);
      if (S->fanouts.items[e->bind->fanout].kind == PIPEC_FANOUT_DIR)
        pipec_diag_hint(g, "the entry is a file itself: %s = %s", w->name,
                        e->bind->var);
      else
        pipec_diag_hint(g, "loop over the files with glob(\"...\") "
                           "instead");
      return false;
    }
  }
  bool was = S->defer_ok;
  S->defer_ok = false; /* a source file is known when the pipeline compiles */
  const char *path = sema_string(S, arg, false);
  S->defer_ok = was;
  if (!path)
    return false;
  const char *how = arena_printf(S->a, "%s(\"%s\")", fn, path);
  return wire_source(S, w, path, is_dir, v->loc, what, how);
}

/* A family member or a gather: NAME[k].port, NAME[*].port ... */
static bool wire_member(sema *S, sema_port *w, const ast_value *v,
                        const char *what, bool in_list) {
  sema_u32s ms = {0};
  bool gather = false, runtime = false;
  bool ok = sema_members(S, v, what, &ms, &gather, &runtime);
  if (ok && gather && !w->list && (w->declared || in_list)) {
    pipec_diag *g = sema_error(S, "list-mismatch", v->loc,
                               "%s takes one %s, but the value gathers a "
                               "list (%u member%s)",
                               what, port_text(w), ms.n, ms.n == 1 ? "" : "s");
    pipec_diag_hint(g, "declare the input as a list ([%s]), or name one "
                       "member: %s[KEY]",
                    pipec_port_type_name(w->type), v->u.fam->name);
    ok = false;
  }
  if (ok && !gather && w->list && !in_list) {
    pipec_diag *g = sema_error(S, "list-mismatch", v->loc,
                               "%s takes a list (%s), but the value is one "
                               "output",
                               what, port_text(w));
    pipec_diag_hint(g, "gather with [*] (%s[*]), or write [...] for a list "
                       "of one",
                    v->u.fam->name);
    ok = false;
  }
  if (!ok) {
    free(ms.items);
    return false;
  }
  if (!w->declared && gather)
    w->list = true;
  /* every member uses the family's component: its port, once */
  uint32_t f = sema_fam_index(S, v->u.fam->name);
  const sfam *fam = &S->fams.items[f];
  uint32_t comp = sema_comp_index(S, fam->decl->component);
  if (comp == PIPEC_NONE) {
    free(ms.items);
    return false; /* reported where the family is declared */
  }
  char who[256];
  snprintf(who, sizeof who, "family '%s'", fam->name);
  int port = out_port(S, comp, v->u.fam->member, who,
                      v->u.fam->member ? v->u.fam->member_loc : v->loc);
  if (port < 0) {
    free(ms.items);
    return false;
  }
  const pipec_port_decl *pd = &S->comps.items[comp].ir.outputs[port];
  ok = fits3(S, w, pd->type, v->loc, what, fam->name, ".", pd->name);
  for (uint32_t i = 0; ok && i < ms.n; i++) {
    snode *m = &S->nodes[ms.items[i]];
    if (m->out_used)
      m->out_used[port] = true;
    if (!runtime)
      push(S, w, PIPEC_IN_NODE, pd->type, ms.items[i], pd->name, NULL,
           PIPEC_NONE);
    else
      push(S, w, gather ? PIPEC_IN_GATHER : PIPEC_IN_TEMPLATE, pd->type,
           PIPEC_NONE, pd->name, NULL, ms.items[i]);
  }
  free(ms.items);
  return ok;
}

/* A name: a loop variable, a param, a family, a node. */
static bool wire_ref(sema *S, sema_port *w, const ast_value *v,
                     const char *what, bool in_list) {
  const char *name = v->u.ref.name;
  const senv *e = sema_env_find(S->env, name);
  if (e && v->u.ref.member) {
    pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                               "'%s' is a loop variable; it has no '.%s'",
                               name, v->u.ref.member);
    pipec_diag_hint(g, "a family member is NAME[%s].%s", name,
                    v->u.ref.member);
    return false;
  }
  if (e) {
    if (e->bind->fanout != PIPEC_NONE) {
      const sfanout *fo = &S->fanouts.items[e->bind->fanout];
      if (fo->kind != PIPEC_FANOUT_DIR) {
        pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                                   "%s takes a file, but '%s' is %s (%s of "
                                   "the loop's SOURCE)",
                                   what, name,
                                   fo->kind == PIPEC_FANOUT_JSON
                                       ? "a json value"
                                       : "a string",
                                   fo->kind == PIPEC_FANOUT_JSON ? "an item"
                                                                 : "a line");
        pipec_diag_hint(g, "give it to a param instead: sample = %s", name);
        return false;
      }
      if (w->declared && !file_like(w->type)) {
        sema_error(S, "type-mismatch", v->loc,
                   "%s is a dir, but '%s' is a file (an entry of a dir "
                   "output)",
                   what, name);
        return false;
      }
      if (w->list && !in_list) {
        pipec_diag *g = sema_error(S, "list-mismatch", v->loc,
                                   "%s takes a list (%s), but '%s' is one "
                                   "file",
                                   what, port_text(w), name);
        pipec_diag_hint(g, "write [%s] for a list of one", name);
        return false;
      }
      pipec_port_type t = w->declared ? w->type : PIPEC_PORT_FILE;
      if (!fits(S, w, t, v->loc, what, arena_printf(S->a, "'%s'", name)))
        return false;
      push(S, w, PIPEC_IN_ITEM, t, PIPEC_NONE, NULL, NULL, PIPEC_NONE);
      return true;
    }
    if (e->value.type == PIPEC_T_PATH) {
      if (w->list && !in_list) {
        pipec_diag *g = sema_error(S, "list-mismatch", v->loc,
                                   "%s takes a list (%s), but '%s' is one "
                                   "path",
                                   what, port_text(w), name);
        pipec_diag_hint(g, "write [%s] for a list of one", name);
        return false;
      }
      return wire_source(S, w, e->value.u.s,
                         w->declared && w->type == PIPEC_PORT_DIR, v->loc,
                         what, arena_printf(S->a, "'%s' (\"%s\")", name,
                                            e->value.u.s));
    }
    pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                               "%s takes a node output or a source file, but "
                               "'%s' is a loop variable (a %s)",
                               what, name, pipec_type_name(e->value.type));
    pipec_diag_hint(g, "to read the file it names, write file(\"...${%s}"
                       "...\")",
                    name);
    return false;
  }
  uint32_t p = e || v->u.ref.member ? PIPEC_NONE : sema_param_index(S, name);
  if (p != PIPEC_NONE && sema_node_index(S, name) == PIPEC_NONE) {
    const sparam *sp = &S->params[p];
    bool path = sp->type == PIPEC_T_PATH;
    bool paths = sp->type == PIPEC_T_LIST && sp->elem == PIPEC_T_PATH;
    if (path || paths) {
      sp = &S->params[p];
      S->params[p].used = true;
      if (!sp->ok)
        return false; /* reported with the param */
      bool dir = w->declared && w->type == PIPEC_PORT_DIR;
      if (path) {
        if (w->list && !in_list) {
          pipec_diag *g = sema_error(S, "list-mismatch", v->loc,
                                     "%s takes a list (%s), but param '%s' "
                                     "is one path",
                                     what, port_text(w), name);
          pipec_diag_hint(g, "write [%s] for a list of one, or declare the "
                             "param as [path]",
                          name);
          return false;
        }
        return wire_source(S, w, sp->value.u.s, dir, v->loc, what,
                           arena_printf(S->a, "param '%s' (\"%s\")", name,
                                        sp->value.u.s));
      }
      if (!w->list || in_list) {
        pipec_diag *g = sema_error(S, "list-mismatch", v->loc,
                                   "%s takes one %s, but param '%s' is a "
                                   "list of %u paths",
                                   what, port_text(w), name,
                                   sp->value.u.list.n);
        pipec_diag_hint(g, "declare the input as a list ([%s]), or loop: "
                           "for f in %s { ... }",
                        pipec_port_type_name(w->type), name);
        return false;
      }
      if (!w->declared)
        w->list = true;
      bool ok = true;
      for (uint32_t i = 0; i < sp->value.u.list.n; i++)
        ok &= wire_source(S, w, sp->value.u.list.items[i].u.s, dir, v->loc,
                          what,
                          arena_printf(S->a, "item %u of param '%s'", i + 1,
                                       name));
      return ok;
    }
  }
  if (!v->u.ref.member && sema_fam_index(S, name) != PIPEC_NONE &&
      sema_node_index(S, name) == PIPEC_NONE) {
    const sfam *f = &S->fams.items[sema_fam_index(S, name)];
    pipec_diag *g = sema_error(S, "family-ref", v->loc,
                               "'%s' is a family of %u node%s; say which "
                               "member, or gather them",
                               name, f->members.n,
                               f->members.n == 1 ? "" : "s");
    pipec_diag_hint(g, "%s[KEY].PORT is one member, %s[*].PORT all of them",
                    name, name);
    return false;
  }
  if (v->u.ref.member && sema_fam_index(S, name) != PIPEC_NONE &&
      sema_node_index(S, name) == PIPEC_NONE) {
    pipec_diag *g = sema_error(S, "family-ref", v->loc,
                               "'%s' is a family; say which member's '%s'",
                               name, v->u.ref.member);
    pipec_diag_hint(g, "%s[KEY].%s is one member, %s[*].%s all of them",
                    name, v->u.ref.member, name, v->u.ref.member);
    return false;
  }
  uint32_t prod;
  int port;
  if (!sema_resolve_output(S, v, what, &prod, &port))
    return false;
  if (w->list && !in_list) {
    pipec_diag *g = sema_error(S, "list-mismatch", v->loc,
                               "%s takes a list (%s), but the value is one "
                               "output",
                               what, port_text(w));
    pipec_diag_hint(g, "write [%s] for a list of one",
                    arena_strndup(S->a, S->u->texts[v->loc.file] + v->loc.off,
                                  v->loc.len));
    return false;
  }
  snode *pn = &S->nodes[prod];
  const pipec_component *pc = &S->comps.items[pn->comp].ir;
  pn->out_used[port] = true;
  w->types_ok = w->types_ok && S->comps.items[pn->comp].ok;
  if (!fits3(S, w, pc->outputs[port].type, v->loc, what, pn->name, ".",
             pc->outputs[port].name))
    return false;
  push(S, w, PIPEC_IN_NODE, pc->outputs[port].type, prod,
       pc->outputs[port].name, NULL, PIPEC_NONE);
  return true;
}

static bool wire_one(sema *S, sema_port *w, const ast_value *v,
                     const char *what, bool in_list) {
  switch (v->kind) {
  case AST_REF: return wire_ref(S, w, v, what, in_list);
  case AST_MEMBER: return wire_member(S, w, v, what, in_list);
  case AST_CALL: return wire_call(S, w, v, what);
  case AST_LIST:
    if (in_list) {
      sema_error(S, "type-mismatch", v->loc,
                 "%s takes a list of outputs, not a list of lists", what);
      return false;
    } else if (!w->list && w->declared) {
      pipec_diag *g = sema_error(S, "list-mismatch", v->loc,
                                 "%s takes one %s, but the value is a list",
                                 what, port_text(w));
      pipec_diag_hint(g, "declare the input as a list: %s: [%s]", w->name,
                      pipec_port_type_name(w->type));
      return false;
    } else {
      w->list = true;
      bool ok = true;
      for (uint32_t i = 0; i < v->u.list.n; i++)
        ok &= wire_one(S, w, v->u.list.items[i], what, true);
      return ok;
    }
  default: {
    pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                               "%s takes a node output, not a literal", what);
    if (v->kind == AST_STRING)
      pipec_diag_hint(g, "a file of the project is read with file(\"%s\")",
                      v->u.s.text);
    else
      pipec_diag_hint(g, "connect it to another node's output: NODE.PORT");
    return false;
  }
  }
}

bool sema_wire_input(sema *S, snode *n, sema_port *w, const ast_kv *kv) {
  char what[512]; /* not sema_what: what it calls reuses that buffer */
  snprintf(what, sizeof what, "input '%s' of node '%s'", kv->key,
           n->ast->name);
  return wire_one(S, w, kv->value, what, false);
}

bool sema_is_input_value(sema *S, const ast_value *v) {
  switch (v->kind) {
  case AST_MEMBER: return true;
  case AST_CALL:
    return strcmp(v->u.call.fn, "file") == 0 ||
           strcmp(v->u.call.fn, "dir") == 0;
  case AST_REF: {
    if (v->u.ref.member)
      return sema_env_find(S->env, v->u.ref.name) == NULL &&
             sema_param_index(S, v->u.ref.name) == PIPEC_NONE;
    const senv *e = sema_env_find(S->env, v->u.ref.name);
    if (e)
      return e->bind->fanout != PIPEC_NONE &&
             S->fanouts.items[e->bind->fanout].kind == PIPEC_FANOUT_DIR;
    return sema_node_index(S, v->u.ref.name) != PIPEC_NONE ||
           (sema_fam_index(S, v->u.ref.name) != PIPEC_NONE &&
            sema_param_index(S, v->u.ref.name) == PIPEC_NONE);
  }
  case AST_LIST:
    /* a list of outputs: its first item says */
    return v->u.list.n > 0 && sema_is_input_value(S, v->u.list.items[0]);
  default: return false;
  }
}

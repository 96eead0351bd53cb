/*
 * sema_loop.c — the statements of language v2 (sema_int.h): `for` loops
 * are expanded, `if`s decided, families made and their members found
 * (NAME[k], NAME[*], NAME[k, *], keys(NAME)), run-time loops kept as
 * templates, publishes checked.
 *
 * Expansion is linear: one pass over each loop's items, one senv frame
 * per item and binding, shared by every node below it; a member is found
 * by its interned name NAME[KEY] in the node map, a partial gather
 * through an index of the family built once per pattern of '*'s.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "editdist.h"
#include "literal.h"
#include "path.h"
#include "sema_int.h"

const senv *sema_env_find(const senv *env, const char *name) {
  for (; env; env = env->up)
    if (env->bind->var == name)
      return env;
  return NULL;
}

/* The interned name NAME[p0,p1,...] of a family member, built in a
 * reused buffer: a million lookups leave nothing in the arena. */
static const char *member_name(sema *S, const char *fam,
                               const char *const *parts, uint32_t n) {
  size_t len = strlen(fam) + 3;
  for (uint32_t i = 0; i < n; i++)
    len += strlen(parts[i]) + 1;
  if (len > S->name_cap) {
    char *b = realloc(S->name_buf, len * 2);
    if (!b)
      arena_oom(len * 2);
    S->name_buf = b;
    S->name_cap = len * 2;
  }
  char *w = S->name_buf;
  size_t fl = strlen(fam);
  memcpy(w, fam, fl);
  w += fl;
  *w++ = '[';
  for (uint32_t i = 0; i < n; i++) {
    if (i)
      *w++ = ',';
    size_t pl = strlen(parts[i]);
    memcpy(w, parts[i], pl);
    w += pl;
  }
  *w++ = ']';
  return arena_intern(S->a, S->name_buf, (size_t)(w - S->name_buf));
}

/* The variables bound in env, outermost first, joined by ", ". */
static const char *env_vars(sema *S, const senv *env) {
  const char *out = "";
  for (; env; env = env->up)
    out = *out ? arena_printf(S->a, "%s, %s", env->bind->var, out)
               : env->bind->var;
  return out;
}

/* ---- loop sources ------------------------------------------------------ */

static uint32_t max_nodes(const sema *S) {
  return S->opts->max_nodes ? S->opts->max_nodes : SEMA_MAX_NODES;
}


/* The items of a compile-time SOURCE, or *runtime for a node's output. */
static bool source_items(sema *S, const ast_binding *b, pipec_value **items,
                         uint32_t *n, bool *runtime) {
  const ast_value *v = b->source;
  const char *what = arena_printf(S->a, "the SOURCE of loop variable '%s'",
                                  b->var);
  *runtime = false;
  *items = NULL;
  *n = 0;
  switch (v->kind) {
  case AST_LIST: {
    pipec_value lv;
    if (!sema_value(S, v, PIPEC_T_LIST, false, what, &lv))
      return false;
    *items = (pipec_value *)lv.u.list.items;
    *n = lv.u.list.n;
    return true;
  }
  case AST_REF: {
    const char *name = v->u.ref.name;
    const senv *e = sema_env_find(S->env, name);
    if (e && !v->u.ref.member) {
      pipec_diag *g = sema_error(S, "not-a-list", v->loc,
                                 "loop variable '%s' is one item, not a "
                                 "list to loop over",
                                 name);
      pipec_diag_hint(g, "loop over a list param, a list [a, b], range(N) "
                         "or glob(\"...\")");
      return false;
    }
    uint32_t p = sema_param_index(S, name);
    if (p != PIPEC_NONE && !v->u.ref.member) {
      pipec_value lv;
      if (S->params[p].type != PIPEC_T_LIST) {
        pipec_diag *g = sema_error(S, "not-a-list", v->loc,
                                   "a loop runs over a list, but param '%s' "
                                   "is %s %s",
                                   name,
                                   S->params[p].type == PIPEC_T_INT ? "an"
                                                                    : "a",
                                   pipec_type_name(S->params[p].type));
        if (S->params[p].type == PIPEC_T_INT)
          pipec_diag_hint(g, "range(%s) counts 0, 1, ... %s - 1", name,
                          name);
        else
          pipec_diag_hint(g, "declare it as a list: param %s : [%s]", name,
                          pipec_type_name(S->params[p].type));
        S->params[p].used = true;
        return false;
      }
      if (!sema_value_list(S, v, PIPEC_T_LIST, S->params[p].elem, false, what,
                           &lv))
        return false;
      *items = (pipec_value *)lv.u.list.items;
      *n = lv.u.list.n;
      return true;
    }
    /* a node (or a family member) declared anywhere: known at run time */
    *runtime = true;
    return true;
  }
  case AST_MEMBER:
    *runtime = true;
    return true;
  case AST_CALL: {
    const char *fn = v->u.call.fn;
    if (strcmp(fn, "range") == 0) {
      int64_t bound[2] = {0, 0};
      uint32_t na = v->u.call.n;
      if (na < 1 || na > 2) {
        pipec_diag *g = sema_error(S, "bad-call", v->loc,
                                   "range() takes one or two ints");
        pipec_diag_hint(g, "range(N) is 0 .. N-1, range(A, B) is A .. B-1");
        return false;
      }
      bool ok = true;
      for (uint32_t i = 0; i < na; i++) {
        pipec_value iv;
        ok &= sema_value(S, v->u.call.args[i], PIPEC_T_INT, false,
                         "an argument of range()", &iv);
        bound[i] = iv.u.i;
      }
      if (!ok)
        return false;
      int64_t lo = na == 2 ? bound[0] : 0, hi = na == 2 ? bound[1] : bound[0];
      if (hi > lo && (uint64_t)(hi - lo) > (uint64_t)max_nodes(S)) {
        sema_error(S, "too-many", v->loc,
                   "range() gives %lld items; a pipeline holds at most %u "
                   "nodes",
                   (long long)(hi - lo), max_nodes(S));
        return false;
      }
      *n = hi > lo ? (uint32_t)(hi - lo) : 0;
      *items = arena_alloc(S->a, ((size_t)*n + 1) * sizeof **items);
      for (uint32_t i = 0; i < *n; i++)
        (*items)[i] = (pipec_value){.type = PIPEC_T_INT, .u.i = lo + i};
      return true;
    }
    if (strcmp(fn, "glob") == 0) {
      if (v->u.call.n != 1 || v->u.call.args[0]->kind != AST_STRING) {
        pipec_diag *g = sema_error(S, "bad-call", v->loc,
                                   "glob() takes one pattern, as a string");
        pipec_diag_hint(g, "glob(\"data/{%s}.csv\"): %s is the {%s} part",
                        b->var, b->var, b->var);
        return false;
      }
      const ast_value *pat = v->u.call.args[0];
      /* mask {var} from ${} interpolation: sema_string leaves it alone */
      const char *text = sema_string(S, pat, false);
      if (!text)
        return false;
      if (!sema_glob(S, pat->loc, text, b->var, items, n))
        return false;
      if (*n == 0)
        sema_warning(S, "empty-glob", v->loc,
                     "glob(\"%s\") matches no file: the loop over '%s' "
                     "declares nothing",
                     text, b->var);
      return true;
    }
    if (strcmp(fn, "lines") == 0) {
      if (v->u.call.n != 1 ||
          (v->u.call.args[0]->kind != AST_REF &&
           v->u.call.args[0]->kind != AST_MEMBER)) {
        pipec_diag *g = sema_error(S, "bad-call", v->loc,
                                   "lines() takes one node output");
        pipec_diag_hint(g, "lines(NODE.PORT): one item per line of the "
                           "file, when it exists");
        return false;
      }
      *runtime = true;
      return true;
    }
    break;
  }
  default:
    break;
  }
  pipec_diag *g = sema_error(S, "bad-source", v->loc,
                             "a loop cannot run over %s",
                             v->kind == AST_CALL
                                 ? arena_printf(S->a, "%s(...)",
                                                v->u.call.fn)
                             : v->kind == AST_STRING ? "a string"
                             : v->kind == AST_INT    ? "an int"
                                                     : "this value");
  pipec_diag_hint(g, "a SOURCE is a list param or [a, b], range(N), "
                     "glob(\"...{%s}...\"), a node's dir or json output, or "
                     "lines(NODE.PORT)",
                  b->var);
  return false;
}

/* ---- declaring nodes ------------------------------------------------- */

static void expand_stmts(sema *S, const ast_stmts *body, const senv *env,
                         uint32_t fanout);

static bool count_node(sema *S, ast_loc at) {
  if (S->too_many)
    return false;
  if (++S->n_expanded > max_nodes(S)) {
    S->too_many = true;
    sema_error(S, "too-many", at,
               "the pipeline expands to more than %u nodes", max_nodes(S));
    return false;
  }
  return true;
}

/* A name already taken by a param, a node or a family? Reported. */
static bool name_taken(sema *S, const char *name, ast_loc at, bool family) {
  uint32_t node = sema_node_index(S, name);
  uint32_t par = sema_param_index(S, name);
  uint32_t fam = sema_fam_index(S, name);
  if (node == PIPEC_NONE && par == PIPEC_NONE && fam == PIPEC_NONE)
    return false;
  const char *kind = node != PIPEC_NONE ? "node"
                     : par != PIPEC_NONE ? "param"
                                         : "family";
  sema_error(S, "duplicate-name", at, "'%s' is already the name of a %s",
             name, kind);
  sema_note(S,
            node != PIPEC_NONE  ? S->decl.items[node].ast->loc
            : par != PIPEC_NONE ? S->params[par].decl->loc
                                : S->fams.items[fam].decl->loc,
            "'%s' was first declared here", name);
  (void)family;
  return true;
}

static void push_node(sema *S, const ast_node *an, const senv *env,
                      const char *name, const char *key, uint32_t family,
                      uint32_t fanout) {
  snode n = {.ast = an, .comp = PIPEC_NONE, .env = env, .name = name,
             .key = key, .family = family, .fanout = fanout};
  name_map_put(S->a, &S->node_map, name, S->decl.n);
  VEC_PUSH(S->a, S->decl, n);
}

static void declare_node(sema *S, const ast_node *an, const senv *env,
                         uint32_t fanout) {
  if (!count_node(S, an->loc))
    return;
  if (!an->has_index) {
    if (env) {
      pipec_diag *g = sema_error(S, "missing-index", an->loc,
                                 "node '%s' is declared inside a loop over "
                                 "'%s', but its name does not say which "
                                 "item it is for",
                                 an->name, env_vars(S, env));
      pipec_diag_hint(g, "write node %s[%s] = ...: one node per item",
                      an->name, env_vars(S, env));
      return;
    }
    if (name_taken(S, an->name, an->loc, false))
      return;
    push_node(S, an, NULL, an->name, NULL, PIPEC_NONE, PIPEC_NONE);
    return;
  }
  /* NAME[v1, v2]: every index a variable of the loops around, each of
   * them once */
  bool ok = true;
  const senv **frames = arena_alloc(S->a, (an->n_index + 1) *
                                              sizeof *frames);
  for (uint32_t i = 0; i < an->n_index; i++) {
    const ast_value *iv = an->index[i];
    const senv *e = sema_env_find(env, iv->u.ref.name);
    if (!e) {
      pipec_diag *g = sema_error(S, "unknown-loop-variable", iv->loc,
                                 "unknown loop variable '%s'",
                                 iv->u.ref.name);
      uint32_t nv = 0;
      for (const senv *q = env; q; q = q->up)
        nv++;
      const char **names = arena_alloc(S->a, (nv + 1) * sizeof *names);
      nv = 0;
      for (const senv *q = env; q; q = q->up)
        names[nv++] = q->bind->var;
      sema_suggest(g, iv->u.ref.name, names, nv);
      if (!g->hint)
        pipec_diag_hint(g, env ? "the loops around this node bind: %s"
                               : "%sa family is declared inside a loop: "
                                 "for v in SOURCE { node NAME[v] = ... }",
                        env ? env_vars(S, env) : "");
      ok = false;
      continue;
    }
    for (uint32_t j = 0; j < i; j++)
      if (frames[j] == e) {
        sema_error(S, "duplicate-name", iv->loc,
                   "loop variable '%s' is given twice in the name",
                   iv->u.ref.name);
        ok = false;
      }
    frames[i] = e;
  }
  if (!ok)
    return;
  for (const senv *q = env; q; q = q->up) {
    bool used = false;
    for (uint32_t i = 0; i < an->n_index; i++)
      used |= frames[i] == q;
    if (!used) {
      pipec_diag *g = sema_error(S, "missing-index", an->loc,
                                 "node '%s' is declared inside a loop over "
                                 "'%s', but its name does not use it",
                                 an->name, q->bind->var);
      pipec_diag_hint(g, "write node %s[%s] = ...: one node per item",
                      an->name, env_vars(S, env));
      return;
    }
  }
  if (an->n_index > 64) {
    sema_error(S, "too-many", an->loc, "a family is indexed by at most 64 "
               "loop variables");
    return;
  }
  uint32_t f = sema_fam_index(S, an->name);
  if (f == PIPEC_NONE) {
    if (name_taken(S, an->name, an->loc, true))
      return;
    sfam fam = {.name = an->name, .decl = an, .n_vars = an->n_index,
                .runtime = fanout != PIPEC_NONE, .index = PIPEC_NONE};
    const char **vars = arena_alloc(S->a, (an->n_index + 1) * sizeof *vars);
    for (uint32_t i = 0; i < an->n_index; i++)
      vars[i] = an->index[i]->u.ref.name;
    fam.vars = vars;
    f = S->fams.n;
    name_map_put(S->a, &S->fam_map, an->name, f);
    VEC_PUSH(S->a, S->fams, fam);
    S->names_cache = NULL;
  } else if (S->fams.items[f].decl != an) {
    pipec_diag *g = sema_error(S, "duplicate-name", an->loc,
                               "family '%s' is declared twice", an->name);
    pipec_diag_hint(g, "a family comes from one node line (one component); "
                       "name the other one otherwise");
    sema_note(S, S->fams.items[f].decl->loc, "'%s' was first declared here",
              an->name);
    return;
  }
  sfam *fam = &S->fams.items[f];
  /* the key: the items' text, joined by ',' ('*' for a run-time item) */
  size_t len = 0;
  for (uint32_t i = 0; i < an->n_index; i++)
    len += strlen(frames[i]->bind->fanout != PIPEC_NONE ? "*"
                                                        : frames[i]->text) +
           1;
  char *key = arena_alloc(S->a, len + 1);
  size_t w = 0;
  for (uint32_t i = 0; i < an->n_index; i++) {
    const char *part = frames[i]->bind->fanout != PIPEC_NONE
                           ? "*"
                           : frames[i]->text;
    if (i)
      key[w++] = ',';
    size_t pl = strlen(part);
    memcpy(key + w, part, pl);
    w += pl;
    VEC_PUSH(S->a, fam->parts, part);
  }
  key[w] = 0;
  const char *name = member_name(
      S, an->name, &fam->parts.items[fam->parts.n - an->n_index],
      an->n_index);
  if (sema_node_index(S, name) != PIPEC_NONE) {
    fam->parts.n -= an->n_index;
    if (!fam->dup_reported) {
      fam->dup_reported = true;
      pipec_diag *g = sema_error(S, "duplicate-key", an->loc,
                                 "two items give family '%s' the key '%s'",
                                 an->name, key);
      pipec_diag_hint(g, "a key is the items' text: make the items of the "
                         "loop over '%s' distinct",
                      env_vars(S, env));
    }
    return;
  }
  VEC_PUSH(S->a, fam->members, S->decl.n);
  push_node(S, an, env, name, key, f, fanout);
}

/* ---- if ------------------------------------------------------------- */

/* A value of a condition: a literal, a param, a compile-time loop
 * variable. */
static bool operand(sema *S, const ast_value *v, pipec_value *out) {
  switch (v->kind) {
  case AST_INT: *out = (pipec_value){.type = PIPEC_T_INT, .u.i = v->u.i};
    return true;
  case AST_FLOAT:
    *out = (pipec_value){.type = PIPEC_T_FLOAT, .u.f = v->u.f};
    return true;
  case AST_BOOL: *out = (pipec_value){.type = PIPEC_T_BOOL, .u.b = v->u.b};
    return true;
  case AST_STRING: {
    const char *s = sema_string(S, v, false);
    *out = (pipec_value){.type = PIPEC_T_STRING, .u.s = s};
    return s != NULL;
  }
  case AST_REF: {
    const senv *e = sema_env_find(S->env, v->u.ref.name);
    if (e && e->bind->fanout != PIPEC_NONE) {
      pipec_diag *g = sema_error(S, "runtime-item", v->loc,
                                 "'%s' is known only at run time; an 'if' "
                                 "is decided when the pipeline compiles",
                                 v->u.ref.name);
      pipec_diag_hint(g, "a command can test it: shell(command = \"if ... "
                         "\", x = %s)",
                      v->u.ref.name);
      return false;
    }
    if (e) {
      *out = e->value;
      return true;
    }
    uint32_t p = sema_param_index(S, v->u.ref.name);
    if (p == PIPEC_NONE) {
      uint32_t nv = 0;
      for (const senv *q = S->env; q; q = q->up)
        nv++;
      const char **names = arena_alloc(S->a, (S->n_params + nv + 1) *
                                                 sizeof *names);
      uint32_t k = 0;
      for (const senv *q = S->env; q; q = q->up)
        names[k++] = q->bind->var;
      for (uint32_t i = 0; i < S->n_params; i++)
        names[k++] = S->params[i].decl->name;
      pipec_diag *g = sema_error(S, "unknown-name", v->loc,
                                 "unknown param '%s' in a condition",
                                 v->u.ref.name);
      sema_suggest(g, v->u.ref.name, names, k);
      if (!g->hint)
        pipec_diag_hint(g, "a condition uses params, loop variables and "
                           "literals; write \"%s\" for a string",
                        v->u.ref.name);
      return false;
    }
    pipec_value pv;
    if (!sema_value(S, v, S->params[p].type, false, "a condition", &pv))
      return false;
    *out = pv;
    return true;
  }
  default:
    sema_error(S, "bad-condition", v->loc, "a condition compares params, "
               "loop variables and literals, not %s",
               v->kind == AST_LIST ? "lists" : "this");
    return false;
  }
}

static const char *type_word(pipec_type t) {
  return t == PIPEC_T_INT ? "an int" : t == PIPEC_T_FLOAT ? "a float"
       : t == PIPEC_T_BOOL ? "a bool" : t == PIPEC_T_LIST ? "a list"
       : "a string";
}

static bool eval_cond(sema *S, const ast_value *v, bool *out) {
  if (v->kind != AST_OP) {
    pipec_value pv;
    if (!operand(S, v, &pv))
      return false;
    if (pv.type != PIPEC_T_BOOL) {
      pipec_diag *g = sema_error(S, "bad-condition", v->loc,
                                 "a condition is a bool, but this is %s",
                                 type_word(pv.type));
      pipec_diag_hint(g, "compare it: if %.*s == ... { }", (int)v->loc.len,
                      S->u->texts[v->loc.file] + v->loc.off);
      return false;
    }
    *out = pv.u.b;
    return true;
  }
  bool l = false, r = false;
  switch (v->u.op.op) {
  case AST_OP_NOT:
    if (!eval_cond(S, v->u.op.l, &l))
      return false;
    *out = !l;
    return true;
  case AST_OP_AND:
  case AST_OP_OR: {
    bool okl = eval_cond(S, v->u.op.l, &l), okr = eval_cond(S, v->u.op.r, &r);
    if (!okl || !okr)
      return false;
    *out = v->u.op.op == AST_OP_AND ? l && r : l || r;
    return true;
  }
  default:
    break;
  }
  pipec_value a, b;
  bool oka = operand(S, v->u.op.l, &a), okb = operand(S, v->u.op.r, &b);
  if (!oka || !okb)
    return false;
  bool num_a = a.type == PIPEC_T_INT || a.type == PIPEC_T_FLOAT;
  bool num_b = b.type == PIPEC_T_INT || b.type == PIPEC_T_FLOAT;
  bool str_a = a.type == PIPEC_T_STRING || a.type == PIPEC_T_PATH;
  bool str_b = b.type == PIPEC_T_STRING || b.type == PIPEC_T_PATH;
  int c;
  if (num_a && num_b) {
    if (a.type == PIPEC_T_INT && b.type == PIPEC_T_INT)
      c = a.u.i < b.u.i ? -1 : a.u.i > b.u.i;
    else {
      double x = a.type == PIPEC_T_INT ? (double)a.u.i : a.u.f;
      double y = b.type == PIPEC_T_INT ? (double)b.u.i : b.u.f;
      c = x < y ? -1 : x > y;
    }
  } else if (str_a && str_b) {
    c = strcmp(a.u.s, b.u.s);
  } else if (a.type == PIPEC_T_BOOL && b.type == PIPEC_T_BOOL &&
             (v->u.op.op == AST_OP_EQ || v->u.op.op == AST_OP_NE)) {
    c = a.u.b != b.u.b;
  } else {
    sema_error(S, "bad-condition", v->loc, "cannot compare %s with %s",
               type_word(a.type), type_word(b.type));
    return false;
  }
  switch (v->u.op.op) {
  case AST_OP_EQ: *out = c == 0; break;
  case AST_OP_NE: *out = c != 0; break;
  case AST_OP_LT: *out = c < 0; break;
  case AST_OP_LE: *out = c <= 0; break;
  case AST_OP_GT: *out = c > 0; break;
  case AST_OP_GE: *out = c >= 0; break;
  default: *out = false;
  }
  return true;
}

/* Node names of a branch not taken: an unknown name is then explained. */
static void note_skipped(sema *S, const ast_stmts *body) {
  for (uint32_t i = 0; i < body->n; i++) {
    const ast_stmt *st = body->items[i];
    switch (st->kind) {
    case AST_S_NODE:
      if (name_map_get(&S->skipped, st->u.node.name) == PIPEC_NONE) {
        name_map_put(S->a, &S->skipped, st->u.node.name, S->skipped_at.n);
        VEC_PUSH(S->a, S->skipped_at, st->u.node.loc);
      }
      break;
    case AST_S_FOR: note_skipped(S, &st->u.loop.body); break;
    case AST_S_IF:
      note_skipped(S, &st->u.cond.then);
      note_skipped(S, &st->u.cond.els);
      break;
    case AST_S_PUBLISH: break;
    }
  }
}

/* ---- for ------------------------------------------------------------ */

/* The families a loop body declares, made empty when the loop has no
 * items: a gather of them is then an empty list, not an unknown name.
 * broken: the loop's source was in error, so the family's uses report
 * nothing more (one mistake, one error). */
static void declare_empty(sema *S, const ast_stmts *body, bool runtime,
                          bool broken) {
  for (uint32_t i = 0; i < body->n; i++) {
    const ast_stmt *st = body->items[i];
    if (st->kind == AST_S_FOR) {
      declare_empty(S, &st->u.loop.body, runtime, broken);
    } else if (st->kind == AST_S_IF) {
      declare_empty(S, &st->u.cond.then, runtime, broken);
      declare_empty(S, &st->u.cond.els, runtime, broken);
    } else if (st->kind == AST_S_NODE && st->u.node.has_index &&
               sema_fam_index(S, st->u.node.name) == PIPEC_NONE &&
               sema_node_index(S, st->u.node.name) == PIPEC_NONE &&
               sema_param_index(S, st->u.node.name) == PIPEC_NONE) {
      const ast_node *an = &st->u.node;
      sfam fam = {.name = an->name, .decl = an, .n_vars = an->n_index,
                  .runtime = runtime, .broken = broken,
                  .index = PIPEC_NONE};
      const char **vars = arena_alloc(S->a, (an->n_index + 1) *
                                                sizeof *vars);
      for (uint32_t k = 0; k < an->n_index; k++)
        vars[k] = an->index[k]->u.ref.name;
      fam.vars = vars;
      name_map_put(S->a, &S->fam_map, an->name, S->fams.n);
      VEC_PUSH(S->a, S->fams, fam);
      S->names_cache = NULL;
    }
  }
}

static void expand_for(sema *S, const ast_stmt *st, uint32_t k,
                       const senv *env, uint32_t fanout) {
  if (S->too_many)
    return;
  if (k == st->u.loop.n_vars) {
    expand_stmts(S, &st->u.loop.body, env, fanout);
    return;
  }
  const ast_binding *b = &st->u.loop.vars[k];
  S->env = env;
  S->dedupe_on = env != NULL;
  /* the variable must not hide another name */
  if (sema_param_index(S, b->var) != PIPEC_NONE) {
    pipec_diag *g = sema_error(S, "duplicate-name", b->var_loc,
                               "loop variable '%s' would hide param '%s'",
                               b->var, b->var);
    pipec_diag_hint(g, "name the loop variable otherwise");
    return;
  }
  if (sema_env_find(env, b->var)) {
    pipec_diag *g = sema_error(S, "duplicate-name", b->var_loc,
                               "loop variable '%s' is already bound by a "
                               "loop around this one",
                               b->var);
    pipec_diag_hint(g, "name the inner loop's variable otherwise");
    return;
  }
  pipec_value *items;
  uint32_t n;
  bool runtime;
  if (!source_items(S, b, &items, &n, &runtime)) {
    declare_empty(S, &st->u.loop.body, fanout != PIPEC_NONE, true);
    return;
  }
  sbind *sb = arena_alloc(S->a, sizeof *sb);
  sb->var = b->var;
  sb->loc = b->var_loc;
  sb->fanout = PIPEC_NONE;
  if (runtime) {
    if (fanout != PIPEC_NONE) {
      pipec_diag *g = sema_error(S, "nested-runtime", b->source->loc,
                                 "a loop over a node's output cannot be "
                                 "inside another one (over '%s')",
                                 S->fanouts.items[fanout].bind->var);
      pipec_diag_hint(g, "gather the inner results in a node of the outer "
                         "loop's body, or loop over that node's output "
                         "outside");
      return;
    }
    sfanout fo = {.b = b, .env = env, .bind = sb, .producer = PIPEC_NONE,
                  .first = S->decl.n, .loc = b->source->loc};
    uint32_t f = S->fanouts.n;
    sb->fanout = f;
    VEC_PUSH(S->a, S->fanouts, fo);
    senv *frame = arena_alloc(S->a, sizeof *frame);
    *frame = (senv){.up = env, .bind = sb, .text = "*"};
    expand_for(S, st, k + 1, frame, f);
    S->fanouts.items[f].n = S->decl.n - S->fanouts.items[f].first;
    return;
  }
  if (n == 0)
    declare_empty(S, &st->u.loop.body, fanout != PIPEC_NONE, false);
  for (uint32_t i = 0; i < n && !S->too_many; i++) {
    senv *frame = arena_alloc(S->a, sizeof *frame);
    *frame = (senv){.up = env, .bind = sb, .value = items[i],
                    .text = literal_text(S->a, &items[i])};
    expand_for(S, st, k + 1, frame, fanout);
  }
}

static void expand_stmts(sema *S, const ast_stmts *body, const senv *env,
                         uint32_t fanout) {
  for (uint32_t i = 0; i < body->n && !S->too_many; i++) {
    const ast_stmt *st = body->items[i];
    S->env = env;
    S->dedupe_on = env != NULL;
    switch (st->kind) {
    case AST_S_NODE: declare_node(S, &st->u.node, env, fanout); break;
    case AST_S_FOR: expand_for(S, st, 0, env, fanout); break;
    case AST_S_IF: {
      bool c = false;
      if (!eval_cond(S, st->u.cond.cond, &c)) {
        note_skipped(S, &st->u.cond.then);
        note_skipped(S, &st->u.cond.els);
        break;
      }
      note_skipped(S, c ? &st->u.cond.els : &st->u.cond.then);
      expand_stmts(S, c ? &st->u.cond.then : &st->u.cond.els, env, fanout);
      break;
    }
    case AST_S_PUBLISH: {
      spub p = {st, env, fanout};
      VEC_PUSH(S->a, S->pubs, p);
      break;
    }
    }
  }
}

void sema_expand(sema *S) {
  /* one node per declaration, unless loops make more */
  uint32_t n = S->ap->n_node_decls;
  if (n) {
    S->decl.items = arena_alloc(S->a, (size_t)n * sizeof *S->decl.items);
    S->decl.cap = n;
  }
  expand_stmts(S, &S->ap->body, NULL, PIPEC_NONE);
  S->env = NULL;
  S->dedupe_on = false;
  /* a name taken by an if branch is not "skipped" */
  for (uint32_t i = 0; i < S->decl.n; i++)
    if (S->decl.items[i].family == PIPEC_NONE &&
        name_map_get(&S->skipped, S->decl.items[i].name) != PIPEC_NONE)
      name_map_put(S->a, &S->skipped, S->decl.items[i].name, PIPEC_NONE);
}

/* ---- members and gathers -------------------------------------------- */

enum { PART_FIXED, PART_STAR, PART_ITEM };

/* One position of NAME[...]: a key text, '*', or a run-time item. */
static bool index_part(sema *S, const ast_value *v, const char **text,
                       int *kind, uint32_t *fanout) {
  *kind = PART_FIXED;
  *fanout = PIPEC_NONE;
  switch (v->kind) {
  case AST_STAR: *kind = PART_STAR; return true;
  case AST_REF: {
    if (v->u.ref.member)
      break;
    const senv *e = sema_env_find(S->env, v->u.ref.name);
    if (e && e->bind->fanout != PIPEC_NONE) {
      *kind = PART_ITEM;
      *fanout = e->bind->fanout;
      *text = "*";
      return true;
    }
    if (e) {
      *text = e->text;
      return true;
    }
    uint32_t p = sema_param_index(S, v->u.ref.name);
    if (p != PIPEC_NONE) {
      if (S->params[p].type == PIPEC_T_LIST) {
        sema_error(S, "list-mismatch", v->loc,
                   "an index is one key, but param '%s' is a list",
                   v->u.ref.name);
        return false;
      }
      S->params[p].used = true;
      if (!S->params[p].ok)
        return false;
      *text = literal_text(S->a, &S->params[p].value);
      return true;
    }
    *text = v->u.ref.name; /* a bare key: aligned[A] */
    return true;
  }
  case AST_INT:
  case AST_FLOAT:
  case AST_BOOL: {
    pipec_value pv = {.type = v->kind == AST_INT     ? PIPEC_T_INT
                              : v->kind == AST_FLOAT ? PIPEC_T_FLOAT
                                                     : PIPEC_T_BOOL};
    if (v->kind == AST_INT)
      pv.u.i = v->u.i;
    else if (v->kind == AST_FLOAT)
      pv.u.f = v->u.f;
    else
      pv.u.b = v->u.b;
    *text = literal_text(S->a, &pv);
    return true;
  }
  case AST_STRING:
    *text = sema_string(S, v, false);
    return *text != NULL;
  default:
    break;
  }
  pipec_diag *g = sema_error(S, "bad-index", v->loc,
                             "an index is a loop variable, a key or '*'");
  pipec_diag_hint(g, "aligned[s], aligned[A], aligned[\"A\"], aligned[*]");
  return false;
}

/* "its keys are: A, B, C" (the first few). */
static const char *keys_list(sema *S, const sfam *fam) {
  char buf[400];
  size_t w = 0;
  uint32_t shown = 0;
  buf[0] = 0;
  for (uint32_t m = 0; m < fam->members.n && w < 300; m++, shown++)
    w += (size_t)snprintf(buf + w, sizeof buf - w, "%s%s", m ? ", " : "",
                          S->decl.items[fam->members.items[m]].key);
  if (shown < fam->members.n)
    snprintf(buf + w, sizeof buf - w, ", ... (%u in all)", fam->members.n);
  return arena_strdup(S->a, buf);
}

/* Members grouped by their parts at the fixed positions `mask`. */
struct sgroups {
  uint64_t mask;
  name_map map;              /* interned group key -> group id */
  uint32_t *start;           /* group id -> first position in order */
  uint32_t *order;           /* member positions, grouped, SOURCE order */
  sgroups *next;
};

/* The group key of parts[i] at the positions of mask: "len:text" each. */
static const char *group_key(sema *S, const char *const *parts,
                             uint32_t n_vars, uint64_t mask) {
  size_t len = 0;
  for (uint32_t i = 0; i < n_vars; i++)
    if (mask & (1ull << i))
      len += strlen(parts[i]) + 12;
  char *buf = arena_alloc(S->a, len + 1);
  size_t w = 0;
  for (uint32_t i = 0; i < n_vars; i++)
    if (mask & (1ull << i))
      w += (size_t)sprintf(buf + w, "%zu:%s", strlen(parts[i]), parts[i]);
  const char *k = arena_intern(S->a, buf, w);
  arena_release(S->a, buf, len + 1);
  return k;
}

static sgroups *groups_for(sema *S, sfam *fam, uint64_t mask) {
  for (sgroups *g = fam->groups; g; g = g->next)
    if (g->mask == mask)
      return g;
  sgroups *g = arena_alloc(S->a, sizeof *g);
  g->mask = mask;
  uint32_t nm = fam->members.n, ng = 0;
  uint32_t *gid = malloc(((size_t)nm + 1) * sizeof *gid);
  if (!gid)
    arena_oom(nm * sizeof *gid);
  for (uint32_t m = 0; m < nm; m++) {
    const char *k = group_key(S, &fam->parts.items[(size_t)m * fam->n_vars],
                              fam->n_vars, mask);
    uint32_t id = name_map_get(&g->map, k);
    if (id == PIPEC_NONE) {
      id = ng++;
      name_map_put(S->a, &g->map, k, id);
    }
    gid[m] = id;
  }
  g->start = arena_alloc(S->a, ((size_t)ng + 2) * sizeof *g->start);
  for (uint32_t m = 0; m < nm; m++)
    g->start[gid[m] + 1]++;
  for (uint32_t i = 0; i < ng; i++)
    g->start[i + 1] += g->start[i];
  uint32_t *fill = calloc((size_t)ng + 1, sizeof *fill);
  if (!fill)
    arena_oom(ng * sizeof *fill);
  g->order = arena_alloc(S->a, ((size_t)nm + 1) * sizeof *g->order);
  for (uint32_t m = 0; m < nm; m++)
    g->order[g->start[gid[m]] + fill[gid[m]]++] = m;
  free(fill);
  free(gid);
  g->next = fam->groups;
  fam->groups = g;
  return g;
}

/* Resolve a family reference. *stars: the '*' positions (all of them for
 * NAME[*] or a bare NAME). */
static bool members_of(sema *S, const ast_value *v, const char *what,
                       sema_u32s *out, bool *gather, bool *runtime,
                       uint64_t *stars, uint32_t *fam_out) {
  (void)what;
  out->n = 0;
  *gather = false;
  *runtime = false;
  *stars = 0;
  bool bare = v->kind == AST_REF;
  const char *name = bare ? v->u.ref.name : v->u.fam->name;
  ast_loc name_loc = bare ? v->u.ref.name_loc : v->u.fam->name_loc;
  uint32_t f = sema_fam_index(S, name);
  if (f == PIPEC_NONE) {
    bool star = false;
    for (uint32_t i = 0; !bare && i < v->u.fam->n_index; i++)
      star |= v->u.fam->index[i]->kind == AST_STAR;
    if (!bare && (sema_param_index(S, name) != PIPEC_NONE ||
                  sema_env_find(S->env, name))) {
      pipec_diag *g = sema_error(S, "not-a-family", v->loc,
                                 "'%s' is a %s, not a family: NAME[k] picks "
                                 "a member of a family",
                                 name, sema_env_find(S->env, name)
                                           ? "loop variable"
                                           : "param");
      pipec_diag_hint(g, "a list is not indexed; loop over it: for x in %s "
                         "{ ... }",
                      name);
      return false;
    }
    if (sema_node_index(S, name) != PIPEC_NONE) {
      pipec_diag *g = sema_error(S, "not-a-family", v->loc,
                                 star ? "'%s' is a node, not a family: [*] "
                                        "gathers the members of a family"
                                      : "'%s' is a node, not a family: it "
                                        "has no members",
                                 name);
      pipec_diag_hint(g, "its output is %s.PORT", name);
      return false;
    }
    uint32_t nn;
    const char **names = sema_node_names(S, &nn);
    pipec_diag *g = sema_error(S, "unknown-name", name_loc,
                               "unknown family '%s'", name);
    sema_suggest(g, name, names, nn);
    return false;
  }
  sfam *fam = &S->fams.items[f];
  if (fam->broken)
    return false; /* its loop's error said it */
  *fam_out = f;
  *runtime = fam->runtime;
  uint32_t nv = fam->n_vars;
  uint32_t ni = bare ? 0 : v->u.fam->n_index;
  bool all = bare || (ni == 1 && v->u.fam->index[0]->kind == AST_STAR);
  const char **parts = arena_alloc(S->a, (nv + 1) * sizeof *parts);
  int *kinds = arena_alloc(S->a, (nv + 1) * sizeof *kinds);
  uint32_t item_fanout = PIPEC_NONE;
  if (all) {
    for (uint32_t i = 0; i < nv; i++)
      kinds[i] = PART_STAR, parts[i] = "*";
  } else if (ni != nv) {
    char vars[256] = "";
    size_t w = 0;
    for (uint32_t i = 0; i < nv && w < sizeof vars; i++)
      w += (size_t)snprintf(vars + w, sizeof vars - w, "%s%s", i ? ", " : "",
                            fam->vars[i]);
    pipec_diag *g = sema_error(S, "bad-index", v->u.fam->index_loc,
                               "family '%s' has %u index variable%s (%s), "
                               "but %u %s given",
                               name, nv, nv == 1 ? "" : "s", vars, ni,
                               ni == 1 ? "is" : "are");
    pipec_diag_hint(g, "%s[*] gathers every member", name);
    return false;
  } else {
    bool ok = true;
    for (uint32_t i = 0; i < nv; i++) {
      uint32_t fo;
      ok &= index_part(S, v->u.fam->index[i], &parts[i], &kinds[i], &fo);
      if (kinds[i] == PART_ITEM)
        item_fanout = fo;
    }
    if (!ok)
      return false;
  }
  for (uint32_t i = 0; i < nv; i++)
    if (kinds[i] == PART_STAR)
      *stars |= 1ull << i;
  *gather = *stars != 0;

  if (!fam->runtime) {
    if (item_fanout != PIPEC_NONE) {
      pipec_diag *g = sema_error(S, "runtime-item", v->loc,
                                 "'%s' has its members when the pipeline "
                                 "compiles; an item known only at run time "
                                 "cannot pick one",
                                 name);
      pipec_diag_hint(g, "gather them all: %s[*]", name);
      return false;
    }
    if (!*gather) {
      const char *full = member_name(S, name, parts, nv);
      uint32_t m = sema_node_index(S, full);
      if (m == PIPEC_NONE || S->decl.items[m].family != f) {
        const char *key = parts[0];
        for (uint32_t i = 1; i < nv; i++)
          key = arena_printf(S->a, "%s,%s", key, parts[i]);
        pipec_diag *g = sema_error(S, "unknown-member", v->u.fam->index_loc,
                                   "family '%s' has no member '%s'", name,
                                   key);
        const senv *near = NULL;
        for (const senv *q = S->env; q && nv == 1; q = q->up)
          if (editdist_suggest(key, &q->bind->var, 1))
            near = q;
        if (near)
          pipec_diag_hint(g, "did you mean the loop variable '%s'?",
                          near->bind->var);
        else if (fam->members.n)
          pipec_diag_hint(g, "its keys are: %s", keys_list(S, fam));
        else
          pipec_diag_hint(g, "it has no members: its loop has no items");
        return false;
      }
      TMP_PUSH(*out, m);
      return true;
    }
    if (*stars == (nv >= 64 ? ~0ull : (1ull << nv) - 1)) {
      for (uint32_t m = 0; m < fam->members.n; m++)
        TMP_PUSH(*out, fam->members.items[m]);
      return true;
    }
    uint64_t fixed = ~*stars & (nv >= 64 ? ~0ull : (1ull << nv) - 1);
    sgroups *g = groups_for(S, fam, fixed);
    uint32_t id = name_map_get(&g->map, group_key(S, parts, nv, fixed));
    if (id != PIPEC_NONE)
      for (uint32_t k = g->start[id]; k < g->start[id + 1]; k++)
        TMP_PUSH(*out, fam->members.items[g->order[k]]);
    return true;
  }

  /* a run-time family: its members are templates, one per combination of
   * the compile-time loops around; the run-time positions hold '*' */
  bool item_mode = item_fanout != PIPEC_NONE;
  for (uint32_t t = 0; t < fam->members.n; t++) {
    const char *const *tp = &fam->parts.items[(size_t)t * nv];
    uint32_t tm = fam->members.items[t];
    bool match = true;
    for (uint32_t i = 0; i < nv && match; i++) {
      bool rt_pos = strcmp(tp[i], "*") == 0 &&
                    sema_env_find(S->decl.items[tm].env, fam->vars[i]) &&
                    sema_env_find(S->decl.items[tm].env, fam->vars[i])
                            ->bind->fanout != PIPEC_NONE;
      if (rt_pos) {
        if (kinds[i] == PART_FIXED) {
          pipec_diag *g = sema_error(
              S, "runtime-member", v->loc,
              "the members of '%s' are known only at run time (its loop "
              "runs over a node's output); '%s' cannot be named",
              name, parts[i]);
          pipec_diag_hint(g, "gather them with %s[*]", name);
          out->n = 0;
          return false;
        }
        continue;
      }
      if (kinds[i] == PART_FIXED)
        match = strcmp(tp[i], parts[i]) == 0;
    }
    if (!match)
      continue;
    if (item_mode && S->decl.items[tm].fanout != item_fanout)
      continue;
    TMP_PUSH(*out, tm);
  }
  if (item_mode) {
    if (*gather || out->n != 1) {
      pipec_diag *g = sema_error(S, "bad-index", v->loc,
                                 "'%s' inside its run-time loop names one "
                                 "member: the one of the current item",
                                 name);
      pipec_diag_hint(g, "index it with the loop's variables only");
      out->n = 0;
      return false;
    }
    return true;
  }
  if (S->cur_fanout != PIPEC_NONE)
    for (uint32_t k = 0; k < out->n; k++)
      if (S->decl.items[out->items[k]].fanout == S->cur_fanout) {
        pipec_diag *g = sema_error(S, "cycle", v->loc,
                                   "family '%s' cannot be gathered inside "
                                   "its own run-time loop",
                                   name);
        pipec_diag_hint(g, "gather it in a node after the loop");
        out->n = 0;
        return false;
      }
  if (!*gather) {
    pipec_diag *g = sema_error(S, "runtime-member", v->loc,
                               "the members of '%s' are known only at run "
                               "time; name them from inside the loop, or "
                               "gather them",
                               name);
    pipec_diag_hint(g, "%s[*] gathers every member", name);
    out->n = 0;
    return false;
  }
  return true;
}

bool sema_members(sema *S, const ast_value *v, const char *what,
                  sema_u32s *out, bool *gather, bool *runtime) {
  uint64_t stars;
  uint32_t f;
  return members_of(S, v, what, out, gather, runtime, &stars, &f);
}

bool sema_keys_value(sema *S, const ast_value *v, const char *what,
                     pipec_value *out) {
  *out = (pipec_value){.type = PIPEC_T_LIST,
                       .u.list = {NULL, 0, PIPEC_T_STRING}};
  const ast_value *arg = v->u.call.n == 1 ? v->u.call.args[0] : NULL;
  if (!arg || !(arg->kind == AST_MEMBER ||
                (arg->kind == AST_REF && !arg->u.ref.member)) ||
      (arg->kind == AST_MEMBER && arg->u.fam->member)) {
    pipec_diag *g = sema_error(S, "bad-call", v->loc,
                               "keys() takes a family: keys(NAME) or "
                               "keys(NAME[k, *])");
    pipec_diag_hint(g, "the keys are in the same order as NAME[*]");
    return false;
  }
  sema_u32s ms = {0};
  bool gather, runtime;
  uint64_t stars;
  uint32_t f = PIPEC_NONE;
  if (!members_of(S, arg, what, &ms, &gather, &runtime, &stars, &f)) {
    free(ms.items);
    return false;
  }
  if (!gather) {
    free(ms.items);
    pipec_diag *g = sema_error(S, "bad-call", v->loc,
                               "keys() of one member; it takes a family or "
                               "a gather");
    pipec_diag_hint(g, "keys(%s) or keys(%s[k, *])", arg->u.fam->name,
                    arg->u.fam->name);
    return false;
  }
  if (runtime) {
    for (uint32_t i = 0; i < ms.n; i++)
      TMP_PUSH(S->defer_keys, ms.items[i]);
    free(ms.items);
    return true;
  }
  const sfam *fam = &S->fams.items[f];
  uint32_t nv = fam->n_vars;
  uint64_t all = nv >= 64 ? ~0ull : (1ull << nv) - 1;
  pipec_value *items = arena_alloc(S->a, ((size_t)ms.n + 1) * sizeof *items);
  for (uint32_t i = 0; i < ms.n; i++) {
    const snode *m = &S->decl.items[ms.items[i]];
    const char *text = m->key;
    if (stars != all) { /* the '*' positions' parts */
      const char *const *parts = NULL;
      for (uint32_t k = 0; k < fam->members.n && !parts; k++)
        if (fam->members.items[k] == ms.items[i])
          parts = &fam->parts.items[(size_t)k * nv];
      text = "";
      for (uint32_t q = 0; parts && q < nv; q++)
        if (stars & (1ull << q))
          text = *text ? arena_printf(S->a, "%s,%s", text, parts[q])
                       : parts[q];
    }
    items[i] = (pipec_value){.type = PIPEC_T_STRING, .u.s = text};
  }
  out->u.list.items = items;
  out->u.list.n = ms.n;
  free(ms.items);
  return true;
}

/* ---- run-time loops --------------------------------------------------- */

void sema_fanouts(sema *S) {
  for (uint32_t f = 0; f < S->fanouts.n; f++) {
    sfanout *fo = &S->fanouts.items[f];
    const ast_value *v = fo->b->source;
    bool lines = v->kind == AST_CALL;
    if (lines)
      v = v->u.call.args[0];
    S->env = fo->env;
    S->cur_fanout = PIPEC_NONE;
    S->dedupe_on = fo->env != NULL;
    uint32_t prod = PIPEC_NONE;
    int port = -1;
    const char *what = arena_printf(S->a, "the SOURCE of loop variable '%s'",
                                    fo->b->var);
    if (v->kind == AST_MEMBER) {
      sema_u32s ms = {0};
      bool gather, runtime;
      if (sema_members(S, v, what, &ms, &gather, &runtime)) {
        if (gather || runtime) {
          pipec_diag *g = sema_error(S, "bad-source", v->loc,
                                     "a loop runs over one node's output, "
                                     "not a gather");
          pipec_diag_hint(g, "gather it into one dir with a node first");
        } else {
          prod = ms.items[0];
        }
      }
      free(ms.items);
      if (prod != PIPEC_NONE && S->decl.items[prod].comp != PIPEC_NONE) {
        scomp *sc = &S->comps.items[S->decl.items[prod].comp];
        if (v->u.fam->member)
          port = sema_comp_find(S, sc, FIND_OUTPUT, v->u.fam->member);
        else if (sc->ir.n_outputs == 1)
          port = 0;
        if (port < 0)
          sema_error(S, "unknown-port", v->loc, "%s has no output %s%s",
                     S->decl.items[prod].name,
                     v->u.fam->member ? v->u.fam->member : "to loop over",
                     v->u.fam->member ? "" : " (say which)");
      }
    } else if (v->kind == AST_REF) {
      if (sema_fam_index(S, v->u.ref.name) != PIPEC_NONE &&
          sema_node_index(S, v->u.ref.name) == PIPEC_NONE) {
        pipec_diag *g = sema_error(S, "bad-source", v->loc,
                                   "'%s' is a family; a loop runs over one "
                                   "node's output",
                                   v->u.ref.name);
        pipec_diag_hint(g, "for x in %s[KEY].PORT", v->u.ref.name);
      } else {
        sema_resolve_output(S, v, what, &prod, &port);
      }
    }
    if (prod == PIPEC_NONE || port < 0)
      continue;
    snode *pn = &S->decl.items[prod];
    if (pn->fanout != PIPEC_NONE) {
      sema_error(S, "nested-runtime", v->loc,
                 "'%s' is itself made inside a run-time loop; a loop over "
                 "its output cannot be expanded",
                 pn->name);
      continue;
    }
    const pipec_port_decl *pd = &S->comps.items[pn->comp].ir.outputs[port];
    pn->out_used[port] = true;
    fo->producer = prod;
    fo->port = pd->name;
    if (lines) {
      if (pd->type == PIPEC_PORT_DIR) {
        pipec_diag *g = sema_error(S, "bad-source", v->loc,
                                   "lines() reads a file, but %s.%s is a dir",
                                   pn->name, pd->name);
        pipec_diag_hint(g, "loop over the dir itself: for f in %s.%s",
                        pn->name, pd->name);
        fo->producer = PIPEC_NONE;
        continue;
      }
      fo->kind = PIPEC_FANOUT_LINES;
    } else if (pd->type == PIPEC_PORT_DIR) {
      fo->kind = PIPEC_FANOUT_DIR;
    } else if (pd->type == PIPEC_PORT_JSON) {
      fo->kind = PIPEC_FANOUT_JSON;
    } else {
      pipec_diag *g = sema_error(S, "bad-source", v->loc,
                                 "a loop over a node's output needs a dir or "
                                 "a json list, but %s.%s is a %s",
                                 pn->name, pd->name,
                                 pipec_port_type_name(pd->type));
      pipec_diag_hint(g, "lines(%s.%s) gives one item per line", pn->name,
                      pd->name);
      fo->producer = PIPEC_NONE;
    }
  }
  S->env = NULL;
  S->dedupe_on = false;
}

/* ---- publish -------------------------------------------------------- */

void sema_publishes(sema *S) {
  name_map seen = {0}; /* published path -> index in S->pub_ir */
  for (uint32_t i = 0; i < S->pubs.n; i++) {
    const spub *sp = &S->pubs.items[i];
    const ast_stmt *st = sp->st;
    S->env = sp->env;
    S->cur_fanout = sp->fanout;
    S->dedupe_on = sp->env != NULL;
    const ast_value *w = st->u.pub.what;
    uint32_t node = PIPEC_NONE;
    const char *member = NULL;
    ast_loc mloc = w->loc;
    if (w->kind == AST_MEMBER) {
      sema_u32s ms = {0};
      bool gather, runtime;
      if (sema_members(S, w, "a publish", &ms, &gather, &runtime)) {
        if (gather) {
          pipec_diag *g = sema_error(S, "bad-publish", w->loc,
                                     "a publish writes one output to one "
                                     "path, but this gathers a list");
          pipec_diag_hint(g, "publish inside the loop, once per member: "
                             "publish %s[v].PORT = \"...${v}...\"",
                          w->u.fam->name);
        } else {
          node = ms.items[0];
        }
      }
      free(ms.items);
      member = w->u.fam->member;
      mloc = w->u.fam->member ? w->u.fam->member_loc : w->loc;
    } else if (w->kind == AST_REF) {
      if (sema_env_find(S->env, w->u.ref.name) ||
          sema_param_index(S, w->u.ref.name) != PIPEC_NONE ||
          (sema_fam_index(S, w->u.ref.name) != PIPEC_NONE &&
           sema_node_index(S, w->u.ref.name) == PIPEC_NONE)) {
        pipec_diag *g = sema_error(S, "bad-publish", w->loc,
                                   "a publish names a node's output: "
                                   "NODE.PORT or NAME[KEY].PORT");
        (void)g;
      } else {
        int port;
        if (sema_resolve_output(S, w, "a publish", &node, &port))
          member = S->comps.items[S->decl.items[node].comp]
                       .ir.outputs[port].name;
        mloc = w->u.ref.member ? w->u.ref.member_loc : w->loc;
      }
    } else {
      sema_error(S, "bad-publish", w->loc,
                 "a publish names a node's output: NODE.PORT");
    }
    const ast_value *pv = st->u.pub.path;
    if (pv->kind != AST_STRING) {
      pipec_diag *g = sema_error(S, "bad-publish", pv->loc,
                                 "a publish path is a string");
      pipec_diag_hint(g, "publish NODE.PORT = \"results/x.csv\"");
      continue;
    }
    if (node == PIPEC_NONE)
      continue;
    snode *pn = &S->decl.items[node];
    if (pn->comp == PIPEC_NONE)
      continue;
    scomp *sc = &S->comps.items[pn->comp];
    int port = member ? sema_comp_find(S, sc, FIND_OUTPUT, member)
               : sc->ir.n_outputs == 1 ? 0
                                       : -1;
    if (port < 0) {
      pipec_diag *g = sema_error(S, "unknown-port", mloc,
                                 member ? "node '%s' (%s) has no output '%s'"
                                        : "node '%s' (%s) has several "
                                          "outputs%s; say which",
                                 pn->name, sc->ir.name, member ? member : "");
      if (sc->ir.n_outputs)
        pipec_diag_hint(g, "its outputs: %s%s", sc->ir.outputs[0].name,
                        sc->ir.n_outputs > 1 ? ", ..." : "");
      continue;
    }
    pn->out_used[port] = true;
    S->defer_ok = sp->fanout != PIPEC_NONE;
    S->deferred = false;
    const char *path = sema_string(S, pv, false);
    bool deferred = S->deferred;
    S->defer_ok = S->deferred = false;
    if (!path)
      continue;
    const char *checked;
    if (deferred) {
      const sfanout *fo = &S->fanouts.items[sp->fanout];
      char *mark = arena_printf(S->a, "${%s}", fo->bind->var);
      if (!strstr(path, mark)) {
        pipec_diag *g = sema_error(S, "duplicate-publish", pv->loc,
                                   "this publish inside the loop over '%s' "
                                   "writes every item to one path",
                                   fo->bind->var);
        pipec_diag_hint(g, "put ${%s} in the path", fo->bind->var);
        continue;
      }
      /* check the path with a stand-in item: where would it land? */
      char *probe = arena_strdup(S->a, path);
      for (char *q = strstr(probe, "${"); q; q = strstr(q, "${")) {
        char *end = strchr(q, '}');
        if (!end)
          break;
        memmove(q + 1, end + 1, strlen(end + 1) + 1);
        *q = 'x';
      }
      if (!sema_publish_path(S, probe, pv->loc))
        continue;
      checked = path_normalize(S->a, path);
    } else {
      checked = sema_publish_path(S, path, pv->loc);
      if (!checked)
        continue;
      uint32_t first = name_map_get(&seen, checked);
      if (first != PIPEC_NONE) {
        const spub_ir *fp = &S->pub_ir.items[first];
        pipec_diag *g = sema_error(S, "duplicate-publish", pv->loc,
                                   "two publishes write '%s' (%s.%s and "
                                   "%s.%s)",
                                   checked,
                                   S->decl.items[fp->p.node].name, fp->p.port,
                                   pn->name, sc->ir.outputs[port].name);
        if (fp->loc.off == pv->loc.off && fp->loc.file == pv->loc.file &&
            S->env)
          pipec_diag_hint(g, "this publish is inside a loop: put the loop's "
                             "variables in the path (%s)",
                          env_vars(S, S->env));
        else
          sema_note(S, fp->loc, "the first one is here");
        continue;
      }
      name_map_put(S->a, &seen, checked, S->pub_ir.n);
    }
    spub_ir r = {.p = {.node = node, .port = sc->ir.outputs[port].name,
                       .path = checked, .fanout = sp->fanout,
                       .loc = sema_srcloc(S, pv->loc)},
                 .loc = pv->loc};
    TMP_PUSH(S->pub_ir, r);
  }
  /* one published path inside another: one of them cannot be written */
  const spub_ir *pubs = S->pub_ir.items;
  for (uint32_t i = 0; i < S->pub_ir.n; i++) {
    if (pubs[i].p.fanout != PIPEC_NONE)
      continue;
    const char *path = pubs[i].p.path;
    for (const char *q = strchr(path, '/'); q; q = strchr(q + 1, '/')) {
      const char *parent = arena_intern(S->a, path, (size_t)(q - path));
      uint32_t j = name_map_get(&seen, parent);
      if (j != PIPEC_NONE) {
        sema_error(S, "duplicate-publish", pubs[i].loc,
                   "'%s' is published inside '%s', which is published too",
                   path, parent);
        sema_note(S, pubs[j].loc, "'%s' is published here", parent);
        break;
      }
    }
  }
  S->env = NULL;
  S->cur_fanout = PIPEC_NONE;
  S->dedupe_on = false;
}

/* ---- lowering --------------------------------------------------------- */

static int datafile_cmp(const void *a, const void *b) {
  return strcmp(((const pipec_datafile *)a)->path,
                ((const pipec_datafile *)b)->path);
}

void sema_lower_loops(sema *S, pipec_pipeline *p, const uint32_t *newidx,
                      const uint32_t *tidx) {
  arena *a = S->a;
#define NODE_IDX(i) (newidx ? newidx[i] : (i))
  p->n_families = S->fams.n;
  p->families = arena_alloc(a, ((size_t)S->fams.n + 1) * sizeof *p->families);
  for (uint32_t f = 0; f < S->fams.n; f++) {
    const sfam *sf = &S->fams.items[f];
    pipec_family *pf = &p->families[f];
    pf->name = sf->name;
    pf->vars = sf->vars;
    pf->n_vars = sf->n_vars;
    pf->runtime = sf->runtime;
    pf->loc = sema_srcloc(S, sf->decl->loc);
    uint32_t comp = sema_comp_index(S, sf->decl->component);
    pf->component = comp != PIPEC_NONE ? S->comps.items[comp].index
                                       : PIPEC_NONE;
    uint32_t n = sf->members.n;
    uint32_t *ids = arena_alloc(a, ((size_t)n + 1) * sizeof *ids);
    const char **keys = arena_alloc(a, ((size_t)n + 1) * sizeof *keys);
    for (uint32_t m = 0; m < n; m++) {
      uint32_t s = sf->members.items[m];
      ids[m] = sf->runtime ? tidx[s] : NODE_IDX(s);
      keys[m] = S->decl.items[s].key;
    }
    if (sf->runtime) {
      pf->templates = ids;
      pf->n_templates = n;
      pf->members = arena_alloc(a, sizeof *pf->members);
      pf->keys = arena_alloc(a, sizeof *pf->keys);
      pf->parts = arena_alloc(a, sizeof *pf->parts);
    } else {
      pf->members = ids;
      pf->keys = keys;
      pf->parts = sf->parts.items ? sf->parts.items
                                  : arena_alloc(a, sizeof *pf->parts);
      pf->n_members = n;
      pf->templates = arena_alloc(a, sizeof *pf->templates);
    }
  }
  p->n_fanouts = S->fanouts.n;
  p->fanouts = arena_alloc(a, ((size_t)S->fanouts.n + 1) * sizeof *p->fanouts);
  for (uint32_t f = 0; f < S->fanouts.n; f++) {
    const sfanout *fo = &S->fanouts.items[f];
    uint32_t first = PIPEC_NONE;
    for (uint32_t t = fo->first; t < fo->first + fo->n; t++)
      if (first == PIPEC_NONE || tidx[t] < first)
        first = tidx[t];
    p->fanouts[f] = (pipec_fanout){
        .kind = fo->kind,
        .producer = fo->producer == PIPEC_NONE ? PIPEC_NONE
                                               : NODE_IDX(fo->producer),
        .port = fo->port,
        .var = fo->bind->var,
        .first_template = fo->n ? first : 0,
        .n_templates = fo->n,
        .loc = sema_srcloc(S, fo->loc)};
  }
  const spub_ir *pubs = S->pub_ir.items;
  p->n_publishes = S->pub_ir.n;
  p->publishes = arena_alloc(a, ((size_t)S->pub_ir.n + 1) *
                                    sizeof *p->publishes);
  for (uint32_t i = 0; i < S->pub_ir.n; i++) {
    p->publishes[i] = pubs[i].p;
    uint32_t s = pubs[i].p.node;
    p->publishes[i].node =
        pubs[i].p.fanout != PIPEC_NONE ? tidx[s] : NODE_IDX(s);
  }
  p->n_datafiles = S->datafiles.n;
  p->datafiles = arena_alloc(a, ((size_t)S->datafiles.n + 1) *
                                    sizeof *p->datafiles);
  if (S->datafiles.n)
    memcpy(p->datafiles, S->datafiles.items,
           S->datafiles.n * sizeof *p->datafiles);
  qsort(p->datafiles, p->n_datafiles, sizeof *p->datafiles, datafile_cmp);
#undef NODE_IDX
}

/*
 * sema_value.c — typed values: literals checked against their declared
 * type, references to pipeline params, ${} interpolation, durations and
 * sizes, command-template placeholders, and the pipeline params themselves
 * (defaults, -p overrides, resolution order).
 *
 * Inside a loop a name is first a loop variable (S->env), then a param.
 * A run-time loop's variable has no value yet: where S->defer_ok allows
 * it, a value using one is marked deferred (S->deferred, with its text in
 * S->defer_text) and the engine fills it in per item.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "literal.h"
#include "pipec/template.h"
#include "sema_int.h"
#include "units.h"

static const char *kind_name(const ast_value *v) {
  switch (v->kind) {
  case AST_INT: return "an int";
  case AST_FLOAT: return "a float";
  case AST_BOOL: return "a bool";
  case AST_STRING: return "a string";
  case AST_REF: return "a reference";
  case AST_LIST: return "a list";
  case AST_MAP: return "a map";
  case AST_MEMBER: return "a family member";
  case AST_STAR: return "'*'";
  case AST_CALL: return "a call";
  case AST_OP: return "a condition";
  }
  return "a value";
}

static const char *a_type(pipec_type t) {
  return t == PIPEC_T_INT ? "an int" : t == PIPEC_T_FLOAT ? "a float"
       : t == PIPEC_T_BOOL ? "a bool" : t == PIPEC_T_STRING ? "a string"
       : t == PIPEC_T_PATH ? "a path" : "a list";
}

static const char **param_names(sema *S) {
  const char **names = arena_alloc(S->a, (S->n_params + 1) * sizeof *names);
  for (uint32_t i = 0; i < S->n_params; i++)
    names[i] = S->params[i].decl->name;
  return names;
}

static bool resolve_param(sema *S, uint32_t i);

/* Params and the loop variables bound around the node being checked. */
static const char **param_and_var_names(sema *S, uint32_t *n) {
  uint32_t nv = 0;
  for (const senv *e = S->env; e; e = e->up)
    nv++;
  const char **names = arena_alloc(S->a, (S->n_params + nv + 1) *
                                             sizeof *names);
  uint32_t k = 0;
  for (const senv *e = S->env; e; e = e->up)
    names[k++] = e->bind->var;
  for (uint32_t i = 0; i < S->n_params; i++)
    names[k++] = S->params[i].decl->name;
  *n = k;
  return names;
}

/* The run-time loop of binding e, for messages: "an entry of
 * split.chunks". */
static const char *runtime_what(sema *S, const senv *e) {
  const sfanout *f = &S->fanouts.items[e->bind->fanout];
  const char *src = f->producer != PIPEC_NONE
                        ? arena_printf(S->a, "%s.%s",
                                       S->decl.items[f->producer].name,
                                       f->port ? f->port : "?")
                        : "a node's output";
  return arena_printf(S->a, "%s %s",
                      f->kind == PIPEC_FANOUT_DIR    ? "an entry of"
                      : f->kind == PIPEC_FANOUT_JSON ? "an item of"
                                                     : "a line of",
                      src);
}

/* A run-time item used as a value: allowed where S->defer_ok, for the
 * types the item can have (checked again by the engine for a json item).
 * Marks S->deferred. */
static bool runtime_value(sema *S, const senv *e, const ast_value *at,
                          pipec_type want, const char *what) {
  const sfanout *f = &S->fanouts.items[e->bind->fanout];
  if (!S->defer_ok) {
    pipec_diag *g = sema_error(S, "runtime-item", at->loc,
                               "'%s' is known only at run time (%s); %s "
                               "needs it when the pipeline compiles",
                               e->bind->var, runtime_what(S, e), what);
    pipec_diag_hint(g, "use it as an input, a param or in a ${} of a node "
                       "inside the loop");
    return false;
  }
  bool fits = want == PIPEC_T_STRING ||
              (f->kind == PIPEC_FANOUT_JSON &&
               (want == PIPEC_T_INT || want == PIPEC_T_FLOAT ||
                want == PIPEC_T_BOOL));
  if (!fits) {
    const char *have = f->kind == PIPEC_FANOUT_JSON ? "a json value"
                       : f->kind == PIPEC_FANOUT_DIR ? "a file; as a value, "
                                                       "its name: a string"
                                                     : "a string";
    pipec_diag *g = sema_error(S, "type-mismatch", at->loc,
                               "%s is %s, but '%s' is %s (%s)", what,
                               a_type(want), e->bind->var, runtime_what(S, e),
                               have);
    if (want == PIPEC_T_PATH)
      pipec_diag_hint(g, "source files are known when the pipeline "
                         "compiles; a run-time item can be a string param "
                         "or, for a dir entry, an input");
    return false;
  }
  S->deferred = true;
  return true;
}

/* Byte offset in the source of index `idx` of string literal v's text. */
static uint32_t str_off(sema *S, const ast_value *v, uint32_t idx) {
  return ast_string_src_offset(S->u->texts[v->loc.file], v->loc, idx);
}

ast_loc sema_str_span(sema *S, const ast_value *v, uint32_t from,
                      uint32_t len) {
  uint32_t a = str_off(S, v, from), b = str_off(S, v, from + len);
  return (ast_loc){v->loc.file, a, b - a};
}

typedef struct sbuf {
  char *p;
  size_t n, cap;
} sbuf;

static void sb_add(sema *S, sbuf *b, const char *s, size_t n) {
  if (b->n + n + 1 > b->cap) {
    size_t ncap = (b->cap + n + 1) * 2;
    char *np = arena_alloc(S->a, ncap);
    if (b->n)
      memcpy(np, b->p, b->n);
    b->p = np;
    b->cap = ncap;
  }
  memcpy(b->p + b->n, s, n);
  b->n += n;
  b->p[b->n] = 0;
}

/* Text the shell reads as one plain word, whatever quotes surround it. */
static bool plain_word(const char *s) {
  for (; *s; s++)
    if (!isalnum((unsigned char)*s) && !strchr("_./:=@%+,-", *s))
      return false;
  return true;
}

/* Run-time items in a deferred string are \x01VAR\x02 while it is built;
 * then they become ${VAR}, and every other ${ is written $${. */
static const char *finish_deferred(sema *S, const char *built) {
  sbuf b = {0};
  sb_add(S, &b, "", 0);
  for (const char *q = built; *q; q++) {
    if (*q == '\x01') {
      const char *end = strchr(q, '\x02');
      sb_add(S, &b, "${", 2);
      sb_add(S, &b, q + 1, (size_t)(end - q - 1));
      sb_add(S, &b, "}", 1);
      q = end;
    } else if (q[0] == '$' && q[1] == '{') {
      sb_add(S, &b, "$${", 3);
      q++;
    } else {
      sb_add(S, &b, q, 1);
    }
  }
  return b.p;
}

const char *sema_string(sema *S, const ast_value *v, bool tmpl) {
  const char *t = v->u.s.text;
  if (!strstr(t, "${"))
    return t;
  /* room for the text and a few short values: one block, usually */
  sbuf b = {arena_alloc(S->a, v->u.s.len + 33), 0, v->u.s.len + 33};
  bool ok = true, deferred = false;
  for (uint32_t i = 0; i < v->u.s.len;) {
    if (t[i] == '$' && t[i + 1] == '$' && t[i + 2] == '{') {
      /* $${ is a literal ${ (in a template, ${{ keeps the brace literal) */
      sb_add(S, &b, tmpl ? "${{" : "${", tmpl ? 3 : 2);
      i += 3;
      continue;
    }
    if (!(t[i] == '$' && t[i + 1] == '{')) {
      sb_add(S, &b, t + i, 1);
      i++;
      continue;
    }
    uint32_t nstart = i + 2, nlen = 0;
    while (t[nstart + nlen] == '_' || isalnum((unsigned char)t[nstart + nlen]))
      nlen++;
    if (t[nstart + nlen] != '}' || nlen == 0) {
      pipec_diag *g = sema_error(S, "bad-interpolation",
                                 sema_str_span(S, v, i, 2 + nlen),
                                 "'${' must be followed by a param name and "
                                 "'}'");
      pipec_diag_hint(g, "write ${name}, or '$${' for a literal '${'");
      return NULL;
    }
    const char *name = arena_intern(S->a, t + nstart, nlen);
    const senv *e = sema_env_find(S->env, name);
    uint32_t p = e ? PIPEC_NONE : sema_param_index(S, name);
    if (e && e->bind->fanout != PIPEC_NONE) {
      ast_value at = {.kind = AST_STRING,
                      .loc = sema_str_span(S, v, i, nlen + 3)};
      if (memchr(t, '\x01', v->u.s.len) || memchr(t, '\x02', v->u.s.len)) {
        sema_error(S, "bad-interpolation", v->loc,
                   "a string using a run-time item cannot hold the bytes "
                   "\\x01 or \\x02");
        ok = false;
      } else if (runtime_value(S, e, &at, PIPEC_T_STRING,
                               sema_what(S, "'${%s}'", name))) {
        sb_add(S, &b, "\x01", 1);
        sb_add(S, &b, name, nlen);
        sb_add(S, &b, "\x02", 1);
        deferred = true;
      } else {
        ok = false;
      }
    } else if (!e && p == PIPEC_NONE) {
      pipec_diag *g;
      if (S->env) {
        uint32_t nn;
        const char **names = param_and_var_names(S, &nn);
        g = sema_error(S, "unknown-name", sema_str_span(S, v, nstart, nlen),
                       "unknown param or loop variable '%s' in '${}'",
                       name);
        sema_suggest(g, name, names, nn);
      } else {
        g = sema_error(S, "unknown-name", sema_str_span(S, v, nstart, nlen),
                       "unknown param '%s' in '${}'", name);
        sema_suggest(g, name, param_names(S), S->n_params);
      }
      ok = false;
    } else if (e || resolve_param(S, p)) {
      if (p != PIPEC_NONE)
        S->params[p].used = true;
      const char *val = e ? e->text : literal_text(S->a, &S->params[p].value);
      if (tmpl && !plain_word(val)) {
        /* pasted into a command as is, it could be shell syntax */
        pipec_diag *g = sema_error(
            S, "unsafe-interpolation", sema_str_span(S, v, i, nlen + 3),
            "param '%s' = \"%s\" cannot be pasted into a command: it holds "
            "characters the shell would interpret",
            name, val);
        pipec_diag_hint(g, "pass it as an argument (shell(..., %s = %s)) or "
                           "a component param and write {%s}: placeholders "
                           "are quoted for the shell",
                        name, name, name);
        ok = false;
        i = nstart + nlen + 1;
        continue;
      }
      for (const char *q = val; *q; q++)
        if (tmpl && (*q == '{' || *q == '}'))
          sb_add(S, &b, q, 1), sb_add(S, &b, q, 1);
        else
          sb_add(S, &b, q, 1);
    } else {
      ok = false;
    }
    i = nstart + nlen + 1;
  }
  if (!ok)
    return NULL;
  if (!deferred)
    return b.p;
  S->deferred = true;
  S->defer_text = finish_deferred(S, b.p);
  return S->defer_text;
}

/* A reference used as a value: a pipeline param (never a node output). */
/* The fit rules of a value of type `have` given where `want` is asked. */
static bool type_fits(pipec_type have, pipec_type want) {
  return have == want || (have == PIPEC_T_INT && want == PIPEC_T_FLOAT) ||
         (have == PIPEC_T_STRING && want == PIPEC_T_PATH) ||
         (have == PIPEC_T_PATH && want == PIPEC_T_STRING);
}

static pipec_value convert(pipec_value pv, pipec_type want) {
  if (pv.type == PIPEC_T_INT && want == PIPEC_T_FLOAT)
    pv = (pipec_value){.type = PIPEC_T_FLOAT, .u.f = (double)pv.u.i};
  pv.type = want;
  return pv;
}

/* A loop variable used as a value. */
static bool var_value(sema *S, const senv *e, const ast_value *v,
                      pipec_type want, const char *what, pipec_value *out) {
  if (v->u.ref.member) {
    pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                               "'%s' is a loop variable; it has no '.%s'",
                               e->bind->var, v->u.ref.member);
    pipec_diag_hint(g, "a loop variable is one item of its SOURCE");
    return false;
  }
  if (e->bind->fanout != PIPEC_NONE) {
    if (!runtime_value(S, e, v, want, what))
      return false;
    *out = (pipec_value){.type = want};
    S->defer_text = arena_printf(S->a, "${%s}", e->bind->var);
    return true;
  }
  pipec_value pv = e->value;
  if (want == PIPEC_T_LIST || !type_fits(pv.type, want)) {
    pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                               "%s is %s, but loop variable '%s' is %s", what,
                               a_type(want), e->bind->var, a_type(pv.type));
    if (want == PIPEC_T_LIST)
      pipec_diag_hint(g, "a loop variable is one item; a list param or "
                         "[a, b] gives a list");
    return false;
  }
  *out = convert(pv, want);
  return true;
}

static bool ref_value(sema *S, const ast_value *v, pipec_type want,
                      const char *what, pipec_value *out) {
  const char *name = v->u.ref.name;
  const senv *e = sema_env_find(S->env, name);
  if (e)
    return var_value(S, e, v, want, what, out);
  uint32_t p = sema_param_index(S, name);
  if (p == PIPEC_NONE || v->u.ref.member) {
    if (sema_node_index(S, name) != PIPEC_NONE) {
      pipec_diag *g = sema_error(
          S, "output-as-param", v->loc,
          "%s takes a value, not the output of node '%s'", what, name);
      pipec_diag_hint(g, "node outputs connect to input ports; params take "
                         "literals or pipeline params");
      return false;
    }
    if (name_map_get(&S->fam_map, name) != PIPEC_NONE) {
      pipec_diag *g = sema_error(
          S, "output-as-param", v->loc,
          "%s takes a value, not the outputs of family '%s'", what, name);
      pipec_diag_hint(g, "node outputs connect to input ports; keys(%s) "
                         "gives its keys",
                      name);
      return false;
    }
    pipec_diag *g;
    if (S->env) {
      uint32_t nn;
      const char **names = param_and_var_names(S, &nn);
      g = sema_error(S, "unknown-name", v->u.ref.name_loc,
                     "unknown param or loop variable '%s'", name);
      sema_suggest(g, name, names, nn);
    } else {
      g = sema_error(S, "unknown-name", v->u.ref.name_loc,
                     "unknown param '%s'", name);
      sema_suggest(g, name, param_names(S), S->n_params);
    }
    if (!g->hint && want != PIPEC_T_INT && want != PIPEC_T_FLOAT &&
        want != PIPEC_T_BOOL)
      pipec_diag_hint(g, "write \"%s\" for a string", name);
    return false;
  }
  if (!resolve_param(S, p))
    return false;
  S->params[p].used = true;
  pipec_value pv = S->params[p].value;
  pipec_type have = pv.type;
  if (!type_fits(have, want)) {
    sema_error(S, "type-mismatch", v->loc,
               "%s is %s, but param '%s' is %s", what, a_type(want), name,
               a_type(have));
    return false;
  }
  *out = convert(pv, want);
  return true;
}

/* A list param given where a list of elem is asked: its items fit. */
static bool list_ref_value(sema *S, const ast_value *v, pipec_type elem,
                           const char *what, pipec_value *out) {
  if (!ref_value(S, v, PIPEC_T_LIST, what, out))
    return false;
  if (elem == SEMA_ELEM_ANY)
    return true;
  pipec_type have = out->u.list.elem;
  if (have == elem || out->u.list.n == 0) {
    out->u.list.elem = elem;
    return true;
  }
  if (!type_fits(have, elem)) {
    sema_error(S, "type-mismatch", v->loc, "%s is %s, but param '%s' is %s",
               what, pipec_type_text(PIPEC_T_LIST, elem), v->u.ref.name,
               pipec_type_text(PIPEC_T_LIST, have));
    return false;
  }
  pipec_value *items = arena_alloc(S->a, (out->u.list.n + 1) *
                                             sizeof *items);
  for (uint32_t i = 0; i < out->u.list.n; i++)
    items[i] = convert(out->u.list.items[i], elem);
  out->u.list.items = items;
  out->u.list.elem = elem;
  return true;
}

static bool list_value(sema *S, const ast_value *v, const char *what,
                       pipec_value *out) {
  pipec_value *items = arena_alloc(S->a, (v->u.list.n + 1) * sizeof *items);
  bool ok = true;
  for (uint32_t i = 0; i < v->u.list.n; i++) {
    const ast_value *it = v->u.list.items[i];
    switch (it->kind) {
    case AST_INT:
      items[i] = (pipec_value){.type = PIPEC_T_INT, .u.i = it->u.i};
      break;
    case AST_FLOAT:
      items[i] = (pipec_value){.type = PIPEC_T_FLOAT, .u.f = it->u.f};
      break;
    case AST_BOOL:
      items[i] = (pipec_value){.type = PIPEC_T_BOOL, .u.b = it->u.b};
      break;
    case AST_STRING: {
      const char *s = sema_string(S, it, false);
      ok &= s != NULL;
      items[i] = (pipec_value){.type = PIPEC_T_STRING, .u.s = s ? s : ""};
      break;
    }
    case AST_REF: {
      /* a scalar param or loop variable: the item takes its type */
      const senv *e = sema_env_find(S->env, it->u.ref.name);
      uint32_t p = sema_param_index(S, it->u.ref.name);
      pipec_type t = e && e->bind->fanout == PIPEC_NONE ? e->value.type
                     : p != PIPEC_NONE                 ? S->params[p].type
                                                       : PIPEC_T_STRING;
      if (t == PIPEC_T_LIST) {
        sema_error(S, "type-mismatch", it->loc,
                   "a list cannot hold the list param '%s'",
                   it->u.ref.name);
        ok = false;
        break;
      }
      ok &= ref_value(S, it, t, what, &items[i]);
      break;
    }
    default:
      sema_error(S, "type-mismatch", it->loc,
                 "items of a list are ints, floats, bools or strings, not "
                 "%s", kind_name(it));
      ok = false;
    }
  }
  *out = (pipec_value){.type = PIPEC_T_LIST,
                       .u.list = {items, v->u.list.n, PIPEC_T_STRING}};
  return ok;
}

/* [a, b, c] where a list of elem is asked: every item an elem. */
static bool typed_list_value(sema *S, const ast_value *v, pipec_type elem,
                             const char *what, pipec_value *out) {
  pipec_value *items = arena_alloc(S->a, (v->u.list.n + 1) * sizeof *items);
  bool ok = true;
  for (uint32_t i = 0; i < v->u.list.n; i++) {
    const ast_value *it = v->u.list.items[i];
    if (it->kind == AST_LIST || it->kind == AST_MAP ||
        it->kind == AST_MEMBER || it->kind == AST_CALL) {
      sema_error(S, "type-mismatch", it->loc,
                 "items of a list are ints, floats, bools or strings, not "
                 "%s", kind_name(it));
      ok = false;
      continue;
    }
    char w[512]; /* not sema_what: what it calls reuses that buffer */
    snprintf(w, sizeof w, "item %u of %s", i + 1, what);
    bool was = S->deferred;
    S->deferred = false;
    ok &= sema_value(S, it, elem, false, w, &items[i]);
    if (S->deferred) {
      sema_error(S, "runtime-item", it->loc,
                 "%s uses a run-time item; a list is known when the "
                 "pipeline compiles",
                 w);
      ok = false;
    }
    S->deferred = was;
  }
  *out = (pipec_value){.type = PIPEC_T_LIST,
                       .u.list = {items, v->u.list.n, elem}};
  return ok;
}

bool sema_value_list(sema *S, const ast_value *v, pipec_type want,
                     pipec_type elem, bool tmpl, const char *what,
                     pipec_value *out) {
  if (want != PIPEC_T_LIST)
    return sema_value(S, v, want, tmpl, what, out);
  out->type = want;
  if (elem == SEMA_ELEM_ANY && v->kind != AST_CALL)
    return sema_value(S, v, want, tmpl, what, out); /* v1: any scalars */
  if (v->kind == AST_REF)
    return list_ref_value(S, v, elem, what, out);
  if (v->kind == AST_LIST)
    return typed_list_value(S, v, elem, what, out);
  if (v->kind == AST_CALL && strcmp(v->u.call.fn, "keys") == 0) {
    if (!sema_keys_value(S, v, what, out))
      return false;
    if (elem != PIPEC_T_STRING && elem != SEMA_ELEM_ANY) {
      sema_error(S, "type-mismatch", v->loc, "%s is %s, but keys() gives "
                 "[string]", what, pipec_type_text(PIPEC_T_LIST, elem));
      return false;
    }
    return true;
  }
  return sema_value(S, v, want, tmpl, what, out);
}

/* A family member, a gather or a call given where a value is asked. */
static bool not_a_value(sema *S, const ast_value *v, pipec_type want,
                        const char *what, pipec_value *out) {
  if (v->kind == AST_CALL && strcmp(v->u.call.fn, "keys") == 0) {
    if (!sema_keys_value(S, v, what, out))
      return false;
    if (want == PIPEC_T_LIST)
      return true;
    pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                               "%s is %s, but keys() gives a list", what,
                               a_type(want));
    pipec_diag_hint(g, "a list param takes it: param NAME : [string]");
    return false;
  }
  if (v->kind == AST_CALL && (strcmp(v->u.call.fn, "file") == 0 ||
                              strcmp(v->u.call.fn, "dir") == 0)) {
    pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                               "%s takes a value, but %s(...) is a source "
                               "for an input port",
                               what, v->u.call.fn);
    pipec_diag_hint(g, "a path param takes the path as a string: \"...\"");
    return false;
  }
  if (v->kind == AST_CALL) {
    pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                               "%s takes a value, not %s(...)", what,
                               v->u.call.fn);
    pipec_diag_hint(g, "keys(NAME) is the only call that gives a value");
    return false;
  }
  pipec_diag *g = sema_error(
      S, "output-as-param", v->loc,
      "%s takes a value, not the output of family '%s'", what,
      v->u.fam->name);
  pipec_diag_hint(g, "node outputs connect to input ports; params take "
                     "literals or pipeline params");
  return false;
}

bool sema_value(sema *S, const ast_value *v, pipec_type want, bool tmpl,
                const char *what, pipec_value *out) {
  out->type = want;
  if (v->kind == AST_REF)
    return ref_value(S, v, want, what, out);
  if (v->kind == AST_MEMBER || v->kind == AST_CALL)
    return not_a_value(S, v, want, what, out);
  switch (want) {
  case PIPEC_T_INT:
    if (v->kind == AST_INT) {
      out->u.i = v->u.i;
      return true;
    }
    break;
  case PIPEC_T_FLOAT:
    if (v->kind == AST_INT || v->kind == AST_FLOAT) {
      out->u.f = v->kind == AST_INT ? (double)v->u.i : v->u.f;
      return true;
    }
    break;
  case PIPEC_T_BOOL:
    if (v->kind == AST_BOOL) {
      out->u.b = v->u.b;
      return true;
    }
    break;
  case PIPEC_T_STRING:
  case PIPEC_T_PATH:
    if (v->kind == AST_STRING) {
      out->u.s = sema_string(S, v, tmpl);
      return out->u.s != NULL;
    }
    break;
  case PIPEC_T_LIST:
    if (v->kind == AST_LIST)
      return list_value(S, v, what, out);
    break;
  }
  pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                             "%s is %s, but the value is %s", what,
                             a_type(want), kind_name(v));
  if (v->kind == AST_STRING && (want == PIPEC_T_INT || want == PIPEC_T_FLOAT))
    pipec_diag_hint(g, "numbers are written without quotes");
  else if (v->kind == AST_STRING && want == PIPEC_T_BOOL)
    pipec_diag_hint(g, "write true or false, without quotes");
  else if (want == PIPEC_T_STRING || want == PIPEC_T_PATH)
    pipec_diag_hint(g, "strings are written in double quotes");
  else if (want == PIPEC_T_LIST)
    pipec_diag_hint(g, "write a list as [a, b, c]");
  return false;
}

static bool units_value(sema *S, const ast_value *v, const char *what,
                        bool size, int64_t *out) {
  if (v->kind == AST_INT && v->u.i >= 0) {
    *out = v->u.i;
    return true;
  }
  const char *s = NULL;
  if (v->kind == AST_STRING)
    s = sema_string(S, v, false);
  else if (v->kind == AST_REF) {
    pipec_value pv;
    if (!ref_value(S, v, PIPEC_T_STRING, what, &pv))
      return false;
    s = pv.u.s;
  }
  if (s && (size ? units_size(s, out) : units_duration(s, out)) == 0)
    return true;
  if (v->kind == AST_STRING && !s)
    return false;
  pipec_diag *g;
  if (s)
    g = sema_error(S, size ? "bad-size" : "bad-duration", v->loc,
                   "bad %s \"%s\" for %s", size ? "size" : "duration", s,
                   what);
  else
    g = sema_error(S, size ? "bad-size" : "bad-duration", v->loc,
                   "%s is a %s, but the value is %s", what,
                   size ? "size" : "duration", kind_name(v));
  pipec_diag_hint(g, size ? "sizes look like \"512M\", \"8G\", \"1.5T\" or "
                            "a number of bytes"
                          : "durations look like \"45s\", \"20m\", "
                            "\"1h30m\", \"2d\" or \"HH:MM:SS\"");
  return false;
}

bool sema_duration(sema *S, const ast_value *v, const char *what,
                   int64_t *out) {
  return units_value(S, v, what, false, out);
}

bool sema_size(sema *S, const ast_value *v, const char *what, int64_t *out) {
  return units_value(S, v, what, true, out);
}

typedef struct tcheck {
  sema *S;
  const ast_value *v;
  const char *const *names;
  uint32_t n;
  const char *owner;
  name_map *map;             /* interned names, when there are many */
} tcheck;

static int check_ref(void *ctx, const char *name, size_t len, size_t off) {
  tcheck *c = ctx;
  if (len == 9 && memcmp(name, "moduledir", 9) == 0)
    return 0; /* built in: the declaring file's directory */
  if (c->map) {
    if (name_map_get(c->map, arena_intern(c->S->a, name, len)) != PIPEC_NONE)
      return 0;
  } else {
    for (uint32_t i = 0; i < c->n; i++)
      if (strlen(c->names[i]) == len && memcmp(c->names[i], name, len) == 0)
        return 0;
  }
  const char *nm = arena_strndup(c->S->a, name, len);
  ast_loc loc = sema_str_span(c->S, c->v, (uint32_t)off - 1, (uint32_t)len + 2);
  pipec_diag *g = sema_error(c->S, "bad-placeholder", loc,
                             "unknown placeholder '{%s}' in the command of %s",
                             nm, c->owner);
  char known[512] = "";
  size_t k = 0;
  for (uint32_t i = 0; i < c->n && k < sizeof known; i++)
    k += (size_t)snprintf(known + k, sizeof known - k, "%s{%s}",
                          i ? ", " : "", c->names[i]);
  sema_suggest(g, nm, c->names, c->n);
  if (!g->hint)
    pipec_diag_hint(g, c->n ? "known placeholders: %s; write '{{' for a "
                              "literal '{'"
                            : "%sthis command has no ports or params; write "
                              "'{{' for a literal '{'",
                    known);
  return 0;
}

void sema_check_template(sema *S, const ast_value *v, const char *const *names,
                         uint32_t n, const char *owner) {
  if (v->kind != AST_STRING)
    return;
  /* mask ${...} (interpolation, checked elsewhere) so offsets stay those of
   * the literal's text; without one the text is checked as it is (a
   * million shell nodes need no copy of their commands) */
  const char *t = v->u.s.text;
  if (strstr(t, "${")) {
    char *m = arena_strndup(S->a, v->u.s.text, v->u.s.len);
    for (char *p = m; *p; p++)
      if (p[0] == '$' && p[1] == '{')
        p[1] = '#';
    t = m;
  }
  tcheck c = {S, v, names, n, owner, NULL};
  name_map map = {0};
  if (n > 16) { /* 10k ports, 10k placeholders: stay linear */
    for (uint32_t i = 0; i < n; i++)
      name_map_put(S->a, &map, arena_intern_cstr(S->a, names[i]), i);
    c.map = &map;
  }
  pipec_template_refs(t, check_ref, &c);
}

/* ---- pipeline params ---------------------------------------------- */

static bool resolve_param(sema *S, uint32_t i) {
  sparam *p = &S->params[i];
  if (p->state == 2)
    return p->ok;
  if (p->state == 1) {
    sema_error(S, "cycle", p->decl->loc,
               "param '%s' is defined in terms of itself", p->decl->name);
    p->state = 2;
    p->ok = false;
    return false;
  }
  p->state = 1;
  p->ok = false;
  const char *what = arena_printf(S->a, "param '%s'", p->decl->name);
  if (!p->type_ok) {
  } else if (p->override) {
    char err[256];
    if ((p->type == PIPEC_T_LIST && p->elem != SEMA_ELEM_ANY
             ? literal_parse_list(S->a, p->override, p->elem, false,
                                  &p->value, err, sizeof err)
             : literal_parse(S->a, p->override, p->type, false, &p->value,
                             err, sizeof err)) == 0)
      p->ok = true;
    else
      pipec_diag_add(S->d, PIPEC_SEV_ERROR, "bad-override", -1, 0, 0,
                     "-p %s=%s: %s", p->decl->name, p->override, err);
  } else if (p->decl->def) {
    p->ok = sema_value_list(S, p->decl->def, p->type, p->elem, false, what,
                            &p->value);
  } else {
    pipec_diag *g = sema_error(S, "missing-param", p->decl->loc,
                               "param '%s' has no default and no value was "
                               "given",
                               p->decl->name);
    pipec_diag_hint(g, "give one with -p %s=VALUE", p->decl->name);
  }
  p->state = 2;
  return p->ok;
}

static const char *const type_names[] = {"int",    "float", "bool",
                                         "string", "path",  "list"};

bool sema_param_type(sema *S, const ast_param *d, pipec_type *type,
                     pipec_type *elem) {
  *elem = PIPEC_T_STRING;
  if (!d->list) {
    if (pipec_type_parse(d->type, type) != 0) {
      pipec_diag *g = sema_error(S, "unknown-type", d->type_loc,
                                 "unknown type '%s'", d->type);
      sema_suggest(g, d->type, type_names, 6);
      if (!g->hint)
        pipec_diag_hint(g, "param types are int, float, bool, string, path "
                           "and list");
      return false;
    }
    if (*type == PIPEC_T_LIST)
      *elem = SEMA_ELEM_ANY; /* `list`: [string], with v1's any scalar */
    return true;
  }
  *type = PIPEC_T_LIST;
  static const char *const items[] = {"int", "float", "string", "path"};
  for (uint32_t i = 0; i < 4; i++)
    if (strcmp(d->type, items[i]) == 0) {
      pipec_type_parse(items[i], elem);
      return true;
    }
  pipec_diag *g = sema_error(S, "unknown-type", d->type_loc,
                             "unknown list type '[%s]'", d->type);
  sema_suggest(g, d->type, items, 4);
  if (!g->hint)
    pipec_diag_hint(g, "list types are [int], [float], [string] and [path]");
  return false;
}

void sema_params(sema *S) {
  const ast_pipeline *ap = S->ap;
  S->n_params = ap->params.n;
  S->params = arena_alloc(S->a, (ap->params.n + 1) * sizeof *S->params);
  for (uint32_t i = 0; i < ap->params.n; i++) {
    const ast_param *d = &ap->params.items[i];
    sparam *p = &S->params[i];
    p->decl = d;
    uint32_t first = name_map_get(&S->param_map, d->name);
    if (first != PIPEC_NONE) {
      sema_error(S, "duplicate-name", d->loc, "param '%s' is declared twice",
                 d->name);
      sema_note(S, ap->params.items[first].loc, "'%s' was first declared here",
                d->name);
    } else {
      name_map_put(S->a, &S->param_map, d->name, i);
    }
    p->type_ok = sema_param_type(S, d, &p->type, &p->elem);
  }
  /* -p NAME=VALUE */
  const pipec_compile_opts *o = S->opts;
  for (uint32_t i = 0; i < o->n_overrides; i++) {
    const char *ov = o->overrides[i];
    const char *eq = strchr(ov, '=');
    if (!eq) {
      pipec_diag_add(S->d, PIPEC_SEV_ERROR, "bad-override", -1, 0, 0,
                     "-p %s: expected NAME=VALUE", ov);
      continue;
    }
    const char *name = arena_intern(S->a, ov, (size_t)(eq - ov));
    uint32_t p = sema_param_index(S, name);
    if (p == PIPEC_NONE) {
      pipec_diag *g = pipec_diag_add(S->d, PIPEC_SEV_ERROR, "unknown-param",
                                     -1, 0, 0,
                                     "-p %s: pipeline '%s' has no param '%s'",
                                     ov, S->ap->name, name);
      sema_suggest(g, name, param_names(S), S->n_params);
      continue;
    }
    S->params[p].override = eq + 1;
  }
  for (uint32_t i = 0; i < S->n_params; i++)
    resolve_param(S, i);
}

/*
 * sema.c — semantic analysis (sema.h): find the pipeline, gather the
 * components it can use, check every node against its component, wire the
 * edges, order the nodes and lower everything to the IR.
 *
 * Values and params are in sema_value.c, targets and node settings in
 * sema_target.c. Every check reports and goes on, so one compilation shows
 * every error it can.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "editdist.h"
#include "literal.h"
#include "ir_alloc.h"
#include "ir_index.h"
#include "path.h"
#include "pipec/template.h"
#include "sema_int.h"

/* ---- diagnostics ---------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t x) {
  h ^= x + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
  return h * 0xff51afd7ed558ccdull;
}

/* Count key in set; returns the count before. */
static uint32_t dedupe_bump(sdedupe *t, uint64_t key) {
  key |= 1; /* never 0: that marks an empty slot */
  if ((t->n + 1) * 2 > t->cap) {
    sdedupe big = {0};
    big.cap = t->cap ? t->cap * 2 : 64;
    big.keys = calloc(big.cap, sizeof *big.keys);
    big.counts = calloc(big.cap, sizeof *big.counts);
    if (!big.keys || !big.counts)
      arena_oom(big.cap * sizeof *big.keys);
    for (uint32_t i = 0; i < t->cap; i++)
      if (t->keys[i]) {
        uint32_t k = (uint32_t)(t->keys[i] >> 17) & (big.cap - 1);
        while (big.keys[k])
          k = (k + 1) & (big.cap - 1);
        big.keys[k] = t->keys[i];
        big.counts[k] = t->counts[i];
      }
    big.n = t->n;
    free(t->keys);
    free(t->counts);
    *t = big;
  }
  uint32_t k = (uint32_t)(key >> 17) & (t->cap - 1);
  while (t->keys[k] && t->keys[k] != key)
    k = (k + 1) & (t->cap - 1);
  if (!t->keys[k]) {
    t->keys[k] = key;
    t->n++;
  }
  return t->counts[k]++;
}

/* Distinct messages given at one place of a loop body before the rest
 * are left out. */
#define DEDUPE_PER_PLACE 5

static pipec_diag *vdiag(sema *S, pipec_severity sev, const char *code,
                         ast_loc loc, const char *fmt, va_list ap) {
  char msg[1024];
  vsnprintf(msg, sizeof msg, fmt, ap);
  if (S->dedupe_on) {
    /* a loop body is checked once per item: say each thing once */
    uint64_t at = mix(mix(mix((uintptr_t)code, (uint64_t)loc.file + 1),
                          loc.off),
                      loc.len);
    uint64_t h = at;
    for (const char *c = msg; *c; c++)
      h = mix(h, (unsigned char)*c);
    bool drop = dedupe_bump(&S->seen_msg, h) > 0;
    if (!drop) {
      uint32_t given = dedupe_bump(&S->seen_at, at);
      drop = given >= DEDUPE_PER_PLACE;
      if (given == DEDUPE_PER_PLACE && sev == PIPEC_SEV_ERROR)
        pipec_diag_add(S->d, PIPEC_SEV_NOTE, "note", loc.file, loc.off,
                       loc.len, "more errors like these, for other items of "
                                "the loop, are not shown");
    }
    if (drop) { /* the first of its kind was counted: the compile fails */
      free(S->sink.hint);
      S->sink = (pipec_diag){.severity = sev, .code = code, .file = -1};
      return &S->sink;
    }
  }
  return pipec_diag_add(S->d, sev, code, loc.file, loc.off, loc.len, "%s",
                        msg);
}

pipec_diag *sema_error(sema *S, const char *code, ast_loc loc,
                       const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pipec_diag *g = vdiag(S, PIPEC_SEV_ERROR, code, loc, fmt, ap);
  va_end(ap);
  return g;
}

pipec_diag *sema_warning(sema *S, const char *code, ast_loc loc,
                         const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  pipec_diag *g = vdiag(S, PIPEC_SEV_WARNING, code, loc, fmt, ap);
  va_end(ap);
  return g;
}

void sema_note(sema *S, ast_loc loc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vdiag(S, PIPEC_SEV_NOTE, "note", loc, fmt, ap);
  va_end(ap);
}

void sema_suggest(pipec_diag *g, const char *word, const char *const *words,
                  uint32_t n) {
  const char *best = editdist_suggest(word, words, n);
  if (best)
    pipec_diag_hint(g, "did you mean '%s'?", best);
}

const char *sema_what(sema *S, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(S->what, S->what_cap, fmt, ap);
  va_end(ap);
  if (n >= 0 && (size_t)n >= S->what_cap) {
    size_t cap = (size_t)n + 1 > 256 ? (size_t)n + 1 : 256;
    char *b = realloc(S->what, cap);
    if (!b)
      arena_oom(cap);
    S->what = b;
    S->what_cap = cap;
    va_start(ap, fmt);
    vsnprintf(S->what, S->what_cap, fmt, ap);
    va_end(ap);
  }
  return n >= 0 ? S->what : "?";
}

void sema_tmp_grow(void **items, uint32_t *cap, size_t size) {
  uint32_t ncap = *cap ? *cap * 2 : 16;
  void *b = ncap > *cap ? realloc(*items, (size_t)ncap * size) : NULL;
  if (!b)
    arena_oom((size_t)ncap * size);
  *items = b;
  *cap = ncap;
}

/* A copy of items[0..n) in the arena, exactly as big as needed. */
static void *arena_copy(arena *a, const void *items, uint32_t n, size_t size) {
  void *p = arena_alloc(a, (size_t)n * size);
  if (n)
    memcpy(p, items, (size_t)n * size);
  return p;
}

/* wire_node's per-node arrays: one malloc'd block, grown as needed. */
static void *scratch(sema *S, size_t size) {
  if (size > S->scratch_cap) {
    size_t cap = size > 2 * S->scratch_cap ? size : 2 * S->scratch_cap;
    void *b = realloc(S->scratch, cap);
    if (!b)
      arena_oom(cap);
    S->scratch = b;
    S->scratch_cap = cap;
  }
  memset(S->scratch, 0, size);
  return S->scratch;
}

static uint32_t name_slot(const name_map *m, const char *key) {
  uintptr_t h = (uintptr_t)key;
  h ^= h >> 17;
  h *= 0x9E3779B97F4A7C15ull;
  uint32_t i = (uint32_t)(h >> 32) & (m->cap - 1);
  while (m->keys[i] && m->keys[i] != key)
    i = (i + 1) & (m->cap - 1);
  return i;
}

void name_map_put(arena *a, name_map *m, const char *key, uint32_t val) {
  if ((m->n + 1) * 2 > m->cap) {
    name_map bigger = {0};
    bigger.cap = m->cap ? m->cap * 2 : 64;
    bigger.keys = arena_alloc(a, bigger.cap * sizeof *bigger.keys);
    bigger.vals = arena_alloc(a, bigger.cap * sizeof *bigger.vals);
    for (uint32_t i = 0; i < m->cap; i++)
      if (m->keys[i])
        name_map_put(a, &bigger, m->keys[i], m->vals[i]);
    arena_release(a, m->keys, m->cap * sizeof *m->keys);
    arena_release(a, m->vals, m->cap * sizeof *m->vals);
    *m = bigger;
  }
  uint32_t i = name_slot(m, key);
  if (!m->keys[i])
    m->n++;
  m->keys[i] = key;
  m->vals[i] = val;
}

uint32_t name_map_get(const name_map *m, const char *key) {
  if (!m->cap)
    return PIPEC_NONE;
  uint32_t i = name_slot(m, key);
  return m->keys[i] ? m->vals[i] : PIPEC_NONE;
}

uint32_t sema_param_index(const sema *S, const char *name) {
  return name_map_get(&S->param_map, name);
}

uint32_t sema_node_index(const sema *S, const char *name) {
  return name_map_get(&S->node_map, name);
}

uint32_t sema_fam_index(const sema *S, const char *name) {
  return name_map_get(&S->fam_map, name);
}

pipec_srcloc sema_srcloc(sema *S, ast_loc loc) {
  uint32_t line, col;
  pipec_diags_linecol(S->d, loc.file, loc.off, &line, &col);
  /* the diagnostics' copy of the path dies with them; the IR keeps its own */
  return (pipec_srcloc){arena_intern_cstr(S->a, S->d->srcs[loc.file].path),
                        line, col};
}

/* Up to this many names are searched in turn; more are hashed. */
#define SMALL_SET 16

/* ---- components ----------------------------------------------------- */

uint32_t sema_comp_index(const sema *S, const char *name) {
  for (uint32_t i = 0; i < S->comps.n; i++)
    if (S->comps.items[i].name == name)
      return i;
  return PIPEC_NONE;
}

static const char **comp_names(sema *S) {
  const char **names = arena_alloc(S->a, (S->comps.n + 1) * sizeof *names);
  for (uint32_t i = 0; i < S->comps.n; i++)
    names[i] = S->comps.items[i].name;
  return names;
}

static void add_user_component(sema *S, const ast_component *c,
                               const ast_file *f) {
  uint32_t prev = sema_comp_index(S, c->name);
  if (prev != PIPEC_NONE) {
    const scomp *p = &S->comps.items[prev];
    if (!p->ast) {
      sema_error(S, "duplicate-name", c->loc,
                 "component '%s' is a built-in; choose another name",
                 c->name);
    } else {
      sema_error(S, "duplicate-name", c->loc,
                 "component '%s' is declared twice", c->name);
      sema_note(S, p->ast->loc, "'%s' was first declared here", c->name);
    }
    return;
  }
  scomp sc = {.name = c->name, .ast = c, .file = f, .index = PIPEC_NONE};
  VEC_PUSH(S->a, S->comps, sc);
}

static void gather_components(sema *S) {
  const pipec_registry *r = S->opts->registry;
  for (uint32_t i = 0; r && i < r->n; i++) {
    const char *name = arena_intern_cstr(S->a, r->items[i]->name);
    const char *origin = r->origins ? r->origins[i] : NULL;
    if (sema_comp_index(S, name) != PIPEC_NONE) {
      pipec_diag_add(S->d, PIPEC_SEV_ERROR, "duplicate-name", -1, 0, 0,
                     "plugin '%s' defines component '%s', which already "
                     "exists",
                     origin ? origin : "?", name);
      continue;
    }
    scomp sc = {.name = name, .desc = r->items[i], .index = PIPEC_NONE,
                .plugin = origin ? path_relative(S->a, S->main_dir, origin)
                                 : NULL};
    VEC_PUSH(S->a, S->comps, sc);
  }
  const ast_file *m = S->u->main;
  for (uint32_t i = 0; i < m->components.n; i++)
    add_user_component(S, m->components.items[i], m);
  for (uint32_t f = 0; f < S->u->n_imports; f++) {
    const ast_file *imp = S->u->imports[f];
    for (uint32_t i = 0; i < imp->components.n; i++)
      add_user_component(S, imp->components.items[i], imp);
  }
  for (uint32_t i = 0; i < S->ap->components.n; i++)
    add_user_component(S, S->ap->components.items[i], m);
}

static void lower_builtin(sema *S, scomp *c) {
  const pipec_component_desc *d = c->desc;
  pipec_component *ir = &c->ir;
  ir->name = c->name;
  ir->kind = PIPEC_COMP_BUILTIN;
  ir->version = d->version;
  ir->desc = d;
  ir->plugin = c->plugin;
  ir->moduledir = ".";
  ir->n_inputs = d->n_inputs;
  ir->inputs = arena_alloc(S->a, (d->n_inputs + 1) * sizeof *ir->inputs);
  for (uint32_t i = 0; i < d->n_inputs; i++)
    ir->inputs[i] = (pipec_port_decl){
        .name = arena_intern_cstr(S->a, d->inputs[i].name),
        .type = d->inputs[i].type};
  ir->n_outputs = d->n_outputs;
  ir->outputs = arena_alloc(S->a, (d->n_outputs + 1) * sizeof *ir->outputs);
  for (uint32_t i = 0; i < d->n_outputs; i++)
    ir->outputs[i] = (pipec_port_decl){
        .name = arena_intern_cstr(S->a, d->outputs[i].name),
        .type = d->outputs[i].type};
  ir->n_params = d->n_params;
  ir->params = arena_alloc(S->a, (d->n_params + 1) * sizeof *ir->params);
  c->ok = true;
  for (uint32_t i = 0; i < d->n_params; i++) {
    pipec_param_decl *p = &ir->params[i];
    p->name = arena_intern_cstr(S->a, d->params[i].name);
    p->type = d->params[i].type;
    p->elem = SEMA_ELEM_ANY; /* the built-ins' lists hold names (v1: any
                                scalar); PIPEC_T_STRING in the IR */
    p->has_default = d->params[i].default_literal != NULL;
    char err[256];
    if (p->has_default &&
        literal_parse(S->a, d->params[i].default_literal, p->type, true,
                      &p->def, err, sizeof err) != 0) {
      pipec_diag_add(S->d, PIPEC_SEV_ERROR, "bad-component", -1, 0, 0,
                     "built-in component '%s': default of '%s': %s", c->name,
                     p->name, err);
      c->ok = false;
    }
  }
}

static const char *const port_type_names[] = {"table", "file", "model",
                                              "json", "dir"};

/* A named output file: one plain file name. */
static bool plain_filename(const char *f) {
  return *f && !strchr(f, '/') && strcmp(f, ".") != 0 &&
         strcmp(f, "..") != 0 && strlen(f) < 256;
}

static bool lower_ports(sema *S, const ast_port *ports, uint32_t n,
                        bool outputs, pipec_port_decl **out) {
  bool ok = true;
  *out = arena_alloc(S->a, (n + 1) * sizeof **out);
  for (uint32_t i = 0; i < n; i++) {
    pipec_port_decl *d = &(*out)[i];
    d->name = ports[i].name;
    d->list = ports[i].list;
    if (pipec_port_type_parse(ports[i].type, &d->type) != 0) {
      pipec_diag *g = sema_error(S, "unknown-type", ports[i].type_loc,
                                 "unknown port type '%s'", ports[i].type);
      sema_suggest(g, ports[i].type, port_type_names, 5);
      if (!g->hint)
        pipec_diag_hint(g, "port types are table, file, model, json and dir");
      ok = false;
    }
    if (outputs && d->list) {
      pipec_diag *g = sema_error(S, "list-output", ports[i].type_loc,
                                 "output '%s' is a list; a command writes "
                                 "each output to one path",
                                 d->name);
      pipec_diag_hint(g, "write the files into a dir output: %s: dir",
                      d->name);
      ok = false;
    }
    if (!ports[i].filename)
      continue;
    if (!outputs) {
      pipec_diag *g = sema_error(S, "bad-filename", ports[i].filename_loc,
                                 "input '%s' names a file; only outputs do",
                                 d->name);
      pipec_diag_hint(g, "an input's path is the file it is wired to");
      ok = false;
    } else if (!plain_filename(ports[i].filename)) {
      pipec_diag *g = sema_error(S, "bad-filename", ports[i].filename_loc,
                                 "output '%s' is named \"%s\", which is not "
                                 "a plain file name",
                                 d->name, ports[i].filename);
      pipec_diag_hint(g, "name the file only, without a directory: "
                         "\"aligned.bam\"");
      ok = false;
    } else {
      d->filename = ports[i].filename;
    }
  }
  return ok;
}

static void lower_settings(sema *S, scomp *c) {
  const ast_component *ac = c->ast;
  pipec_component *ir = &c->ir;
  const ast_value *command = NULL;
  for (uint32_t i = 0; i < ac->settings.n; i++) {
    const ast_kv *kv = &ac->settings.items[i];
    for (uint32_t j = 0; j < i; j++)
      if (ac->settings.items[j].key == kv->key) {
        sema_error(S, "duplicate-name", kv->key_loc, "'%s' is given twice",
                   kv->key);
        c->ok = false;
      }
    const char *what = arena_printf(S->a, "'%s' of component '%s'", kv->key,
                                    c->name);
    pipec_value v;
    if (strcmp(kv->key, "command") == 0) {
      command = kv->value;
      if (sema_value(S, kv->value, PIPEC_T_STRING, true, what, &v))
        ir->command = v.u.s;
      else
        c->ok = false;
    } else if (strcmp(kv->key, "version") == 0) {
      if (sema_value(S, kv->value, PIPEC_T_STRING, false, what, &v))
        ir->version = v.u.s;
      else
        c->ok = false;
    } else if (strcmp(kv->key, "code") == 0) {
      if (!sema_code_setting(S, c, kv->value, what))
        c->ok = false;
    } else if (strcmp(kv->key, "image") == 0) {
      if (!sema_image(S, kv->value, what, &ir->image))
        c->ok = false;
    } else if (strcmp(kv->key, "network") == 0) {
      if (sema_value(S, kv->value, PIPEC_T_BOOL, false, what, &v))
        ir->network = v.u.b;
      else
        c->ok = false;
    } else if (strcmp(kv->key, "env") == 0) {
      const ast_value *mv = kv->value;
      if (mv->kind != AST_MAP) {
        pipec_diag *g = sema_error(S, "type-mismatch", mv->loc,
                                   "%s is a map, but the value is not", what);
        pipec_diag_hint(g, "env = { NAME = \"value\" }");
        c->ok = false;
        continue;
      }
      ir->env = arena_alloc(S->a, (mv->u.map.n + 1) * sizeof *ir->env);
      for (uint32_t k = 0; k < mv->u.map.n; k++) {
        const ast_kv *e = &mv->u.map.items[k];
        const char *ew = arena_printf(S->a, "env '%s'", e->key);
        if (!sema_value(S, e->value, PIPEC_T_STRING, false, ew, &v)) {
          c->ok = false;
          continue;
        }
        /* keep sorted by key; a repeated key is an error */
        uint32_t at = ir->n_env;
        bool dup = false;
        for (uint32_t q = 0; q < ir->n_env; q++)
          dup |= strcmp(ir->env[q].key, e->key) == 0;
        if (dup) {
          sema_error(S, "duplicate-name", e->key_loc,
                     "env '%s' is given twice", e->key);
          c->ok = false;
          continue;
        }
        while (at > 0 && strcmp(ir->env[at - 1].key, e->key) > 0) {
          ir->env[at] = ir->env[at - 1];
          at--;
        }
        ir->env[at] = (pipec_keyval){e->key, v.u.s};
        ir->n_env++;
      }
    } else {
      static const char *const keys[] = {"command", "code", "env", "image",
                                         "network", "version"};
      pipec_diag *g = sema_error(S, "unknown-setting", kv->key_loc,
                                 "unknown component setting '%s'", kv->key);
      sema_suggest(g, kv->key, keys, 6);
      if (!g->hint)
        pipec_diag_hint(g, "components take command, code, env, image, "
                           "network and version; declare params with "
                           "'param NAME : TYPE'");
      c->ok = false;
    }
  }
  if (!command) {
    pipec_diag *g = sema_error(S, "missing-command", ac->loc,
                               "component '%s' has no command", c->name);
    pipec_diag_hint(g, "add command = \"...\" with {port} and {param} "
                       "placeholders");
    c->ok = false;
    return;
  }
  uint32_t n = ir->n_inputs + ir->n_outputs + ir->n_params;
  const char **names = arena_alloc(S->a, (n + 1) * sizeof *names);
  uint32_t k = 0;
  for (uint32_t i = 0; i < ir->n_inputs; i++)
    names[k++] = ir->inputs[i].name;
  for (uint32_t i = 0; i < ir->n_outputs; i++)
    names[k++] = ir->outputs[i].name;
  for (uint32_t i = 0; i < ir->n_params; i++)
    names[k++] = ir->params[i].name;
  sema_check_template(S, command, names, k,
                      arena_printf(S->a, "component '%s'", c->name));
}

static void lower_user(sema *S, scomp *c) {
  const ast_component *ac = c->ast;
  pipec_component *ir = &c->ir;
  c->ok = true;
  ir->name = c->name;
  ir->kind = PIPEC_COMP_COMMAND;
  ir->loc = sema_srcloc(S, ac->loc);
  ir->moduledir = path_relative(S->a, S->main_dir,
                                path_dir(S->a, c->file->path));
  c->ok &= lower_ports(S, ac->inputs.items, ac->inputs.n, false,
                       &ir->inputs);
  ir->n_inputs = ac->inputs.n;
  c->ok &= lower_ports(S, ac->outputs.items, ac->outputs.n, true,
                       &ir->outputs);
  ir->n_outputs = ac->outputs.n;
  /* one namespace for ports and params: placeholders name them all */
  uint32_t total = ac->inputs.n + ac->outputs.n + ac->params.n;
  const char **seen = arena_alloc(S->a, (total + 1) * sizeof *seen);
  ast_loc *seen_at = arena_alloc(S->a, (total + 1) * sizeof *seen_at);
  name_map seen_map = {0}; /* for many names: a component may have 10k ports */
  uint32_t ns = 0;
  for (uint32_t i = 0; i < total; i++) {
    const char *name;
    ast_loc loc;
    if (i < ac->inputs.n)
      name = ac->inputs.items[i].name, loc = ac->inputs.items[i].loc;
    else if (i < ac->inputs.n + ac->outputs.n)
      name = ac->outputs.items[i - ac->inputs.n].name,
      loc = ac->outputs.items[i - ac->inputs.n].loc;
    else
      name = ac->params.items[i - ac->inputs.n - ac->outputs.n].name,
      loc = ac->params.items[i - ac->inputs.n - ac->outputs.n].loc;
    uint32_t first = PIPEC_NONE;
    if (total > SMALL_SET) {
      first = name_map_get(&seen_map, name);
      if (first == PIPEC_NONE)
        name_map_put(S->a, &seen_map, name, ns);
    } else {
      for (uint32_t j = 0; j < ns && first == PIPEC_NONE; j++)
        if (seen[j] == name)
          first = j;
    }
    if (first != PIPEC_NONE) {
      sema_error(S, "duplicate-name", loc,
                 "'%s' is declared twice in component '%s'", name, c->name);
      sema_note(S, seen_at[first], "'%s' was first declared here", name);
      c->ok = false;
    }
    if (strcmp(name, "moduledir") == 0) {
      pipec_diag *g = sema_error(S, "duplicate-name", loc,
                                 "'moduledir' is a built-in placeholder; "
                                 "choose another name");
      pipec_diag_hint(g, "{moduledir} is the directory of the file that "
                         "declares the component");
      c->ok = false;
    }
    seen[ns] = name;
    seen_at[ns++] = loc;
  }
  ir->n_params = ac->params.n;
  ir->params = arena_alloc(S->a, (ac->params.n + 1) * sizeof *ir->params);
  for (uint32_t i = 0; i < ac->params.n; i++) {
    const ast_param *p = &ac->params.items[i];
    pipec_param_decl *d = &ir->params[i];
    d->name = p->name;
    if (!sema_param_type(S, p, &d->type, &d->elem)) {
      c->ok = false;
      continue;
    }
    if (p->def) {
      d->has_default = true;
      const char *what = arena_printf(S->a, "param '%s' of component '%s'",
                                      p->name, c->name);
      c->ok &= sema_value_list(S, p->def, d->type, d->elem, false, what,
                               &d->def);
    }
  }
  lower_settings(S, c);
}

static void lower_components(sema *S) {
  for (uint32_t i = 0; i < S->comps.n; i++) {
    scomp *c = &S->comps.items[i];
    if (c->desc)
      lower_builtin(S, c);
    else
      lower_user(S, c);
    c->lowered = true;
  }
}

/* ---- nodes ---------------------------------------------------------- */

/* Names for "did you mean": the nodes outside families and the families
 * (not their members: a typo is nearer a family than one of its 10^5
 * members). Made once: every unknown name of every member asks. */
const char **sema_node_names(sema *S, uint32_t *n) {
  if (!S->names_cache) {
    uint32_t k = 0;
    S->names_cache = arena_alloc(S->a, ((size_t)S->decl.n + S->fams.n + 1) *
                                           sizeof *S->names_cache);
    for (uint32_t i = 0; i < S->decl.n; i++)
      if (S->decl.items[i].family == PIPEC_NONE)
        S->names_cache[k++] = S->decl.items[i].name;
    for (uint32_t i = 0; i < S->fams.n; i++)
      S->names_cache[k++] = S->fams.items[i].name;
    S->n_names_cache = k;
  }
  *n = S->n_names_cache;
  return S->names_cache;
}

/* The nodes sema_expand declared get their IR: name, component, target,
 * settings (each member with its own loop variables bound). */
static void setup_nodes(sema *S) {
  S->n_nodes = S->decl.n;
  S->nodes = S->decl.items;
  S->irs = arena_alloc(S->a, ((size_t)S->n_nodes + 1) * sizeof *S->irs);
  /* components first (a family's members share their declaration: look
   * it up once), so every node's out_used is a slice of one array */
  const ast_node *last_ast = NULL;
  uint32_t last_comp = PIPEC_NONE;
  size_t n_used = 0;
  for (uint32_t i = 0; i < S->n_nodes; i++) {
    snode *n = &S->nodes[i];
    n->comp = n->ast == last_ast ? last_comp
                                 : sema_comp_index(S, n->ast->component);
    last_ast = n->ast;
    last_comp = n->comp;
    if (n->comp != PIPEC_NONE)
      n_used += S->comps.items[n->comp].ir.n_outputs;
  }
  bool *used = arena_alloc(S->a, n_used + 1);
  pipec_srcloc loc = {0};
  last_ast = NULL;
  for (uint32_t i = 0; i < S->n_nodes; i++) {
    snode *n = &S->nodes[i];
    const ast_node *an = n->ast;
    n->ir = &S->irs[i];
    n->ir->name = n->name;
    n->ir->key = n->key;
    n->ir->family = n->family;
    if (an != last_ast)
      loc = sema_srcloc(S, an->loc);
    last_ast = an;
    n->ir->loc = loc;
    S->env = n->env;
    S->cur_fanout = n->fanout;
    S->dedupe_on = n->env != NULL;
    if (n->comp == PIPEC_NONE) {
      pipec_diag *g = sema_error(S, "unknown-component", an->component_loc,
                                 "unknown component '%s'", an->component);
      sema_suggest(g, an->component, comp_names(S), S->comps.n);
      if (!g->hint && strchr(an->component, '.'))
        pipec_diag_hint(g, "'pipec components' lists the built-ins");
      else if (!g->hint)
        pipec_diag_hint(g, "declare it with 'component %s(...) -> (...) "
                           "{ command = \"...\" }'",
                        an->component);
    } else {
      n->out_used = used;
      used += S->comps.items[n->comp].ir.n_outputs;
    }
    n->ir->target = 0;
    if (an->target) {
      uint32_t t = sema_target_index(S, an->target);
      if (t == PIPEC_NONE) {
        const char **names = arena_alloc(S->a, (S->targets.n + 1) *
                                                   sizeof *names);
        for (uint32_t k = 0; k < S->targets.n; k++)
          names[k] = S->targets.items[k].name;
        pipec_diag *g = sema_error(S, "unknown-target", an->target_loc,
                                   "unknown target '%s'", an->target);
        sema_suggest(g, an->target, names, S->targets.n);
        if (!g->hint)
          pipec_diag_hint(g, "declare it with 'target %s = local|ssh|slurm "
                             "{ ... }'",
                          an->target);
      } else {
        n->ir->target = t;
      }
    }
    sema_node_settings(S, n);
  }
  S->env = NULL;
  S->cur_fanout = PIPEC_NONE;
  S->dedupe_on = false;
}

/* Index of input, output or param `name` of component sc, or -1. A few are
 * searched in turn; for many (a component may declare 10k ports) a map is
 * built on first use, so wiring stays linear. */
int sema_comp_find(sema *S, scomp *sc, int what, const char *name) {
  const pipec_component *c = &sc->ir;
  uint32_t n = what == FIND_INPUT    ? c->n_inputs
               : what == FIND_OUTPUT ? c->n_outputs
                                     : c->n_params;
  const pipec_port_decl *ports = what == FIND_INPUT ? c->inputs : c->outputs;
#define FIND_NAME(i) (what == FIND_PARAM ? c->params[i].name : ports[i].name)
  if (n <= SMALL_SET) {
    for (uint32_t i = 0; i < n; i++)
      if (strcmp(FIND_NAME(i), name) == 0)
        return (int)i;
    return -1;
  }
  name_map **mp = what == FIND_INPUT    ? &sc->in_map
                  : what == FIND_OUTPUT ? &sc->out_map
                                        : &sc->par_map;
  if (!*mp) {
    *mp = arena_alloc(S->a, sizeof **mp);
    for (uint32_t i = 0; i < n; i++) {
      const char *key = arena_intern_cstr(S->a, FIND_NAME(i));
      if (name_map_get(*mp, key) == PIPEC_NONE) /* the first of duplicates */
        name_map_put(S->a, *mp, key, i);
    }
  }
#undef FIND_NAME
  uint32_t i = name_map_get(*mp, arena_intern_cstr(S->a, name));
  return i == PIPEC_NONE ? -1 : (int)i;
}

/* Resolve `node.port` (or `node` with one output) to an edge. Returns false
 * after reporting. */
bool sema_resolve_output(sema *S, const ast_value *v, const char *what,
                    uint32_t *producer, int *port) {
  if (v->kind != AST_REF) {
    pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                               "%s takes a node output, not a literal", what);
    pipec_diag_hint(g, "connect it to another node's output: NODE.PORT");
    return false;
  }
  uint32_t p = sema_node_index(S, v->u.ref.name);
  if (p == PIPEC_NONE) {
    if (sema_param_index(S, v->u.ref.name) != PIPEC_NONE) {
      pipec_diag *g = sema_error(S, "type-mismatch", v->loc,
                                 "%s takes a node output, but '%s' is a "
                                 "param",
                                 what, v->u.ref.name);
      pipec_diag_hint(g, "read a file param with a node first, e.g. "
                         "table.read_csv(path = %s)",
                      v->u.ref.name);
      return false;
    }
    uint32_t nn;
    const char **names = sema_node_names(S, &nn);
    pipec_diag *g = sema_error(S, "unknown-name", v->u.ref.name_loc,
                               "unknown node '%s'", v->u.ref.name);
    uint32_t sk = name_map_get(&S->skipped, v->u.ref.name);
    if (sk == PIPEC_NONE)
      sema_suggest(g, v->u.ref.name, names, nn);
    else
      pipec_diag_hint(g, "'%s' is declared in an 'if' branch that this "
                         "configuration does not take (line %u)",
                      v->u.ref.name,
                      sema_srcloc(S, S->skipped_at.items[sk]).line);
    return false;
  }
  const snode *pn = &S->nodes[p];
  if (pn->comp == PIPEC_NONE)
    return false; /* already reported */
  scomp *psc = &S->comps.items[pn->comp];
  const pipec_component *pc = &psc->ir;
  if (!v->u.ref.member) {
    if (pc->n_outputs != 1) {
      pipec_diag *g = sema_error(S, "unknown-port", v->loc,
                                 "node '%s' has %u outputs; say which one",
                                 v->u.ref.name, pc->n_outputs);
      if (pc->n_outputs)
        pipec_diag_hint(g, "for example %s.%s", v->u.ref.name,
                        pc->outputs[0].name);
      return false;
    }
    *producer = p;
    *port = 0;
    return true;
  }
  int k = sema_comp_find(S, psc, FIND_OUTPUT, v->u.ref.member);
  if (k < 0) {
    const char **names = arena_alloc(S->a, (pc->n_outputs + 1) *
                                               sizeof *names);
    char list[256] = "";
    size_t w = 0;
    for (uint32_t i = 0; i < pc->n_outputs; i++) {
      names[i] = pc->outputs[i].name;
      if (w < sizeof list) /* past the end, w is no offset: stop writing */
        w += (size_t)snprintf(list + w, sizeof list - w, "%s%s",
                              i ? ", " : "", names[i]);
    }
    if (w >= sizeof list) /* cut short: say so */
      memcpy(list + sizeof list - 4, "...", 4);
    pipec_diag *g = sema_error(S, "unknown-port", v->u.ref.member_loc,
                               "node '%s' (%s) has no output '%s'",
                               v->u.ref.name, pc->name, v->u.ref.member);
    sema_suggest(g, v->u.ref.member, names, pc->n_outputs);
    if (!g->hint)
      pipec_diag_hint(g, "its outputs are: %s", pc->n_outputs ? list
                                                              : "(none)");
    return false;
  }
  *producer = p;
  *port = k;
  return true;
}

static int input_cmp(const void *a, const void *b) {
  const pipec_input *x = a, *y = b;
  int c = strcmp(x->port, y->port);
  return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

static int param_cmp(const void *a, const void *b) {
  return strcmp(((const pipec_param *)a)->name, ((const pipec_param *)b)->name);
}

/* Is `want` a placeholder of a command template? */
typedef struct ph_find {
  const char *want;
  size_t len;
} ph_find;

static int ph_is(void *ctx, const char *name, size_t len, size_t off) {
  (void)off;
  const ph_find *f = ctx;
  return len == f->len && memcmp(name, f->want, len) == 0;
}

/* A string argument naming a project file, used as a {placeholder}: its
 * content is not in the cache key; say how to make it so. Costs nothing
 * for a node without a string argument that could be a path. */
static void warn_file_args(sema *S, snode *n, scomp *sc,
                           const ast_value *command) {
  const pipec_component *c = &sc->ir;
  const char *tpl = c->kind == PIPEC_COMP_COMMAND ? c->command
                    : command && command->kind == AST_STRING
                        ? command->u.s.text
                        : NULL;
  if (!tpl || !S->opts->project_root)
    return;
  const ast_value *written = command;
  for (uint32_t i = 0; !written && !sc->command_checked && sc->ast &&
                       i < sc->ast->settings.n;
       i++)
    if (strcmp(sc->ast->settings.items[i].key, "command") == 0)
      written = sc->ast->settings.items[i].value;
  sc->command_checked |= !command; /* a component's: once, not per node */
  if (written)
    sema_warn_command_files(S, written, c, c->kind != PIPEC_COMP_COMMAND);
  const ast_node *an = n->ast;
  for (uint32_t k = 0; k < n->ir->n_params; k++) {
    const pipec_param *p = &n->ir->params[k];
    if (p->value.type != PIPEC_T_STRING || !p->value.u.s ||
        !strpbrk(p->value.u.s, "./") || strcmp(p->name, "command") == 0)
      continue;
    ph_find f = {p->name, strlen(p->name)};
    if (!pipec_template_refs(tpl, ph_is, &f))
      continue;
    for (uint32_t i = 0; i < an->args.n; i++) /* given, not a default */
      if (an->args.items[i].key == p->name)
        sema_warn_file_arg(S, p->name, p->value.u.s,
                           an->args.items[i].value->loc,
                           c->kind != PIPEC_COMP_COMMAND);
  }
}

/* A param value of node n: typed, and in a template possibly deferred
 * (recorded by name in S->tmp_defer, indexed once the params are sorted). */
static bool param_value(sema *S, snode *n, const ast_value *v, pipec_type t,
                        pipec_type elem, bool tmpl, const char *what,
                        pipec_value *out, const char *name) {
  S->defer_ok = n->fanout != PIPEC_NONE;
  S->deferred = false;
  S->defer_keys.n = 0;
  bool ok = sema_value_list(S, v, t, elem, tmpl, what, out);
  S->defer_ok = false;
  if (ok && S->deferred) {
    pipec_deferred d = {.param = PIPEC_NONE, .kind = PIPEC_DEFER_ITEM,
                        .text = S->defer_text, .ref = PIPEC_NONE};
    TMP_PUSH(S->tmp_defer, d); /* .param is set once the params are sorted */
    TMP_PUSH(S->tmp_defer_names, name);
  }
  for (uint32_t i = 0; ok && i < S->defer_keys.n; i++) {
    pipec_deferred d = {.param = PIPEC_NONE, .kind = PIPEC_DEFER_KEYS,
                        .ref = S->defer_keys.items[i]};
    TMP_PUSH(S->tmp_defer, d);
    TMP_PUSH(S->tmp_defer_names, name);
  }
  S->deferred = false;
  S->defer_keys.n = 0;
  return ok;
}

static int var_port_cmp(const void *a, const void *b) {
  return strcmp(((const pipec_port_decl *)a)->name,
                ((const pipec_port_decl *)b)->name);
}

static void wire_node(sema *S, snode *n) {
  if (n->comp == PIPEC_NONE)
    return;
  scomp *sc = &S->comps.items[n->comp];
  const pipec_component *c = &sc->ir;
  const ast_node *an = n->ast;
  bool variadic = c->desc && (c->desc->flags & PIPEC_COMP_VARIADIC_INPUTS);
  S->env = n->env;
  S->cur_fanout = n->fanout;
  S->dedupe_on = n->env != NULL;
  /* which inputs and params are given: scratch memory, reused per node
   * (and, once these are checked, for the template's names below) */
  bool *given_in = scratch(S, (size_t)c->n_inputs + c->n_params + 2);
  bool *given_p = given_in + c->n_inputs + 1;
  const ast_value *command = NULL;
  name_map seen = {0}; /* argument names, when there are many */
  S->tmp_inputs.n = S->tmp_params.n = S->tmp_broken.n = 0;
  S->tmp_var.n = S->tmp_defer.n = S->tmp_defer_names.n = 0;
  for (uint32_t i = 0; i < an->args.n; i++) {
    const ast_kv *kv = &an->args.items[i];
    bool dup = false;
    if (an->args.n > SMALL_SET) {
      dup = name_map_get(&seen, kv->key) != PIPEC_NONE;
      if (!dup)
        name_map_put(S->a, &seen, kv->key, i);
    } else {
      for (uint32_t j = 0; j < i; j++)
        dup |= an->args.items[j].key == kv->key;
    }
    if (dup) {
      sema_error(S, "duplicate-name", kv->key_loc,
                 "argument '%s' is given twice", kv->key);
      continue;
    }
    int in = sema_comp_find(S, sc, FIND_INPUT, kv->key);
    int pa = sema_comp_find(S, sc, FIND_PARAM, kv->key);
    if (in >= 0) {
      given_in[in] = true;
      sema_port w = {.name = kv->key, .declared = true,
                     .type = c->inputs[in].type, .list = c->inputs[in].list,
                     .types_ok = sc->ok, .comp = c->name};
      sema_wire_input(S, n, &w, kv);
    } else if (pa >= 0) {
      const pipec_param_decl *d = &c->params[pa];
      const char *what = sema_what(S, "param '%s' of '%s'", kv->key, c->name);
      bool tmpl = c->desc && (c->desc->flags & PIPEC_COMP_COMMAND_TEMPLATE) &&
                  strcmp(d->name, "command") == 0;
      given_p[pa] = true;
      pipec_value v;
      char wbuf[512]; /* sema_what's buffer is reused by what it calls */
      snprintf(wbuf, sizeof wbuf, "%s", what);
      if (!param_value(S, n, kv->value, d->type, d->elem, tmpl, wbuf, &v,
                       d->name))
        continue;
      if (tmpl)
        command = kv->value;
      if (c->desc && c->desc->check &&
          !(S->tmp_defer_names.n &&
            S->tmp_defer_names.items[S->tmp_defer_names.n - 1] == d->name)) {
        char err[256] = "";
        long off = -1;
        if (c->desc->check(d->name, &v, err, sizeof err, &off) != 0) {
          ast_loc at = kv->value->loc;
          if (off >= 0 && kv->value->kind == AST_STRING) {
            uint32_t o = ast_string_src_offset(S->u->texts[at.file], at,
                                               (uint32_t)off);
            at = (ast_loc){at.file, o, 1};
          }
          sema_error(S, "bad-param", at, "%s: %s", wbuf, err);
          continue;
        }
      }
      sema_check_path(S, kv->value, &v, what);
      pipec_param p = {d->name, v};
      TMP_PUSH(S->tmp_params, p);
    } else if (variadic && sema_is_input_value(S, kv->value)) {
      /* shell(x = other.out): an extra input named by the argument */
      if (sema_comp_find(S, sc, FIND_OUTPUT, kv->key) >= 0) {
        sema_error(S, "duplicate-name", kv->key_loc,
                   "'%s' is an output of '%s'; name the input otherwise",
                   kv->key, c->name);
        continue;
      }
      sema_port w = {.name = kv->key, .declared = false,
                     .type = PIPEC_PORT_FILE, .types_ok = true,
                     .comp = c->name};
      if (!sema_wire_input(S, n, &w, kv)) {
        TMP_PUSH(S->tmp_broken, kv->key);
        continue;
      }
      pipec_port_decl vd = {.name = kv->key, .type = w.type, .list = w.list};
      TMP_PUSH(S->tmp_var, vd);
    } else if (variadic) {
      /* shell(x = "a b", n = top): an extra param, typed by its value,
       * that the command can use as {x} (quoted for the shell) */
      const ast_value *v = kv->value;
      pipec_type t = v->kind == AST_INT     ? PIPEC_T_INT
                     : v->kind == AST_FLOAT ? PIPEC_T_FLOAT
                     : v->kind == AST_BOOL  ? PIPEC_T_BOOL
                     : v->kind == AST_LIST  ? PIPEC_T_LIST
                     : v->kind == AST_CALL  ? PIPEC_T_LIST
                                            : PIPEC_T_STRING;
      pipec_type elem = PIPEC_T_STRING;
      const senv *e = v->kind == AST_REF && !v->u.ref.member
                          ? sema_env_find(S->env, v->u.ref.name)
                          : NULL;
      if (e && e->bind->fanout == PIPEC_NONE)
        t = e->value.type;
      else if (!e && v->kind == AST_REF && !v->u.ref.member &&
               sema_param_index(S, v->u.ref.name) != PIPEC_NONE) {
        const sparam *sp = &S->params[sema_param_index(S, v->u.ref.name)];
        t = sp->type;
        elem = sp->elem;
      } else if (v->kind == AST_LIST && v->u.list.n > 0) {
        /* a list takes its first item's type */
        const ast_value *it = v->u.list.items[0];
        elem = it->kind == AST_INT     ? PIPEC_T_INT
               : it->kind == AST_FLOAT ? PIPEC_T_FLOAT
                                       : PIPEC_T_STRING;
      }
      if (sema_comp_find(S, sc, FIND_OUTPUT, kv->key) >= 0) {
        sema_error(S, "duplicate-name", kv->key_loc,
                   "'%s' is an output of '%s'; name the argument otherwise",
                   kv->key, c->name);
        continue;
      }
      const char *what = sema_what(S, "argument '%s' of node '%s'", kv->key,
                                   an->name);
      pipec_value val;
      char wbuf[512];
      snprintf(wbuf, sizeof wbuf, "%s", what);
      if (!param_value(S, n, v, t, elem, false, wbuf, &val, kv->key)) {
        TMP_PUSH(S->tmp_broken, kv->key);
        continue;
      }
      pipec_param extra = {kv->key, val};
      TMP_PUSH(S->tmp_params, extra);
    } else {
      uint32_t nn = c->n_inputs + c->n_params;
      const char **names = arena_alloc(S->a, (nn + 1) * sizeof *names);
      uint32_t k = 0;
      for (uint32_t j = 0; j < c->n_inputs; j++)
        names[k++] = c->inputs[j].name;
      for (uint32_t j = 0; j < c->n_params; j++)
        names[k++] = c->params[j].name;
      bool out_name = sema_comp_find(S, sc, FIND_OUTPUT, kv->key) >= 0;
      pipec_diag *g = sema_error(
          S, "unknown-param", kv->key_loc,
          out_name ? "'%s' is an output of component '%s'; outputs are not "
                     "arguments"
                   : "component '%s' has no input or param '%s'",
          out_name ? kv->key : c->name, out_name ? c->name : kv->key);
      if (!out_name)
        sema_suggest(g, kv->key, names, k);
      /* the suggested name is then not reported missing too */
      const char *best = out_name ? NULL : editdist_suggest(kv->key, names, k);
      int bi = best ? sema_comp_find(S, sc, FIND_INPUT, best) : -1;
      int bp = best ? sema_comp_find(S, sc, FIND_PARAM, best) : -1;
      if (bi >= 0)
        given_in[bi] = true;
      if (bp >= 0)
        given_p[bp] = true;
      if (!g->hint && !out_name) {
        char list[512] = "";
        size_t w = 0;
        for (uint32_t j = 0; j < k && w < sizeof list; j++)
          w += (size_t)snprintf(list + w, sizeof list - w, "%s%s",
                                j ? ", " : "", names[j]);
        pipec_diag_hint(g, k ? "it takes: %s" : "it takes no arguments%s",
                        list);
      }
    }
  }
  for (uint32_t i = 0; i < c->n_inputs; i++)
    if (!given_in[i]) {
      pipec_diag *g = sema_error(S, "missing-input", an->args_loc,
                                 "node '%s' does not connect input '%s' "
                                 "(%s) of '%s'",
                                 an->name, c->inputs[i].name,
                                 pipec_port_type_name(c->inputs[i].type),
                                 c->name);
      pipec_diag_hint(g, "add %s = NODE.PORT", c->inputs[i].name);
    }
  for (uint32_t i = 0; i < c->n_params; i++) {
    if (given_p[i])
      continue;
    if (!c->params[i].has_default) {
      pipec_diag *g = sema_error(S, "missing-param", an->args_loc,
                                 "node '%s' needs param '%s' (%s) of '%s'",
                                 an->name, c->params[i].name,
                                 pipec_type_name(c->params[i].type), c->name);
      pipec_diag_hint(g, "add %s = VALUE", c->params[i].name);
      continue;
    }
    sema_check_default_path(S, sc, i);
    pipec_param p = {c->params[i].name, c->params[i].def};
    TMP_PUSH(S->tmp_params, p);
  }
  /* the node keeps exact copies: a million nodes add up */
  pipec_node *ir = n->ir;
  ir->inputs = arena_copy(S->a, S->tmp_inputs.items, S->tmp_inputs.n,
                          sizeof *ir->inputs);
  ir->n_inputs = S->tmp_inputs.n;
  ir->params = arena_copy(S->a, S->tmp_params.items, S->tmp_params.n,
                          sizeof *ir->params);
  ir->n_params = S->tmp_params.n;
  if (S->tmp_var.n) {
    ir->var_inputs = arena_copy(S->a, S->tmp_var.items, S->tmp_var.n,
                                sizeof *ir->var_inputs);
    ir->n_var_inputs = S->tmp_var.n;
    qsort(ir->var_inputs, ir->n_var_inputs, sizeof *ir->var_inputs,
          var_port_cmp);
  }
  if (command) { /* shell's command: its placeholders name its ports */
    uint32_t nn = ir->n_inputs + ir->n_var_inputs + c->n_outputs +
                  ir->n_params + S->tmp_broken.n;
    const char **names = scratch(S, ((size_t)nn + 1) * sizeof *names);
    uint32_t k = 0;
    for (uint32_t j = 0; j < ir->n_inputs; j++)
      if (j == 0 || ir->inputs[j].port != ir->inputs[j - 1].port)
        names[k++] = ir->inputs[j].port;
    for (uint32_t j = 0; j < ir->n_var_inputs; j++)
      if (ir->var_inputs[j].list) /* an empty list has no input */
        names[k++] = ir->var_inputs[j].name;
    for (uint32_t j = 0; j < c->n_outputs; j++)
      names[k++] = c->outputs[j].name;
    for (uint32_t j = 0; j < ir->n_params; j++)
      if (strcmp(ir->params[j].name, "command") != 0)
        names[k++] = ir->params[j].name;
    for (uint32_t j = 0; j < S->tmp_broken.n; j++) /* reported already */
      names[k++] = S->tmp_broken.items[j];
    sema_check_template(S, command, names, k,
                        sema_what(S, "node '%s'", an->name));
  }
  warn_file_args(S, n, sc, command);
  if (ir->n_inputs > 1)
    qsort(ir->inputs, ir->n_inputs, sizeof *ir->inputs, input_cmp);
  if (ir->n_params > 1)
    qsort(ir->params, ir->n_params, sizeof *ir->params, param_cmp);
  if (S->tmp_defer.n) {
    for (uint32_t j = 0; j < S->tmp_defer.n; j++)
      for (uint32_t k = 0; k < ir->n_params; k++)
        if (ir->params[k].name == S->tmp_defer_names.items[j])
          S->tmp_defer.items[j].param = k;
    ir->deferred = arena_copy(S->a, S->tmp_defer.items, S->tmp_defer.n,
                              sizeof *ir->deferred);
    ir->n_deferred = S->tmp_defer.n;
  }
}

/* ---- order ---------------------------------------------------------- */

/* A binary min-heap of node indices: Kahn's algorithm takes the earliest
 * declared ready node, so the order is deterministic. */
typedef struct heap {
  uint32_t *v;
  uint32_t n;
} heap;

static void heap_push(heap *h, uint32_t x) {
  uint32_t i = h->n++;
  while (i > 0 && h->v[(i - 1) / 2] > x) {
    h->v[i] = h->v[(i - 1) / 2];
    i = (i - 1) / 2;
  }
  h->v[i] = x;
}

static uint32_t heap_pop(heap *h) {
  uint32_t top = h->v[0], x = h->v[--h->n], i = 0;
  for (;;) {
    uint32_t c = 2 * i + 1;
    if (c >= h->n)
      break;
    if (c + 1 < h->n && h->v[c + 1] < h->v[c])
      c++;
    if (h->v[c] >= x)
      break;
    h->v[i] = h->v[c];
    i = c;
  }
  h->v[i] = x;
  return top;
}

/* What each node waits for, as CSR (dstart[i] .. dstart[i + 1] in deps):
 * its producers, and for a gather of a run-time family the loop's
 * producer and every node the loop's templates read. Templates are not
 * ordered here (order_templates). */
typedef struct deps {
  uint32_t *start, *v;       /* NULL without run-time loops: then a node
                                waits for its inputs' producers only, read
                                from the IR (no copy for a million nodes) */
} deps;

/* for each node d that node i waits for: BODY */
#define FOR_DEP(S, dp, i, d, BODY)                                        \
  do {                                                                    \
    if ((dp)->start) {                                                    \
      for (uint32_t k_ = (dp)->start[i]; k_ < (dp)->start[(i) + 1]; k_++) { \
        uint32_t d = (dp)->v[k_];                                         \
        BODY                                                              \
      }                                                                   \
    } else {                                                              \
      const pipec_node *ir_ = (S)->nodes[i].ir;                           \
      for (uint32_t k_ = 0; k_ < ir_->n_inputs; k_++)                     \
        if (ir_->inputs[k_].kind == PIPEC_IN_NODE) {                      \
          uint32_t d = ir_->inputs[k_].producer;                          \
          BODY                                                            \
        }                                                                 \
    }                                                                     \
  } while (0)

static void fanout_deps(sema *S, uint32_t f, sema_u32s *out) {
  const sfanout *fo = &S->fanouts.items[f];
  out->n = 0;
  if (fo->producer != PIPEC_NONE)
    TMP_PUSH(*out, fo->producer);
  for (uint32_t t = fo->first; t < fo->first + fo->n; t++) {
    const pipec_node *ir = S->nodes[t].ir;
    for (uint32_t k = 0; k < ir->n_inputs; k++)
      if (ir->inputs[k].kind == PIPEC_IN_NODE)
        TMP_PUSH(*out, ir->inputs[k].producer);
  }
}

static deps build_deps(sema *S) {
  uint32_t n = S->n_nodes;
  if (!S->fanouts.n)
    return (deps){NULL, NULL};
  deps d = {arena_alloc(S->a, ((size_t)n + 2) * sizeof *d.start), NULL};
  sema_u32s tmp = {0}, all = {0};
  /* the nodes each run-time loop makes its gatherers wait for */
  uint32_t *fstart = arena_alloc(S->a, ((size_t)S->fanouts.n + 2) *
                                           sizeof *fstart);
  for (uint32_t f = 0; f < S->fanouts.n; f++) {
    fanout_deps(S, f, &tmp);
    fstart[f] = all.n;
    for (uint32_t k = 0; k < tmp.n; k++)
      TMP_PUSH(all, tmp.items[k]);
  }
  fstart[S->fanouts.n] = all.n;
  sema_u32s v = {0}; /* malloc'd: given back after ordering */
  for (uint32_t i = 0; i < n; i++) {
    d.start[i] = v.n;
    const pipec_node *ir = S->nodes[i].ir;
    if (S->nodes[i].fanout != PIPEC_NONE)
      continue;
    for (uint32_t k = 0; k < ir->n_inputs; k++) {
      const pipec_input *in = &ir->inputs[k];
      if (in->kind == PIPEC_IN_NODE) {
        TMP_PUSH(v, in->producer);
      } else if (in->kind == PIPEC_IN_GATHER) {
        uint32_t f = S->nodes[in->ref].fanout;
        for (uint32_t q = fstart[f]; q < fstart[f + 1]; q++)
          TMP_PUSH(v, all.items[q]);
      }
    }
  }
  d.start[n] = v.n;
  d.v = v.items;
  free(tmp.items);
  free(all.items);
  return d;
}

static void report_cycle(sema *S, const deps *dp, const uint32_t *indeg) {
  uint32_t start = PIPEC_NONE;
  for (uint32_t i = 0; i < S->n_nodes && start == PIPEC_NONE; i++)
    if (indeg[i])
      start = i;
  /* walk producers until a node repeats: that closes a cycle */
  uint32_t *pos = arena_alloc(S->a, S->n_nodes * sizeof *pos);
  uint32_t *walk = arena_alloc(S->a, (S->n_nodes + 1) * sizeof *walk);
  for (uint32_t i = 0; i < S->n_nodes; i++)
    pos[i] = PIPEC_NONE;
  uint32_t len = 0, x = start;
  while (pos[x] == PIPEC_NONE) {
    pos[x] = len;
    walk[len++] = x;
    uint32_t next = PIPEC_NONE;
    FOR_DEP(S, dp, x, d, {
      if (next == PIPEC_NONE && indeg[d])
        next = d;
    });
    if (next == PIPEC_NONE)
      return; /* cannot happen: a node left over has a left-over producer */
    x = next;
  }
  /* the cycle is walk[pos[x]..len), in consumer-to-producer order; print it
   * in data-flow order starting at its earliest declared node */
  uint32_t first = pos[x], n = len - first, best = 0;
  for (uint32_t k = 1; k < n; k++)
    if (walk[first + k] < walk[first + best])
      best = k;
  char msg[1024];
  size_t w = 0;
  for (uint32_t k = 0; k <= n && w < sizeof msg; k++) {
    uint32_t idx = walk[first + (best + n - k % n) % n];
    w += (size_t)snprintf(msg + w, sizeof msg - w, "%s%s", k ? " -> " : "",
                          S->nodes[idx].name);
  }
  sema_error(S, "cycle", S->nodes[walk[first + best]].ast->loc,
             "cycle in pipeline: %s", msg);
}

/* Topological order of the nodes outside templates into order[] (their
 * count in *n_out); false (reported) on a cycle. */
static bool order_nodes(sema *S, uint32_t *order, uint32_t *n_out) {
  uint32_t n = S->n_nodes;
  deps dp = build_deps(S);
  uint32_t *indeg = arena_alloc(S->a, (n + 1) * sizeof *indeg);
  uint32_t *cstart = arena_alloc(S->a, (n + 2) * sizeof *cstart);
  for (uint32_t i = 0; i < n; i++)
    FOR_DEP(S, &dp, i, d, {
      indeg[i]++;
      cstart[d + 1]++;
    });
  for (uint32_t i = 0; i < n; i++)
    cstart[i + 1] += cstart[i];
  uint32_t *cons = arena_alloc(S->a, (cstart[n] + 1) * sizeof *cons);
  uint32_t *fill = arena_alloc(S->a, (n + 1) * sizeof *fill);
  for (uint32_t i = 0; i < n; i++)
    FOR_DEP(S, &dp, i, d, { cons[cstart[d] + fill[d]++] = i; });
  heap h = {arena_alloc(S->a, (n + 1) * sizeof *h.v), 0};
  uint32_t plain = 0;
  for (uint32_t i = 0; i < n; i++)
    if (S->nodes[i].fanout == PIPEC_NONE) {
      plain++;
      if (!indeg[i])
        heap_push(&h, i);
    }
  uint32_t done = 0;
  while (h.n) {
    uint32_t x = heap_pop(&h);
    order[done++] = x;
    for (uint32_t k = cstart[x]; k < cstart[x + 1]; k++)
      if (--indeg[cons[k]] == 0)
        heap_push(&h, cons[k]);
  }
  *n_out = done;
  bool ok = done == plain;
  if (!ok)
    report_cycle(S, &dp, indeg);
  /* a million nodes: give the scratch back before the IR is built */
  size_t w = sizeof(uint32_t);
  arena_release(S->a, indeg, (n + 1) * w);
  arena_release(S->a, cons, (cstart[n] + 1) * w);
  arena_release(S->a, cstart, (n + 2) * w);
  arena_release(S->a, fill, (n + 1) * w);
  arena_release(S->a, h.v, (n + 1) * w);
  if (dp.start)
    arena_release(S->a, dp.start, ((size_t)n + 2) * w);
  free(dp.v);
  return ok;
}

/* The templates of each run-time loop in an order where each reads only
 * earlier ones, into torder[] (the loops one after the other). */
static bool order_templates(sema *S, uint32_t *torder, uint32_t *n_out) {
  uint32_t done = 0;
  for (uint32_t f = 0; f < S->fanouts.n; f++) {
    const sfanout *fo = &S->fanouts.items[f];
    uint32_t base = done;
    bool *placed = arena_alloc(S->a, (size_t)fo->n + 1);
    /* a loop body is small: repeated passes are fine */
    for (bool progress = true; progress && done - base < fo->n;) {
      progress = false;
      for (uint32_t t = 0; t < fo->n; t++) {
        if (placed[t])
          continue;
        const pipec_node *ir = S->nodes[fo->first + t].ir;
        bool ready = true;
        for (uint32_t k = 0; k < ir->n_inputs && ready; k++)
          if (ir->inputs[k].kind == PIPEC_IN_TEMPLATE)
            ready = placed[ir->inputs[k].ref - fo->first];
        if (ready) {
          placed[t] = true;
          torder[done++] = fo->first + t;
          progress = true;
        }
      }
    }
    if (done - base < fo->n) {
      for (uint32_t t = 0; t < fo->n; t++)
        if (!placed[t]) {
          sema_error(S, "cycle", S->nodes[fo->first + t].ast->loc,
                     "cycle in the body of the loop over '%s': '%s' reads "
                     "itself",
                     fo->bind->var, S->nodes[fo->first + t].name);
          break;
        }
      return false;
    }
  }
  *n_out = done;
  return true;
}

/* ---- warnings ------------------------------------------------------- */

static void warn_unused(sema *S) {
  for (uint32_t i = 0; i < S->n_nodes; i++) {
    const snode *n = &S->nodes[i];
    if (n->comp == PIPEC_NONE || n->family != PIPEC_NONE)
      continue;
    const pipec_component *c = &S->comps.items[n->comp].ir;
    bool any = false;
    for (uint32_t k = 0; k < c->n_outputs; k++)
      any |= n->out_used[k];
    if (!any)
      continue; /* a final node: its outputs are the results */
    for (uint32_t k = 0; k < c->n_outputs; k++)
      if (!n->out_used[k])
        sema_warning(S, "unused-output", n->ast->loc,
                     "output '%s' of node '%s' is never used",
                     c->outputs[k].name, n->ast->name);
  }
  /* a family's outputs count for all its members together */
  for (uint32_t f = 0; f < S->fams.n; f++) {
    const sfam *fam = &S->fams.items[f];
    if (!fam->members.n || S->nodes[fam->members.items[0]].comp == PIPEC_NONE)
      continue;
    const pipec_component *c =
        &S->comps.items[S->nodes[fam->members.items[0]].comp].ir;
    bool *used = scratch(S, (size_t)c->n_outputs + 1);
    bool any = false;
    for (uint32_t m = 0; m < fam->members.n; m++)
      for (uint32_t k = 0; k < c->n_outputs; k++)
        if (S->nodes[fam->members.items[m]].out_used[k])
          used[k] = any = true;
    for (uint32_t k = 0; any && k < c->n_outputs; k++)
      if (!used[k])
        sema_warning(S, "unused-output", fam->decl->loc,
                     "output '%s' of family '%s' is never used",
                     c->outputs[k].name, fam->name);
  }
  for (uint32_t i = 0; i < S->n_params; i++)
    if (!S->params[i].used && S->params[i].ok)
      sema_warning(S, "unused-param", S->params[i].decl->loc,
                   "param '%s' is never used", S->params[i].decl->name);
}

/* ---- the pipeline --------------------------------------------------- */

static const ast_pipeline *find_pipeline(sema *S) {
  for (uint32_t f = 0; f < S->u->n_imports; f++) {
    const ast_file *imp = S->u->imports[f];
    for (uint32_t i = 0; i < imp->pipelines.n; i++) {
      pipec_diag *g = sema_error(S, "import-pipeline",
                                 imp->pipelines.items[i]->loc,
                                 "imported file '%s' declares a pipeline",
                                 imp->path);
      pipec_diag_hint(g, "an imported file holds components only");
    }
  }
  const ast_file *m = S->u->main;
  for (uint32_t i = 1; i < m->pipelines.n; i++) {
    sema_error(S, "duplicate-name", m->pipelines.items[i]->loc,
               "a file holds one pipeline; '%s' is a second one",
               m->pipelines.items[i]->name);
    sema_note(S, m->pipelines.items[0]->loc, "the first one is here");
  }
  if (m->pipelines.n == 0) {
    pipec_diag *g = pipec_diag_add(S->d, PIPEC_SEV_ERROR, "no-pipeline",
                                   m->src, 0, 0,
                                   "'%s' has no pipeline block", m->path);
    pipec_diag_hint(g, "pipeline NAME { node ... }");
    return NULL;
  }
  return m->pipelines.items[0];
}

/* The IR index of component c, added to p's components on first use. */
static uint32_t use_comp(sema *S, pipec_pipeline *p, uint32_t comp) {
  scomp *c = &S->comps.items[comp];
  if (c->index == PIPEC_NONE) {
    c->index = p->n_components;
    for (uint32_t i = 0; i < c->ir.n_params; i++)
      if (c->ir.params[i].elem == SEMA_ELEM_ANY)
        c->ir.params[i].elem = PIPEC_T_STRING;
    p->components[p->n_components++] = c->ir;
  }
  return c->index;
}

static void remap_inputs(pipec_node *out, const uint32_t *newidx,
                         const uint32_t *tidx) {
  for (uint32_t e = 0; e < out->n_inputs; e++) {
    pipec_input *in = &out->inputs[e];
    if (in->kind == PIPEC_IN_NODE && newidx)
      in->producer = newidx[in->producer];
    else if (in->kind != PIPEC_IN_NODE)
      in->producer = PIPEC_NONE;
    if (in->kind == PIPEC_IN_TEMPLATE || in->kind == PIPEC_IN_GATHER)
      in->ref = tidx[in->ref];
  }
  for (uint32_t e = 0; e < out->n_deferred; e++)
    if (out->deferred[e].kind == PIPEC_DEFER_KEYS)
      out->deferred[e].ref = tidx[out->deferred[e].ref];
}

static pipec_pipeline *lower(sema *S) {
  arena *a = S->a;
  pipec_diags *d = S->d;
  const sema_unit *unit = S->u;
  uint32_t errors = d->n_errors;
  S->ap = find_pipeline(S);
  if (!S->ap)
    return NULL;
  S->main_dir = path_dir(a, unit->main->path);
  /* source files are always checked: on the disk unless the caller answers */
  S->fs = S->opts->fs && S->opts->fs->stat ? S->opts->fs : pipec_fs_disk();
  S->cur_fanout = PIPEC_NONE;
  sema_params(S);
  sema_param_paths(S);
  gather_components(S);
  lower_components(S);
  sema_targets(S);
  sema_quotas(S);
  sema_expand(S);
  setup_nodes(S);
  sema_fanouts(S);
  for (uint32_t i = 0; i < S->n_nodes; i++)
    wire_node(S, &S->nodes[i]);
  S->env = NULL;
  S->cur_fanout = PIPEC_NONE;
  S->dedupe_on = false;
  sema_publishes(S);
  uint32_t *order = arena_alloc(a, (S->n_nodes + 1) * sizeof *order);
  uint32_t *torder = S->fanouts.n ? arena_alloc(a, (S->n_nodes + 1) *
                                                         sizeof *torder)
                                  : NULL;
  uint32_t n_plain = 0, n_tmpl = 0;
  bool ordered = d->n_errors == errors && order_nodes(S, order, &n_plain) &&
                 order_templates(S, torder, &n_tmpl);
  if (d->n_errors != errors || !ordered)
    return NULL;
  warn_unused(S);

  pipec_pipeline *p = ir_pipeline_new(a);
  p->name = S->ap->name;
  p->n_params = S->n_params;
  p->params = arena_alloc(a, (S->n_params + 1) * sizeof *p->params);
  for (uint32_t i = 0; i < S->n_params; i++)
    p->params[i] = (pipec_param){S->params[i].decl->name,
                                 S->params[i].value};
  p->targets = S->targets.items;
  p->n_targets = S->targets.n;
  p->quotas = S->quotas.items;
  p->n_quotas = S->quotas.n;
  /* nodes declared in data-flow order (the usual case) keep their IR
   * array; otherwise it is copied in order and given back */
  bool in_order = n_plain == S->n_nodes;
  for (uint32_t k = 0; k < n_plain && in_order; k++)
    in_order = order[k] == k;
  uint32_t *newidx = NULL, *tidx = NULL;
  if (in_order) {
    p->nodes = S->irs;
  } else {
    newidx = arena_alloc(a, (S->n_nodes + 1) * sizeof *newidx);
    for (uint32_t k = 0; k < S->n_nodes; k++)
      newidx[k] = PIPEC_NONE;
    for (uint32_t k = 0; k < n_plain; k++)
      newidx[order[k]] = k;
    p->nodes = arena_alloc(a, (n_plain + 1) * sizeof *p->nodes);
  }
  if (n_tmpl) {
    tidx = arena_alloc(a, (S->n_nodes + 1) * sizeof *tidx);
    for (uint32_t k = 0; k < n_tmpl; k++)
      tidx[torder[k]] = k;
    p->templates = arena_alloc(a, (n_tmpl + 1) * sizeof *p->templates);
    p->n_templates = n_tmpl;
  }
  p->n_nodes = n_plain;
  p->components = arena_alloc(a, (S->comps.n + 1) * sizeof *p->components);
  for (uint32_t k = 0; k < n_plain; k++) {
    snode *n = &S->nodes[order[k]];
    pipec_node *out = &p->nodes[k];
    if (!in_order)
      *out = *n->ir;
    out->component = use_comp(S, p, n->comp);
    if (newidx || tidx)
      remap_inputs(out, newidx, tidx);
  }
  for (uint32_t k = 0; k < n_tmpl; k++) {
    snode *n = &S->nodes[torder[k]];
    pipec_node *out = &p->templates[k];
    *out = *n->ir;
    out->component = use_comp(S, p, n->comp);
    remap_inputs(out, newidx, tidx);
  }
  for (uint32_t f = 0; f < S->fams.n; f++) {
    uint32_t comp = sema_comp_index(S, S->fams.items[f].decl->component);
    if (comp != PIPEC_NONE)
      use_comp(S, p, comp);
  }
  if (!in_order)
    arena_release(a, S->irs, ((size_t)S->n_nodes + 1) * sizeof *S->irs);
  sema_lower_loops(S, p, newidx, tidx);
  /* sema's own arrays are done with: give them back before the index
   * (a million nodes: this is the peak) */
  arena_release(a, order, ((size_t)S->n_nodes + 1) * sizeof *order);
  arena_release(a, S->decl.items, (size_t)S->decl.cap * sizeof *S->decl.items);
  S->decl.items = NULL;
  S->decl.n = S->decl.cap = 0;
  ir_index_build(a, p);
  return p;
}

pipec_pipeline *sema_lower(arena *a, pipec_diags *d, const sema_unit *unit,
                           const pipec_compile_opts *opts) {
  sema S = {.a = a, .d = d, .u = unit, .opts = opts};
  pipec_pipeline *p = lower(&S);
  free(S.what);
  free(S.scratch);
  free(S.tmp_inputs.items);
  free(S.tmp_params.items);
  free(S.tmp_broken.items);
  free(S.tmp_var.items);
  free(S.tmp_defer.items);
  free(S.tmp_defer_names.items);
  free(S.defer_keys.items);
  free(S.pub_ir.items);
  free(S.name_buf);
  free(S.seen_msg.keys);
  free(S.seen_msg.counts);
  free(S.seen_at.keys);
  free(S.seen_at.counts);
  free(S.sink.hint);
  return p;
}

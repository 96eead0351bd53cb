/*
 * sema_target.c — targets (`target NAME = KIND { ... }`) and the settings
 * of nodes (`retries`, `timeout`, `cache`, `image`, `network`,
 * `resources { ... }`; `quota` and `memory_growth` are sema_quota.c's).
 * Which keys a target takes, and of what type, is its kind's schema
 * (target_kind.h), given by the caller: the compiler knows no kind by
 * itself. Values are stored canonically: sizes in bytes, durations in
 * seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "imageref.h"
#include "sema_int.h"

/* The kind named `name` among those the compiler was given, or NULL. */
static const pipec_target_kind *find_kind(const sema *S, const char *name) {
  const pipec_target_kinds *ks = S->opts->target_kinds;
  for (uint32_t i = 0; ks && i < ks->n; i++)
    if (strcmp(ks->items[i]->name, name) == 0)
      return ks->items[i];
  return NULL;
}

static const char *article(const pipec_target_kind *k) {
  return k->article ? k->article : "a";
}

bool sema_int_at_least(sema *S, const ast_value *v, const char *what,
                       int64_t min, int64_t *out) {
  pipec_value pv;
  if (!sema_value(S, v, PIPEC_T_INT, false, what, &pv))
    return false;
  if (pv.u.i < min) {
    sema_error(S, "bad-literal", v->loc, "%s must be at least %lld", what,
               (long long)min);
    return false;
  }
  *out = pv.u.i;
  return true;
}

static bool key_value(sema *S, const pipec_opt_spec *k, const ast_value *v,
                      const char *what, pipec_value *out) {
  int64_t n;
  switch (k->type) {
  case PIPEC_OPT_INT:
    out->type = PIPEC_T_INT;
    return sema_int_at_least(S, v, what, k->min, &out->u.i);
  case PIPEC_OPT_BOOL:
    return sema_value(S, v, PIPEC_T_BOOL, false, what, out);
  case PIPEC_OPT_STRING:
    if (!sema_value(S, v, PIPEC_T_STRING, false, what, out))
      return false;
    if (k->choices) {
      uint32_t nc = 0;
      while (k->choices[nc] && strcmp(k->choices[nc], out->u.s) != 0)
        nc++;
      if (k->choices[nc])
        return true;
      pipec_diag *g = sema_error(S, "bad-literal", v->loc,
                                 "%s cannot be \"%s\"", what, out->u.s);
      for (nc = 0; k->choices[nc];)
        nc++;
      sema_suggest(g, out->u.s, k->choices, nc);
      if (!g->hint) {
        char list[256] = "";
        size_t w = 0;
        for (uint32_t j = 0; j < nc && w < sizeof list; j++)
          w += (size_t)snprintf(list + w, sizeof list - w, "%s\"%s\"",
                                j == 0 ? "" : j + 1 == nc ? " or " : ", ",
                                k->choices[j]);
        pipec_diag_hint(g, "expected %s", list);
      }
      return false;
    }
    return true;
  case PIPEC_OPT_SIZE:
    out->type = PIPEC_T_INT;
    return sema_size(S, v, what, &out->u.i);
  case PIPEC_OPT_DURATION:
    out->type = PIPEC_T_INT;
    return sema_duration(S, v, what, &out->u.i);
  case PIPEC_OPT_DURATION_TEXT:
    if (!sema_duration(S, v, what, &n))
      return false;
    return sema_value(S, v, v->kind == AST_INT ? PIPEC_T_INT : PIPEC_T_STRING,
                      false, what, out);
  case PIPEC_OPT_GPUS:
    if (v->kind == AST_LIST) {
      if (!sema_value(S, v, PIPEC_T_LIST, false, what, out))
        return false;
      for (uint32_t i = 0; i < out->u.list.n; i++)
        if (out->u.list.items[i].type != PIPEC_T_INT ||
            out->u.list.items[i].u.i < 0) {
          sema_error(S, "type-mismatch", v->u.list.items[i]->loc,
                     "gpu device ids are ints >= 0");
          return false;
        }
      return true;
    }
    out->type = PIPEC_T_INT;
    return sema_int_at_least(S, v, what, 0, &out->u.i);
  case PIPEC_OPT_STRINGS:
    if (v->kind == AST_LIST) {
      if (!sema_value(S, v, PIPEC_T_LIST, false, what, out))
        return false;
      for (uint32_t i = 0; i < out->u.list.n; i++)
        if (out->u.list.items[i].type != PIPEC_T_STRING) {
          sema_error(S, "type-mismatch", v->u.list.items[i]->loc,
                     "%s holds strings", what);
          return false;
        }
      return true;
    }
    return sema_value(S, v, PIPEC_T_STRING, false, what, out);
  }
  return false;
}

static int opt_cmp(const void *a, const void *b) {
  return strcmp(((const pipec_opt *)a)->key, ((const pipec_opt *)b)->key);
}

static void lower_target(sema *S, const ast_target *t,
                         const pipec_target_kind *kind, pipec_target *out) {
  const char *kname = kind->name;
  pipec_opt *opts = arena_alloc(S->a, (t->settings.n + 1) * sizeof *opts);
  bool *seen = arena_alloc(S->a, (kind->n_opts + 1) * sizeof *seen);
  memset(seen, 0, (kind->n_opts + 1) * sizeof *seen);
  uint32_t n = 0;
  for (uint32_t i = 0; i < t->settings.n; i++) {
    const ast_kv *kv = &t->settings.items[i];
    const pipec_opt_spec *k = pipec_target_kind_opt(kind, kv->key);
    if (!k) {
      pipec_diag *g = sema_error(S, "target-key", kv->key_loc,
                                 "unknown key '%s' for %s %s target",
                                 kv->key, article(kind), kname);
      const char **names = arena_alloc(S->a, (kind->n_opts + 1) *
                                                 sizeof *names);
      for (uint32_t j = 0; j < kind->n_opts; j++)
        names[j] = kind->opts[j].name;
      sema_suggest(g, kv->key, (const char *const *)names, kind->n_opts);
      if (!g->hint) {
        char list[256] = "";
        size_t w = 0;
        for (uint32_t j = 0; j < kind->n_opts && w < sizeof list; j++)
          w += (size_t)snprintf(list + w, sizeof list - w, "%s%s",
                                j ? ", " : "", names[j]);
        pipec_diag_hint(g, kind->n_opts ? "%s targets take %s"
                                        : "%s targets take no options",
                        kname, list);
      }
      continue;
    }
    uint32_t ki = (uint32_t)(k - kind->opts);
    if (seen[ki]) {
      sema_error(S, "duplicate-name", kv->key_loc, "'%s' is given twice",
                 kv->key);
      continue;
    }
    seen[ki] = true;
    const char *what = arena_printf(S->a, "'%s' of target '%s'", kv->key,
                                    t->name);
    pipec_value v;
    if (key_value(S, k, kv->value, what, &v))
      opts[n++] = (pipec_opt){k->name, v};
  }
  for (uint32_t j = 0; j < kind->n_opts; j++)
    if (kind->opts[j].required && !seen[j]) {
      pipec_diag *g = sema_error(S, "target-key", t->loc,
                                 "%s target '%s' needs '%s'", kname, t->name,
                                 kind->opts[j].name);
      pipec_diag_hint(g, "target %s = %s { %s = \"...\" }", t->name, kname,
                      kind->opts[j].name);
    }
  qsort(opts, n, sizeof *opts, opt_cmp);
  out->opts = opts;
  out->n_opts = n;
}

/* "target kinds are local, ssh and slurm" */
static void kinds_hint(sema *S, pipec_diag *g) {
  const pipec_target_kinds *ks = S->opts->target_kinds;
  uint32_t n = ks ? ks->n : 0;
  if (n == 0) {
    pipec_diag_hint(g, "no target kinds are known here");
    return;
  }
  char list[512] = "";
  size_t w = 0;
  for (uint32_t i = 0; i < n && w < sizeof list; i++)
    w += (size_t)snprintf(list + w, sizeof list - w, "%s%s",
                          i == 0 ? "" : i + 1 == n ? " and " : ", ",
                          ks->items[i]->name);
  pipec_diag_hint(g, n == 1 ? "the only target kind is %s"
                            : "target kinds are %s", list);
}

uint32_t sema_target_index(const sema *S, const char *name) {
  for (uint32_t i = 0; i < S->targets.n; i++)
    if (S->targets.items[i].name == name)
      return i;
  return PIPEC_NONE;
}

void sema_targets(sema *S) {
  const char *local = arena_intern_cstr(S->a, "local");
  pipec_target implicit = {.name = local, .kind = local};
  VEC_PUSH(S->a, S->targets, implicit);
  VEC_PUSH(S->a, S->target_asts, NULL);
  const pipec_target_kinds *ks = S->opts->target_kinds;
  for (uint32_t i = 0; i < S->ap->targets.n; i++) {
    const ast_target *t = &S->ap->targets.items[i];
    const pipec_target_kind *kind = find_kind(S, t->kind);
    if (!kind) {
      pipec_diag *g = sema_error(S, "unknown-target-kind", t->kind_loc,
                                 "unknown target kind '%s'", t->kind);
      uint32_t nk = ks ? ks->n : 0;
      const char **names = arena_alloc(S->a, (nk + 1) * sizeof *names);
      for (uint32_t k = 0; k < nk; k++)
        names[k] = ks->items[k]->name;
      sema_suggest(g, t->kind, (const char *const *)names, nk);
      if (!g->hint)
        kinds_hint(S, g);
      /* keep the name known so nodes on it do not add errors */
      pipec_target named = {.name = t->name, .kind = local};
      VEC_PUSH(S->a, S->targets, named);
      VEC_PUSH(S->a, S->target_asts, t);
      continue;
    }
    uint32_t prev = sema_target_index(S, t->name);
    if (prev == 0 && strcmp(kind->name, "local") != 0) {
      sema_error(S, "duplicate-name", t->loc,
                 "target 'local' is the local machine; it cannot be %s %s "
                 "target", article(kind), kind->name);
      continue;
    }
    if (prev != PIPEC_NONE && S->target_asts.items[prev]) {
      sema_error(S, "duplicate-name", t->loc, "target '%s' is declared twice",
                 t->name);
      sema_note(S, S->target_asts.items[prev]->loc,
                "'%s' was first declared here", t->name);
      continue;
    }
    pipec_target out = {.name = t->name,
                        .kind = arena_intern_cstr(S->a, kind->name)};
    out.loc = sema_srcloc(S, t->loc);
    lower_target(S, t, kind, &out);
    if (prev == 0) { /* `target local = local { ... }` sets its quotas */
      S->targets.items[0] = out;
      S->target_asts.items[0] = t;
    } else {
      VEC_PUSH(S->a, S->targets, out);
      VEC_PUSH(S->a, S->target_asts, t);
    }
  }
}

/* ---- node settings -------------------------------------------------- */

static const char *const node_keys[] = {"retries", "timeout", "cache",
                                        "image", "network", "quota",
                                        "memory_growth"};
#define N_NODE_KEYS (sizeof node_keys / sizeof node_keys[0])
static const char *const resource_keys[] = {"cpus", "memory", "gpus", "time"};

static void check_fit(sema *S, snode *n) {
  const pipec_target *t = &S->targets.items[n->ir->target];
  const pipec_opt *cpus = pipec_target_opt(t, "cpus");
  const pipec_opt *mem = pipec_target_opt(t, "memory");
  const pipec_opt *gpus = pipec_target_opt(t, "gpus");
  const pipec_resources *r = &n->ir->resources;
  int64_t ngpus = !gpus ? -1 : gpus->value.type == PIPEC_T_LIST
                                   ? (int64_t)gpus->value.u.list.n
                                   : gpus->value.u.i;
  ast_loc at = n->ast->has_resources ? n->ast->resources_loc : n->ast->loc;
  if (cpus && r->cpus > cpus->value.u.i)
    sema_error(S, "never-fits", at,
               "node '%s' asks for %lld cpus, but target '%s' has %lld",
               n->ast->name, (long long)r->cpus, t->name,
               (long long)cpus->value.u.i);
  if (mem && r->memory > mem->value.u.i)
    sema_error(S, "never-fits", at,
               "node '%s' asks for more memory than target '%s' has",
               n->ast->name, t->name);
  if (ngpus >= 0 && r->gpus > ngpus)
    sema_error(S, "never-fits", at,
               "node '%s' asks for %lld gpus, but target '%s' has %lld",
               n->ast->name, (long long)r->gpus, t->name, (long long)ngpus);
}

static void unknown_key(sema *S, const ast_kv *kv, const char *where,
                        const char *const *keys, uint32_t nkeys) {
  pipec_diag *g = sema_error(S, "unknown-setting", kv->key_loc,
                             "unknown %s '%s'", where, kv->key);
  sema_suggest(g, kv->key, keys, nkeys);
  if (!g->hint) {
    char list[128] = "";
    size_t w = 0;
    for (uint32_t j = 0; j < nkeys && w < sizeof list; j++)
      w += (size_t)snprintf(list + w, sizeof list - w, "%s%s", j ? ", " : "",
                            keys[j]);
    pipec_diag_hint(g, "expected one of %s", list);
  }
}

static bool seen_before(sema *S, const ast_kvs *kvs, uint32_t i) {
  for (uint32_t j = 0; j < i; j++)
    if (kvs->items[j].key == kvs->items[i].key) {
      sema_error(S, "duplicate-name", kvs->items[i].key_loc,
                 "'%s' is given twice", kvs->items[i].key);
      return true;
    }
  return false;
}

bool sema_image(sema *S, const ast_value *v, const char *what,
                const char **out) {
  pipec_value pv;
  if (!sema_value(S, v, PIPEC_T_STRING, false, what, &pv))
    return false;
  char why[256];
  if (!imageref_check(pv.u.s, why, sizeof why)) {
    pipec_diag *g = sema_error(S, "bad-image", v->loc,
                               "%s is not an image reference: %s", what, why);
    pipec_diag_hint(g, "an image is named like \"localhost/tool:1.2\", "
                       "\"docker.io/library/debian:12\" or "
                       "\"NAME@sha256:<64 hex digits>\"");
    return false;
  }
  *out = pv.u.s;
  return true;
}

void sema_node_settings(sema *S, snode *n) {
  const ast_node *an = n->ast;
  n->ir->cache = true;
  if (n->comp != PIPEC_NONE) { /* its component's, unless it says */
    n->ir->image = S->comps.items[n->comp].ir.image;
    n->ir->network = S->comps.items[n->comp].ir.network;
  }
  const ast_kv *quota = NULL, *growth = NULL; /* after the resources */
  for (uint32_t i = 0; i < an->settings.n; i++) {
    const ast_kv *kv = &an->settings.items[i];
    if (seen_before(S, &an->settings, i))
      continue;
    const char *what = sema_what(S, "'%s' of node '%s'", kv->key, an->name);
    pipec_value v;
    int64_t x;
    if (strcmp(kv->key, "retries") == 0) {
      if (sema_int_at_least(S, kv->value, what, 0, &x))
        n->ir->retries = x > 1000 ? 1000 : (int32_t)x;
    } else if (strcmp(kv->key, "timeout") == 0) {
      if (sema_duration(S, kv->value, what, &x))
        n->ir->timeout_s = x;
    } else if (strcmp(kv->key, "cache") == 0) {
      if (sema_value(S, kv->value, PIPEC_T_BOOL, false, what, &v))
        n->ir->cache = v.u.b;
    } else if (strcmp(kv->key, "image") == 0) {
      sema_image(S, kv->value, what, &n->ir->image);
    } else if (strcmp(kv->key, "network") == 0) {
      if (sema_value(S, kv->value, PIPEC_T_BOOL, false, what, &v))
        n->ir->network = v.u.b;
    } else if (strcmp(kv->key, "quota") == 0) {
      quota = kv;
    } else if (strcmp(kv->key, "memory_growth") == 0) {
      growth = kv;
    } else {
      unknown_key(S, kv, "node setting", node_keys, N_NODE_KEYS);
    }
  }
  for (uint32_t i = 0; i < an->resources.n; i++) {
    const ast_kv *kv = &an->resources.items[i];
    if (seen_before(S, &an->resources, i))
      continue;
    const char *what = sema_what(S, "resource '%s' of node '%s'", kv->key,
                                 an->name);
    pipec_resources *r = &n->ir->resources;
    if (strcmp(kv->key, "cpus") == 0)
      sema_int_at_least(S, kv->value, what, 1, &r->cpus);
    else if (strcmp(kv->key, "memory") == 0)
      sema_size(S, kv->value, what, &r->memory);
    else if (strcmp(kv->key, "gpus") == 0)
      sema_int_at_least(S, kv->value, what, 0, &r->gpus);
    else if (strcmp(kv->key, "time") == 0)
      sema_duration(S, kv->value, what, &r->time_s);
    else
      unknown_key(S, kv, "resource", resource_keys, 4);
  }
  check_fit(S, n);
  sema_node_quota(S, n, quota);
  if (growth)
    sema_node_growth(S, n, growth);
}

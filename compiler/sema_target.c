/*
 * sema_target.c — targets (`target NAME = KIND { ... }`) and the settings
 * of nodes (`retries`, `timeout`, `cache`, `resources { ... }`): which keys
 * each takes and of what type. Values are stored canonically: sizes in
 * bytes, durations in seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

typedef enum key_type {
  KEY_INT,        /* >= 0 (>= 1 where min says) */
  KEY_BOOL,
  KEY_STRING,
  KEY_SIZE,       /* stored as an int: bytes */
  KEY_DURATION,   /* stored as an int: seconds */
  KEY_SLURM_TIME, /* a duration, stored as the string written */
  KEY_GPUS,       /* a count, or a list of device ids */
  KEY_STRINGS,    /* a string or a list of strings */
} key_type;

enum { ON_LOCAL = 1, ON_SSH = 2, ON_SLURM = 4, ON_ALL = 7 };

typedef struct key_spec {
  const char *name;
  key_type type;
  unsigned kinds;
  bool required;
  int64_t min;
} key_spec;

static const key_spec target_keys[] = {
    {"cpus", KEY_INT, ON_ALL, false, 1},
    {"memory", KEY_SIZE, ON_ALL, false, 0},
    {"gpus", KEY_GPUS, ON_ALL, false, 0},
    {"slots", KEY_INT, ON_ALL, false, 1},
    {"host", KEY_STRING, ON_SSH, true, 0},
    {"user", KEY_STRING, ON_SSH, false, 0},
    {"port", KEY_INT, ON_SSH, false, 1},
    {"identity", KEY_STRING, ON_SSH, false, 0},
    {"workdir", KEY_STRING, ON_SSH, false, 0},
    {"shared_fs", KEY_BOOL, ON_SSH, false, 0},
    {"connect_timeout", KEY_DURATION, ON_SSH, false, 0},
    {"partition", KEY_STRING, ON_SLURM, false, 0},
    {"account", KEY_STRING, ON_SLURM, false, 0},
    {"qos", KEY_STRING, ON_SLURM, false, 0},
    {"time", KEY_SLURM_TIME, ON_SLURM, false, 0},
    {"max_jobs", KEY_INT, ON_SLURM, false, 1},
    {"extra", KEY_STRINGS, ON_SLURM, false, 0},
};
#define N_TARGET_KEYS (sizeof target_keys / sizeof target_keys[0])

static const char *const kind_names[] = {"local", "ssh", "slurm"};

static bool int_value(sema *S, const ast_value *v, const char *what,
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

static bool key_value(sema *S, const key_spec *k, const ast_value *v,
                      const char *what, pipec_value *out) {
  int64_t n;
  switch (k->type) {
  case KEY_INT:
    out->type = PIPEC_T_INT;
    return int_value(S, v, what, k->min, &out->u.i);
  case KEY_BOOL:
    return sema_value(S, v, PIPEC_T_BOOL, false, what, out);
  case KEY_STRING:
    return sema_value(S, v, PIPEC_T_STRING, false, what, out);
  case KEY_SIZE:
    out->type = PIPEC_T_INT;
    return sema_size(S, v, what, &out->u.i);
  case KEY_DURATION:
    out->type = PIPEC_T_INT;
    return sema_duration(S, v, what, &out->u.i);
  case KEY_SLURM_TIME:
    if (!sema_duration(S, v, what, &n))
      return false;
    return sema_value(S, v, v->kind == AST_INT ? PIPEC_T_INT : PIPEC_T_STRING,
                      false, what, out);
  case KEY_GPUS:
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
    return int_value(S, v, what, 0, &out->u.i);
  case KEY_STRINGS:
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

static void lower_target(sema *S, const ast_target *t, pipec_target *out) {
  unsigned mask = out->kind == PIPEC_TARGET_LOCAL ? ON_LOCAL
                : out->kind == PIPEC_TARGET_SSH   ? ON_SSH
                                                  : ON_SLURM;
  const char *kname = kind_names[out->kind];
  pipec_opt *opts = arena_alloc(S->a, (t->settings.n + 1) * sizeof *opts);
  uint32_t n = 0;
  bool seen[N_TARGET_KEYS] = {false};
  for (uint32_t i = 0; i < t->settings.n; i++) {
    const ast_kv *kv = &t->settings.items[i];
    const key_spec *k = NULL;
    for (uint32_t j = 0; j < N_TARGET_KEYS; j++)
      if ((target_keys[j].kinds & mask) && strcmp(target_keys[j].name,
                                                  kv->key) == 0)
        k = &target_keys[j];
    if (!k) {
      pipec_diag *g = sema_error(S, "target-key", kv->key_loc,
                                 "unknown key '%s' for %s %s target",
                                 kv->key, out->kind == PIPEC_TARGET_SSH
                                     ? "an" : "a", kname);
      const char *names[N_TARGET_KEYS];
      uint32_t nn = 0;
      for (uint32_t j = 0; j < N_TARGET_KEYS; j++)
        if (target_keys[j].kinds & mask)
          names[nn++] = target_keys[j].name;
      sema_suggest(g, kv->key, names, nn);
      if (!g->hint) {
        char list[256] = "";
        size_t w = 0;
        for (uint32_t j = 0; j < nn && w < sizeof list; j++)
          w += (size_t)snprintf(list + w, sizeof list - w, "%s%s",
                                j ? ", " : "", names[j]);
        pipec_diag_hint(g, "%s targets take %s", kname, list);
      }
      continue;
    }
    uint32_t ki = (uint32_t)(k - target_keys);
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
  for (uint32_t j = 0; j < N_TARGET_KEYS; j++)
    if ((target_keys[j].kinds & mask) && target_keys[j].required && !seen[j]) {
      pipec_diag *g = sema_error(S, "target-key", t->loc,
                                 "%s target '%s' needs '%s'", kname, t->name,
                                 target_keys[j].name);
      pipec_diag_hint(g, "target %s = %s { %s = \"...\" }", t->name, kname,
                      target_keys[j].name);
    }
  qsort(opts, n, sizeof *opts, opt_cmp);
  out->opts = opts;
  out->n_opts = n;
}

uint32_t sema_target_index(const sema *S, const char *name) {
  for (uint32_t i = 0; i < S->targets.n; i++)
    if (S->targets.items[i].name == name)
      return i;
  return PIPEC_NONE;
}

void sema_targets(sema *S) {
  const char *local = arena_intern_cstr(S->a, "local");
  pipec_target implicit = {.name = local, .kind = PIPEC_TARGET_LOCAL};
  VEC_PUSH(S->a, S->targets, implicit);
  VEC_PUSH(S->a, S->target_asts, NULL);
  for (uint32_t i = 0; i < S->ap->targets.n; i++) {
    const ast_target *t = &S->ap->targets.items[i];
    int kind = -1;
    for (int k = 0; k < 3; k++)
      if (strcmp(t->kind, kind_names[k]) == 0)
        kind = k;
    if (kind < 0) {
      pipec_diag *g = sema_error(S, "unknown-target-kind", t->kind_loc,
                                 "unknown target kind '%s'", t->kind);
      sema_suggest(g, t->kind, kind_names, 3);
      if (!g->hint)
        pipec_diag_hint(g, "target kinds are local, ssh and slurm");
      /* keep the name known so nodes on it do not add errors */
      pipec_target named = {.name = t->name, .kind = PIPEC_TARGET_LOCAL};
      VEC_PUSH(S->a, S->targets, named);
      VEC_PUSH(S->a, S->target_asts, t);
      continue;
    }
    uint32_t prev = sema_target_index(S, t->name);
    if (prev == 0 && kind != PIPEC_TARGET_LOCAL) {
      sema_error(S, "duplicate-name", t->loc,
                 "target 'local' is the local machine; it cannot be %s "
                 "target", kind == PIPEC_TARGET_SSH ? "an ssh" : "a slurm");
      continue;
    }
    if (prev != PIPEC_NONE && S->target_asts.items[prev]) {
      sema_error(S, "duplicate-name", t->loc, "target '%s' is declared twice",
                 t->name);
      sema_note(S, S->target_asts.items[prev]->loc,
                "'%s' was first declared here", t->name);
      continue;
    }
    pipec_target out = {.name = t->name, .kind = (pipec_target_kind)kind};
    out.loc = sema_srcloc(S, t->loc);
    lower_target(S, t, &out);
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

static const char *const node_keys[] = {"retries", "timeout", "cache"};
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

void sema_node_settings(sema *S, snode *n) {
  const ast_node *an = n->ast;
  n->ir->cache = true;
  for (uint32_t i = 0; i < an->settings.n; i++) {
    const ast_kv *kv = &an->settings.items[i];
    if (seen_before(S, &an->settings, i))
      continue;
    const char *what = sema_what(S, "'%s' of node '%s'", kv->key, an->name);
    pipec_value v;
    int64_t x;
    if (strcmp(kv->key, "retries") == 0) {
      if (int_value(S, kv->value, what, 0, &x))
        n->ir->retries = x > 1000 ? 1000 : (int32_t)x;
    } else if (strcmp(kv->key, "timeout") == 0) {
      if (sema_duration(S, kv->value, what, &x))
        n->ir->timeout_s = x;
    } else if (strcmp(kv->key, "cache") == 0) {
      if (sema_value(S, kv->value, PIPEC_T_BOOL, false, what, &v))
        n->ir->cache = v.u.b;
    } else {
      unknown_key(S, kv, "node setting", node_keys, 3);
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
      int_value(S, kv->value, what, 1, &r->cpus);
    else if (strcmp(kv->key, "memory") == 0)
      sema_size(S, kv->value, what, &r->memory);
    else if (strcmp(kv->key, "gpus") == 0)
      int_value(S, kv->value, what, 0, &r->gpus);
    else if (strcmp(kv->key, "time") == 0)
      sema_duration(S, kv->value, what, &r->time_s);
    else
      unknown_key(S, kv, "resource", resource_keys, 4);
  }
  check_fit(S, n);
}

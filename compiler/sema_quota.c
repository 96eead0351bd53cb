/*
 * sema_quota.c — quota groups (`quota NAME on TARGET [default] { ... }`,
 * in the workspace's quota file) and the settings of nodes that use them:
 * `quota = NAME` and `memory_growth = F`.
 *
 * A group is checked on its own (its keys, their units, a name given
 * twice, a second default group of one target) whatever pipeline is
 * compiled: the quota file is shared by every pipeline of the workspace.
 * Its target is a name: a pipeline without a target of that name simply
 * has no node that may draw from it. A node draws from the group it names
 * (which must be on its own target) or, naming none, from its target's
 * default group; it may never ask for more than the group allows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sema_int.h"

static const char *const group_keys[] = {"cpus", "memory", "gpus", "jobs"};
#define N_GROUP_KEYS 4

static void lower_group(sema *S, const ast_quota *q, pipec_quota *out) {
  *out = (pipec_quota){.name = q->name,
                       .target_name = q->target,
                       .target = sema_target_index(S, q->target),
                       .cpus = -1,
                       .memory = -1,
                       .gpus = -1,
                       .jobs = -1,
                       .is_default = q->is_default,
                       .loc = sema_srcloc(S, q->loc)};
  bool any = false;
  for (uint32_t i = 0; i < q->settings.n; i++) {
    const ast_kv *kv = &q->settings.items[i];
    bool twice = false;
    for (uint32_t j = 0; j < i && !twice; j++)
      twice = q->settings.items[j].key == kv->key;
    if (twice) {
      sema_error(S, "duplicate-name", kv->key_loc, "'%s' is given twice",
                 kv->key);
      continue;
    }
    const char *what = sema_what(S, "'%s' of quota group '%s'", kv->key,
                                 q->name);
    int64_t x;
    if (strcmp(kv->key, "cpus") == 0) {
      if (sema_int_at_least(S, kv->value, what, 1, &x))
        out->cpus = x;
    } else if (strcmp(kv->key, "memory") == 0) {
      if (sema_size(S, kv->value, what, &x)) {
        if (x < 1)
          sema_error(S, "bad-literal", kv->value->loc,
                     "%s must be more than 0", what);
        else
          out->memory = x;
      }
    } else if (strcmp(kv->key, "gpus") == 0) {
      if (sema_int_at_least(S, kv->value, what, 0, &x))
        out->gpus = x;
    } else if (strcmp(kv->key, "jobs") == 0) {
      if (sema_int_at_least(S, kv->value, what, 1, &x))
        out->jobs = x;
    } else {
      pipec_diag *g = sema_error(S, "unknown-setting", kv->key_loc,
                                 "unknown key '%s' for a quota group",
                                 kv->key);
      sema_suggest(g, kv->key, group_keys, N_GROUP_KEYS);
      if (!g->hint)
        pipec_diag_hint(g, "a quota group takes cpus, memory, gpus and jobs");
      continue;
    }
    any = true;
  }
  if (!any && q->settings.n == 0) {
    pipec_diag *g = sema_error(S, "quota-empty", q->loc,
                               "quota group '%s' sets no limit", q->name);
    pipec_diag_hint(g, "quota %s on %s { cpus = 4, memory = \"16G\", gpus = "
                       "1, jobs = 8 } (any of them)", q->name, q->target);
  }
}

void sema_quotas(sema *S) {
  const ast_file *f = S->u->quotas;
  for (uint32_t i = 0; f && i < f->quotas.n; i++) {
    const ast_quota *q = &f->quotas.items[i];
    bool dup = false;
    for (uint32_t j = 0; j < S->quotas.n && !dup; j++) {
      const ast_quota *o = S->quota_asts.items[j];
      if (o->name == q->name) {
        sema_error(S, "duplicate-name", q->loc,
                   "quota group '%s' is declared twice", q->name);
        sema_note(S, o->loc, "'%s' was first declared here", q->name);
        dup = true;
      } else if (q->is_default && o->is_default && o->target == q->target) {
        pipec_diag *g = sema_error(S, "duplicate-name", q->loc,
                                   "target '%s' has a default quota group "
                                   "already: '%s'",
                                   q->target, o->name);
        pipec_diag_hint(g, "a target's nodes that name no group draw from "
                           "its one default group; others name theirs with "
                           "quota = NAME");
        sema_note(S, o->loc, "'%s' is declared here", o->name);
        dup = true;
      }
    }
    if (dup)
      continue;
    pipec_quota out;
    lower_group(S, q, &out);
    VEC_PUSH(S->a, S->quotas, out);
    VEC_PUSH(S->a, S->quota_asts, q);
  }
}

static uint32_t group_index(const sema *S, const char *name) {
  for (uint32_t i = 0; i < S->quotas.n; i++)
    if (S->quotas.items[i].name == name)
      return i;
  return PIPEC_NONE;
}

/* "declared in .pipec/quotas.pipe" or that there is none. */
static void where_hint(sema *S, pipec_diag *g) {
  const ast_file *f = S->u->quotas;
  if (!f)
    pipec_diag_hint(g, "quota groups are declared in the workspace's quota "
                       "file, .pipec/quotas.pipe: quota NAME on TARGET { "
                       "cpus = 2 }");
  else if (!f->quotas.n)
    pipec_diag_hint(g, "%s declares no quota group", f->path);
  else
    pipec_diag_hint(g, "the quota groups are declared in %s", f->path);
}

/* Does node n fit in group q at all? */
static void check_group_fit(sema *S, const snode *n, const pipec_quota *q) {
  const pipec_resources *r = &n->ir->resources;
  ast_loc at = n->ast->has_resources ? n->ast->resources_loc : n->ast->loc;
  int64_t cpus = r->cpus > 0 ? r->cpus : 1;
  if (q->cpus >= 0 && cpus > q->cpus)
    sema_error(S, "never-fits", at,
               "node '%s' asks for %lld cpu%s, but quota group '%s' allows "
               "%lld",
               n->ast->name, (long long)cpus, cpus == 1 ? "" : "s", q->name,
               (long long)q->cpus);
  if (q->memory >= 0 && r->memory > q->memory)
    sema_error(S, "never-fits", at,
               "node '%s' asks for more memory than quota group '%s' allows",
               n->ast->name, q->name);
  if (q->gpus >= 0 && r->gpus > q->gpus)
    sema_error(S, "never-fits", at,
               "node '%s' asks for %lld gpu%s, but quota group '%s' allows "
               "%lld",
               n->ast->name, (long long)r->gpus, r->gpus == 1 ? "" : "s",
               q->name, (long long)q->gpus);
}

/* The names of this pipeline's targets, for "did you mean". */
static void suggest_target(sema *S, pipec_diag *g, const char *name) {
  const char **names = arena_alloc(S->a, (S->targets.n + 1) * sizeof *names);
  for (uint32_t i = 0; i < S->targets.n; i++)
    names[i] = S->targets.items[i].name;
  sema_suggest(g, name, names, S->targets.n);
}

void sema_node_quota(sema *S, snode *n, const ast_kv *kv) {
  uint32_t t = n->ir->target;
  n->ir->quota = PIPEC_NONE;
  if (!kv) {
    const char *tname = S->targets.items[t].name;
    for (uint32_t i = 0; i < S->quotas.n; i++)
      if (S->quotas.items[i].is_default &&
          strcmp(S->quotas.items[i].target_name, tname) == 0) {
        n->ir->quota = i;
        check_group_fit(S, n, &S->quotas.items[i]);
        break;
      }
    return;
  }
  const char *name = NULL;
  if (kv->value->kind == AST_REF && !kv->value->u.ref.member)
    name = kv->value->u.ref.name;
  else if (kv->value->kind == AST_STRING)
    name = arena_intern_cstr(S->a, kv->value->u.s.text);
  if (!name) {
    sema_error(S, "type-mismatch", kv->value->loc,
               "'quota' of node '%s' names a quota group: quota = NAME",
               n->ast->name);
    return;
  }
  uint32_t gi = group_index(S, name);
  if (gi == PIPEC_NONE) {
    pipec_diag *g = sema_error(S, "unknown-quota", kv->value->loc,
                               "unknown quota group '%s'", name);
    const char **names = arena_alloc(S->a, (S->quotas.n + 1) *
                                               sizeof *names);
    for (uint32_t i = 0; i < S->quotas.n; i++)
      names[i] = S->quotas.items[i].name;
    sema_suggest(g, name, names, S->quotas.n);
    if (!g->hint)
      where_hint(S, g);
    return;
  }
  const pipec_quota *q = &S->quotas.items[gi];
  if (q->target != t) {
    pipec_diag *g = sema_error(S, "quota-target", kv->value->loc,
                               "quota group '%s' is on target '%s', but node "
                               "'%s' runs on '%s'",
                               q->name, q->target_name, n->ast->name,
                               S->targets.items[t].name);
    if (q->target == PIPEC_NONE) {
      sema_note(S, S->quota_asts.items[gi]->target_loc,
                "pipeline '%s' has no target '%s'", S->ap->name,
                q->target_name);
      suggest_target(S, &S->d->items[S->d->n - 1], q->target_name);
    }
    if (!g->hint)
      pipec_diag_hint(g, "a node draws from a group on the target it runs "
                         "on: run it `on %s`, or name a group of '%s'",
                      q->target_name, S->targets.items[t].name);
    return;
  }
  n->ir->quota = gi;
  check_group_fit(S, n, q);
}

void sema_node_growth(sema *S, snode *n, const ast_kv *kv) {
  const char *what = sema_what(S, "'memory_growth' of node '%s'",
                               n->ast->name);
  pipec_value v;
  if (!sema_value(S, kv->value, PIPEC_T_FLOAT, false, what, &v))
    return;
  if (!(v.u.f >= 1.0) || v.u.f > 1000.0) {
    pipec_diag *g = sema_error(S, "bad-literal", kv->value->loc,
                               "%s must be from 1.0 to 1000", what);
    pipec_diag_hint(g, "memory_growth = 2.0 doubles the memory at each "
                       "retry after the node ran out of it");
    return;
  }
  if (n->ir->resources.memory <= 0) {
    pipec_diag *g = sema_error(S, "growth-no-memory", kv->key_loc,
                               "node '%s' grows its memory on retry but asks "
                               "for none",
                               n->ast->name);
    pipec_diag_hint(g, "give the first attempt's request: resources { "
                       "memory = \"1G\" }");
    return;
  }
  if (n->ir->retries == 0)
    sema_warning(S, "growth-no-retries", kv->key_loc,
                 "memory_growth of node '%s' does nothing without retries",
                 n->ast->name);
  n->ir->memory_growth = (float)v.u.f;
}

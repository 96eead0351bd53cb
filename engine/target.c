/*
 * target.c — tables of target kinds, opening a target by its kind, and
 * reading a target's options with its kind's defaults (target.h). The
 * built-in table itself is engine/targets/kinds.c.
 */
#include "target.h"
#include "units.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *const tgt_container_runtimes[] = {"podman", "docker", NULL};

int tgt_kinds_add(tgt_kinds *k, const tgt_kind *kind) {
  if (tgt_kinds_find(k, kind->schema.name))
    return -EEXIST;
  if (k->n == TGT_MAX_KINDS)
    return -ENOSPC;
  k->items[k->n] = kind;
  k->schemas[k->n] = &kind->schema;
  k->n++;
  return 0;
}

const tgt_kind *tgt_kinds_find(const tgt_kinds *k, const char *name) {
  for (uint32_t i = 0; name && i < k->n; i++)
    if (strcmp(k->items[i]->schema.name, name) == 0)
      return k->items[i];
  return NULL;
}

pipec_target_kinds tgt_kinds_schema(const tgt_kinds *k) {
  return (pipec_target_kinds){.items = k->schemas, .n = k->n};
}

int tgt_open(uv_loop_t *loop, const tgt_kinds *kinds, const pipec_target *decl,
             tgt **out, char *err, size_t errlen) {
  *out = NULL;
  const tgt_kind *kind = tgt_kinds_find(kinds ? kinds : tgt_builtin_kinds(),
                                        decl->kind);
  if (!kind) {
    snprintf(err, errlen, "target '%s': this pipec has no target kind '%s'",
             decl->name, decl->kind ? decl->kind : "");
    return -EINVAL;
  }
  int rc = kind->open(kind, loop, decl, out, err, errlen);
  if (rc == 0)
    (*out)->kind = kind;
  return rc;
}

const pipec_value *tgt_opt(const tgt_kind *kind, const pipec_target *decl,
                           const char *key) {
  const pipec_opt *o = pipec_target_opt(decl, key);
  if (o)
    return &o->value;
  const pipec_opt_spec *spec = kind ? pipec_target_kind_opt(&kind->schema,
                                                            key)
                                    : NULL;
  return spec && spec->has_default ? &spec->def : NULL;
}

int64_t tgt_opt_int(const tgt_kind *kind, const pipec_target *decl,
                    const char *key) {
  const pipec_value *v = tgt_opt(kind, decl, key);
  return v && v->type == PIPEC_T_INT ? v->u.i : 0;
}

const char *tgt_opt_str(const tgt_kind *kind, const pipec_target *decl,
                        const char *key) {
  const pipec_value *v = tgt_opt(kind, decl, key);
  return v && v->type == PIPEC_T_STRING ? v->u.s : NULL;
}

bool tgt_opt_bool(const tgt_kind *kind, const pipec_target *decl,
                  const char *key) {
  const pipec_value *v = tgt_opt(kind, decl, key);
  return v && v->type == PIPEC_T_BOOL && v->u.b;
}

void tgt_say_out_of_memory(tgt_result *r, int64_t limit) {
  char lim[32], peak[32];
  r->out_of_memory = true;
  units_size_text(limit, lim, sizeof lim);
  if (r->peak_memory > 0) {
    units_size_text(r->peak_memory, peak, sizeof peak);
    snprintf(r->message, sizeof r->message,
             "ran out of memory: killed at its limit, memory = \"%s\" (peak "
             "%s)", lim, peak);
  } else {
    snprintf(r->message, sizeof r->message,
             "ran out of memory: killed at its limit, memory = \"%s\"", lim);
  }
}

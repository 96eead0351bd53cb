/*
 * target.c — open a target by kind (target.h). Adding a kind is one file
 * with its tgt_ops and one line here.
 */
#include "target.h"

#include <errno.h>
#include <stdio.h>

static const char *kind_name(pipec_target_kind k) {
  switch (k) {
  case PIPEC_TARGET_LOCAL:
    return "local";
  case PIPEC_TARGET_SSH:
    return "ssh";
  case PIPEC_TARGET_SLURM:
    return "slurm";
  }
  return "unknown";
}

int tgt_open(uv_loop_t *loop, const pipec_target *decl, tgt **out, char *err,
             size_t errlen) {
  *out = NULL;
  switch (decl->kind) {
  case PIPEC_TARGET_LOCAL:
    return tgt_local_open(loop, decl, out, err, errlen);
  case PIPEC_TARGET_SSH:   /* not written yet */
  case PIPEC_TARGET_SLURM: /* not written yet */
    break;
  }
  snprintf(err, errlen, "target '%s': target kind '%s' is not available yet",
           decl->name, kind_name(decl->kind));
  return -ENOSYS;
}

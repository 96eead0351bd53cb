/*
 * target.c — open a target by kind (target.h). Adding a kind is one file
 * with its tgt_ops and one line here.
 */
#include "target.h"

#include <errno.h>
#include <stdio.h>

int tgt_open(uv_loop_t *loop, const pipec_target *decl, tgt **out, char *err,
             size_t errlen) {
  *out = NULL;
  switch (decl->kind) {
  case PIPEC_TARGET_LOCAL:
    return tgt_local_open(loop, decl, out, err, errlen);
  case PIPEC_TARGET_SSH:
    return tgt_ssh_open(loop, decl, out, err, errlen);
  case PIPEC_TARGET_SLURM:
    return tgt_slurm_open(loop, decl, out, err, errlen);
  }
  snprintf(err, errlen, "target '%s': unknown kind", decl->name);
  return -EINVAL;
}

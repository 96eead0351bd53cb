/*
 * target.c — open a target by kind (target.h). Adding a kind is one file
 * with its tgt_ops and one line here.
 */
#include "target.h"

#include <stdio.h>

int tgt_open(uv_loop_t *loop, const pipec_target *decl, tgt **out, char *err,
             size_t errlen) {
  switch (decl->kind) {
  case PIPEC_TARGET_LOCAL:
    return tgt_local_open(loop, decl, out, err, errlen);
  case PIPEC_TARGET_SSH:
  case PIPEC_TARGET_SLURM:
    break;
  }
  snprintf(err, errlen, "target '%s': %s targets are not supported by this "
                        "build yet",
           decl->name, decl->kind == PIPEC_TARGET_SSH ? "ssh" : "slurm");
  return -1;
}

/*
 * checkout.h — a snapshot's files as a project of their own, for `pipec
 * run FILE --snapshot N` (DESIGN §5: a snapshot is the configuration).
 *
 * .pipec/checkout/N/ receives, at their recorded paths, the snapshot's
 * .pipe files (from its draft), its code files and its data files (path
 * params, source files and directories, copied from the object store: a
 * damaged or collected one is an error naming it). The run then compiles
 * and runs there, with the snapshot's -p values, and never touches the
 * working files; its cache is the workspace's, so what it shares with
 * other runs is cached. The directory is made anew for each such run.
 */
#ifndef PIPEC_CHECKOUT_H
#define PIPEC_CHECKOUT_H

#include <stdint.h>

#include "store.h"
#include "workspace.h"

typedef struct checkout {
  char *dir;                   /* .pipec/checkout/N */
  char *main;                  /* the main .pipe file in it */
  char *main_rec;              /* its path as recorded (in the project) */
  store_override *ov;          /* the snapshot's -p values */
  uint32_t n_ov;
} checkout;

/* Make snapshot id's checkout. 0, or -1 with err. */
int checkout_make(ws *w, store *st, int64_t id, checkout *out, char *err,
                  size_t errlen);
void checkout_free(checkout *c);

#endif

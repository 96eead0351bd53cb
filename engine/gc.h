/*
 * gc.h — `pipec cache gc`: remove what no kept run needs.
 *
 * What is kept is store_live_objects()'s policy (store.h): the outputs of
 * the newest N runs, of the newest run of every pipeline and of every
 * labeled snapshot, of running runs, and the newest successful outputs of
 * every node of each pipeline's newest configuration. Every other object
 * is removed (its cache entries first), and so are the logs of the node
 * runs that policy does not keep, the scratch directories of runs that are
 * over, and temporary files left by crashed writers.
 *
 * gc refuses while a run is going (that run may have stored objects it
 * has not recorded yet) and holds the database's write lock while it
 * works, so no run starts meanwhile.
 */
#ifndef PIPEC_GC_H
#define PIPEC_GC_H

#include <stdint.h>

#include "store.h"
#include "workspace.h"

typedef struct gc_report {
  uint32_t removed, kept;        /* objects */
  uint64_t freed_bytes, kept_bytes;
  uint32_t logs_removed;         /* log files */
  uint64_t log_bytes;
  int64_t running;               /* the run that is going, if gc refused */
} gc_report;

/* Collect. 0; -EBUSY if a run is going (rep->running is it; err says so);
 * another negative errno with err. */
int gc_collect(ws *w, store *st, uint32_t keep_runs, gc_report *rep,
               char *err, size_t errlen);

#endif

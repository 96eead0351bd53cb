/*
 * status.h — how a run shows progress (after ninja's StatusPrinter and
 * LinePrinter).
 *
 * On a terminal one live line is rewritten in place:
 *     [12/40] 3 running, 9 cached · feats (7.2s)
 * Elsewhere (a pipe, a CI log) every event is one plain line:
 *     [12/40] cached    load
 *     [13/40] started   feats on cluster (job 8812)
 * With --json every event is one JSON object per line.
 * Failures are always printed as full lines, with the log's last lines.
 */
#ifndef PIPEC_STATUS_H
#define PIPEC_STATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pipec/engine.h"

typedef enum status_mode {
  STATUS_LINES,  /* one plain line per event */
  STATUS_LIVE,   /* one live line on a terminal */
  STATUS_JSON,   /* JSON lines */
  STATUS_QUIET,  /* nothing but failures and the summary */
} status_mode;

typedef struct status_printer {
  FILE *out;
  status_mode mode;
  uint32_t total;     /* nodes in the plan */
  uint32_t done;      /* settled so far */
  uint32_t running;
  uint32_t cached;
  uint32_t failed;
  const char *last;   /* name of the most recently started node */
  double last_start;  /* its start time (seconds, monotonic) */
  bool line_dirty;    /* the live line holds text */
  int width;          /* terminal width */
  uint32_t results;   /* final outputs listed so far */
  uint32_t published; /* files written by publish */
  const char *family; /* the family of the last node started or settled */
  uint32_t family_done, family_total;
  uint32_t published_same;  /* published outputs already in place */
  struct status_fam *fams;  /* a dry run's large families, counted */
  uint32_t n_fams;
} status_printer;

/* mode: pick STATUS_LIVE when out is a terminal unless json/quiet. */
void status_init(status_printer *s, FILE *out, status_mode mode,
                 uint32_t total);
void status_started(status_printer *s, const char *node, const char *target,
                    const char *job_id, int attempt);
void status_settled(status_printer *s, const char *node, const char *status,
                    const char *detail, double seconds);
/* An attempt failed and the node will be tried again. */
void status_retrying(status_printer *s, const char *node, int attempt,
                     const char *detail);
/* Print the tail of a failed node's log below its failure line. */
void status_log_tail(status_printer *s, const char *log_path, int lines);
/* Redraw the live line (called on a timer so elapsed time moves). */
void status_tick(status_printer *s);
/* Clear the live line before other output. */
void status_clear(status_printer *s);
void status_summary(status_printer *s, uint32_t ran, uint32_t cached,
                    uint32_t failed, uint32_t skipped, uint32_t cancelled,
                    double wall_s, int64_t run_id);

/* Monotonic seconds. */
double status_now(void);

/* Show one event of a run (pipec/engine.h): the pipec_event_fn for
 * pipec_run, ctx a status_printer set up with status_init (its total is
 * taken from the run's start). A dry run lists a family of more than
 * STATUS_FAMILY_ROWS members as one line of counts (members that would
 * fail still one by one), as `pipec show` does. */
#define STATUS_FAMILY_ROWS 10
void status_event(void *ctx, const pipec_event *ev);

#endif

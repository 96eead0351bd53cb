/*
 * fake_target.h — fake target kinds for tests, driven by a script.
 *
 * Two kinds, registered by a test through the same table as the real ones
 * (tgt_kinds_add, and tgt_kinds_schema for the compiler): adding them
 * touched only tests/fake_target.c and the test's own table.
 *
 *   fake         counts against -j (this machine's work, like local)
 *   fake_remote  bounded by its slots only (default 4, like ssh)
 *
 * Both take the quota options and `script`, a list of steps:
 *
 *   target f = fake { script = ["a 10 ok", "b 5 exit 3", "b 5 ok"] }
 *
 * "NODE MS RESULT": the next attempt of NODE ends after MS milliseconds
 * of the loop's real timers with RESULT: `ok` (exit 0), `exit N`,
 * `signal N`, `fail WORDS` (exit 1 with WORDS as the message), `hang`
 * (runs until cancelled), `oom` (killed for memory: SIGKILL, out_of_memory,
 * its peak the memory it asked for) or `emfile` (submit fails with
 * -EMFILE, as when the process is out of file descriptors; MS is
 * ignored). A node's steps
 * are used in order, the last one again for later attempts; a node with
 * none ends at once with exit 0.
 *
 * Each target keeps a trace of what happened, for the test to compare:
 * "start a, start b, end a, cancel b, end b".
 */
#ifndef PIPEC_FAKE_TARGET_H
#define PIPEC_FAKE_TARGET_H

#include <stdint.h>

#include "target.h"

extern const tgt_kind fake_kind, fake_remote_kind;

/* The trace of t: its events, ", "-separated (never NULL). */
const char *fake_trace(const tgt *t);
/* Most jobs of t running at once, and most cpus they held together. */
int fake_max_running(const tgt *t);
int64_t fake_max_cpus(const tgt *t);
/* The loop time (ms) of the nth (from 0) event `what NODE`, or -1. */
int64_t fake_event_time(const tgt *t, const char *what, const char *node,
                        int nth);

#endif

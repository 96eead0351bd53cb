/*
 * qgroup.h — quota groups shared by every run of a workspace: what the
 * running nodes of all live pipec processes hold of each group (pipec_quota
 * in the IR), so that concurrent runs never exceed a group together.
 *
 * The state is a directory of small files (.pipec/quota/), changed only
 * under a lock file taken without waiting, so nothing here ever blocks the
 * caller's loop:
 *
 *   quota/lock         flock'd (LOCK_EX|LOCK_NB) around each take: read
 *                      the shares, decide, write one
 *   quota/holders/H    one per process using groups, flock'd LOCK_EX for
 *                      its whole life (H: "PID-RANDOM"). The kernel drops
 *                      the lock when the process dies, kill -9 included:
 *                      a holder file that can be locked is a dead one
 *   quota/shares/H.N   one per node of holder H that holds ("hold") or
 *                      waits for ("wait") a share: the group, the amounts,
 *                      when it began waiting, what it is ("run 12 node x").
 *                      Written to a temporary name and renamed into place
 *
 * A share of a dead holder counts for nothing; whoever scans next removes
 * it with the holder's file. Waiters are served first come, first served
 * across the workspace: a take succeeds only if the request fits beside
 * the live holds and no live waiter of the group began waiting earlier,
 * so a big request is never starved by small ones.
 *
 * Amounts: cpus (a node that names none counts 1), memory (bytes), gpus
 * (a count) and jobs (1 per node), against the group's limits (-1: none).
 */
#ifndef PIPEC_QGROUP_H
#define PIPEC_QGROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "pipec/ir.h"

typedef struct qgroup_set qgroup_set;
typedef struct qgroup_share qgroup_share;

/* Join the groups of the workspace whose state is in dir (made if
 * needed). label says who this is in shares ("run 12"). 0, or a negative
 * errno with err. */
int qgroup_open(const char *dir, const char *label, qgroup_set **out,
                char *err, size_t errlen);
/* Give back every share still held or waited for, and leave. NULL: no-op. */
void qgroup_close(qgroup_set *s);

enum { QGROUP_TAKEN = 1, QGROUP_WAIT = 0 };

/* Take r from group g for `what` (a node's name). *sh is NULL on the
 * first call, and the same share on the calls that follow (a waiter keeps
 * its place in the queue). QGROUP_TAKEN: *sh holds the share (give it
 * back with qgroup_give); QGROUP_WAIT: not now (the group is full, an
 * earlier waiter comes first, or another process is taking a share):
 * call again later. Negative errno with err when the state cannot be
 * read or written (then *sh may still be set: give it back). */
int qgroup_take(qgroup_set *s, const pipec_quota *g, const pipec_resources *r,
                const char *what, qgroup_share **sh, char *err,
                size_t errlen);
/* Stop waiting but keep the share object (its place in the queue is
 * lost): for a waiter that cannot run now for another reason. */
void qgroup_withdraw(qgroup_set *s, qgroup_share *sh);
/* Give back a share held or waited for, and free it. NULL: no-op. */
void qgroup_give(qgroup_set *s, qgroup_share *sh);

/* What the live processes hold of group `name` now. */
typedef struct qgroup_use {
  int64_t cpus, memory, gpus, jobs;  /* held */
  uint32_t holders;                  /* processes holding some of it */
  uint32_t waiting;                  /* nodes waiting for a share */
} qgroup_use;

/* Read-only (nothing is removed): 0, or a negative errno with err. A
 * workspace whose dir does not exist uses nothing. */
int qgroup_usage(const char *dir, const char *name, qgroup_use *u, char *err,
                 size_t errlen);

#endif

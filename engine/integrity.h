/*
 * integrity.h — may a stored object be trusted, and what happens when it
 * may not. The glue between the object store (objstore.h), which lstat's
 * and re-hashes objects, and the database (store.h), which records each
 * object's stat as last known intact and the cache entries that name it.
 *
 * The rule, everywhere an object is about to be used (a cache hit, an
 * upstream input of a partial run, `pipec cat`): its stat must equal the
 * one recorded (device, inode, size, mtime, ctime: what git's index
 * compares); if it does not, it is re-hashed. Intact, the record is
 * refreshed. Damaged, it is removed and every cache entry naming it is
 * dropped (with `readers`, also every entry computed from it), so the
 * nodes that made it run again; it is never served.
 *
 * `pipec cache verify` is the deep check: it re-hashes everything whatever
 * the records say.
 *
 * Errors: 0 / a positive verdict / a negative errno, with a one-line
 * message in why or err.
 */
#ifndef PIPEC_INTEGRITY_H
#define PIPEC_INTEGRITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"
#include "objstore.h"
#include "store.h"

/* Check object h against recorded (NULL: no record; it is re-hashed).
 * Returns
 *   0        intact; *now (may be NULL) is its stat, *rehashed (may be
 *            NULL) whether it had to be read (then the record is
 *            refreshed);
 *   1        damaged (bytes that do not match its name, a symlink or
 *            directory under its name): removed from the store,
 *            its cache entries dropped (with readers, also those computed
 *            from it); why says what was wrong;
 *   -ENOENT  missing: the entries naming it as an output are dropped;
 *   < 0      it cannot be read (why says why); nothing is changed. */
int integ_check(store *st, obj_store *objs, const hash128 *h,
                const hash_stat *recorded, bool readers, hash_stat *now,
                bool *rehashed, char *why, size_t whylen);

/* Object h was found damaged by the caller: remove it, drop the entries
 * naming it (and with readers those computed from it). */
void integ_discard(store *st, obj_store *objs, const hash128 *h,
                   bool readers);

/* What `cache verify` found. */
typedef struct integ_report {
  uint32_t checked;        /* objects re-hashed intact */
  uint32_t damaged;        /* bytes that do not match the name */
  uint32_t odd;            /* symlinks, directories... under an object name */
  uint32_t missing;        /* named by a cache entry, not in the store */
  uint32_t unreadable;     /* could not be read (left alone) */
  uint32_t dropped;        /* cache entries dropped because of the above */
} integ_report;

/* Called for each problem: kind is "damaged", "not a file", "missing" or
 * "unreadable"; msg the details. */
typedef void (*integ_problem_fn)(void *ctx, const char *kind,
                                 const hash128 *h, const char *msg);

/* Re-hash every object in the store (refreshing the records of intact
 * ones); remove the damaged ones and whatever is not a regular file under
 * an object's name, dropping every cache entry that names them or was
 * computed from them; find the objects the cache names that are missing
 * and drop their entries. 0 (problems or not: see rep), or a negative
 * errno with err if the store cannot be read. */
int integ_verify(store *st, obj_store *objs, integ_problem_fn fn, void *ctx,
                 integ_report *rep, char *err, size_t errlen);

#endif

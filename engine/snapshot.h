/*
 * snapshot.h — snapshots as users see them: what a run records besides
 * its draft (the bytes of its code files, the hashes of its data files),
 * recompiled from their stored files (`pipec diff`), compared, and
 * restored (`pipec rollback`).
 */
#ifndef PIPEC_SNAPSHOT_H
#define PIPEC_SNAPSHOT_H

#include <stdbool.h>
#include <stdio.h>

#include "hash.h"
#include "objstore.h"
#include "pipec/compiler.h"
#include "store.h"
#include "workspace.h"

/* The code and data files of p for its snapshot: every file of every
 * component's `code` (a directory: each file under it) with its bytes put
 * into objs, and every file or directory a `path` param names with its
 * content (tree) hash, both hashed through memo as the cache keys are.
 * dir is the pipeline's directory (absolute), which those paths are
 * relative to. Missing files are left out (their nodes fail on them).
 * *out is malloc'd (store_snap_files_free). 0, or -1 with err (e.g. the
 * disk is full). */
int snap_collect_files(const char *root, store *st, obj_store *objs,
                       hash_memo *memo,
                       const pipec_pipeline *p, const char *dir,
                       store_snap_file **out, uint32_t *n, char *err,
                       size_t errlen);

/* Compile snapshot id from its stored files and recorded -p overrides,
 * exactly as it ran. Its paths are relative to root, the workspace root
 * (NULL: the current directory), where globs and source files are looked
 * up on disk. Nodes draw from the quota groups of quota_text (the
 * workspace's quota file as it is now, named quota_path; NULL: none).
 * NULL with err filled (or diagnostics in d). */
pipec_pipeline *snap_compile(store *st, int64_t id, const char *root,
                             const pipec_registry *registry,
                             const char *quota_path, const char *quota_text,
                             size_t quota_len, pipec_diags *d, char *err,
                             size_t errlen);

/* Print what changed from snapshot id_a (compiled: a) to id_b (b): params
 * (old -> new), nodes added and removed, wiring, targets, settings, .pipe
 * files (with a unified diff), -p overrides, code files (hashes and a
 * unified diff of text) and data files (hashes). Returns the number of
 * differences, or -1 with err. */
int snap_diff(ws *w, store *st, int64_t id_a, int64_t id_b,
              const pipec_pipeline *a, const pipec_pipeline *b, FILE *out,
              char *err, size_t errlen);

/* Restore snapshot id's .pipe and code files into the workspace, byte for
 * byte, after recording the files as they are now as a new snapshot (so
 * the rollback can be undone; its id goes to *saved). Nothing is written
 * through a symbolic link that leads out of the project (the rollback is
 * refused first). flags: SNAP_*. Returns the number of files written (or
 * that would be), or -1 with err filled. */
enum {
  SNAP_DRY_RUN = 1u << 0,      /* print what would change; write nothing */
  SNAP_DATA = 1u << 1,         /* also the data files (path params,
                                  sources) the snapshot read, from the
                                  store; a directory's files are restored,
                                  files added since are left */
};
int snap_rollback(ws *w, store *st, int64_t id, unsigned flags, FILE *out,
                  int64_t *saved, char *err, size_t errlen);

/* Remove the temporary files of rollbacks that were killed while writing
 * (their process is gone). Every command that opens the store calls it. */
void snap_clean_rollbacks(store *st);

#endif

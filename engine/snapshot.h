/*
 * snapshot.h — snapshots as users see them: recompiled from their stored
 * files (`pipec diff`), compared, and restored (`pipec rollback`).
 */
#ifndef PIPEC_SNAPSHOT_H
#define PIPEC_SNAPSHOT_H

#include <stdbool.h>
#include <stdio.h>

#include "pipec/compiler.h"
#include "store.h"
#include "workspace.h"

/* Compile snapshot id from its stored files and recorded -p overrides,
 * exactly as it ran. Its paths are relative to root, the workspace root
 * (NULL: the current directory), where globs and source files are looked
 * up on disk. NULL with err filled (or diagnostics in d). */
pipec_pipeline *snap_compile(store *st, int64_t id, const char *root,
                             const pipec_registry *registry, pipec_diags *d,
                             char *err, size_t errlen);

/* Print what changed from a to b: nodes added and removed, params (old ->
 * new), wiring, targets, settings, source files. Returns the number of
 * differences. */
int snap_diff(const pipec_pipeline *a, const pipec_pipeline *b, FILE *out);

/* Restore snapshot id's files into the workspace, byte for byte, after
 * recording the files as they are now as a new snapshot (so the rollback
 * can be undone; its id goes to *saved). With dry_run, only print what
 * would change. Returns the number of files written (or that would be), or
 * -1 with err filled. */
int snap_rollback(ws *w, store *st, int64_t id, bool dry_run, FILE *out,
                  int64_t *saved, char *err, size_t errlen);

/* The -p overrides recorded in a snapshot's params, as "-p a=1 -p b=2"
 * (malloc'd; "" if none). */
char *snap_overrides_text(const char *params_json);

#endif

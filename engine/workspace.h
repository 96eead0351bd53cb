/*
 * workspace.h — the `.pipec/` directory of a project: where the database,
 * the object store, scratch directories and logs live.
 *
 * Found in the current directory or the nearest parent that has one, or at
 * $PIPEC_HOME if set; created in the current directory on first run.
 *
 *   .pipec/pipec.db     the store (store.h): pipelines, drafts, snapshots,
 *                       runs, node runs, cache entries, artifacts
 *   .pipec/objects/     content-addressed outputs (objstore.h), read-only
 *   .pipec/runs/R/N/    scratch directory of node N in run R (outputs are
 *                       written here, then moved into objects/)
 *   .pipec/logs/R/N.log stdout and stderr of node N in run R
 */
#ifndef PIPEC_WORKSPACE_H
#define PIPEC_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ws ws;

/* Find the workspace from start_dir (NULL: the current directory) upwards;
 * with create, make one in start_dir if none is found. 0, or -1 with err
 * ("no .pipec workspace here or in a parent directory; run a pipeline
 * first"). */
int ws_open(const char *start_dir, bool create, ws **out, char *err,
            size_t errlen);
void ws_close(ws *w);

const char *ws_root(const ws *w);         /* the project: .pipec's parent */
const char *ws_dir(const ws *w);          /* .../.pipec */
const char *ws_db_path(const ws *w);
const char *ws_objects_dir(const ws *w);
const char *ws_runs_dir(const ws *w);
const char *ws_logs_dir(const ws *w);

#endif

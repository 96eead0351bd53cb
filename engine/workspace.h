/*
 * workspace.h — the `.pipec/` directory of a project: where the database,
 * the object store, scratch directories and logs live.
 *
 * Which one a command uses (ws_find): $PIPEC_HOME if set (an explicit
 * choice, as GIT_DIR is for git); else the nearest `.pipec` at or above the
 * pipeline file's directory, so `pipec run etl/etl.pipe` from the parent
 * uses etl/.pipec; else the nearest at or above the current directory.
 * `pipec run` creates one when none is found, in the pipeline's project
 * (projpath.h) — never in whatever directory the command was typed in.
 *
 *   .pipec/pipec.db     the store (store.h): pipelines, drafts, snapshots,
 *                       runs, node runs, cache entries, artifacts
 *   .pipec/objects/     content-addressed outputs (objstore.h), read-only
 *   .pipec/runs/R/N/    scratch directory of node N in run R (outputs are
 *                       written here, then moved into objects/)
 *   .pipec/logs/R/N.log stdout and stderr of node N in run R
 *   .pipec/quotas.pipe  the workspace's quota groups, written by the user
 *                       (docs/targets.md); read by every compile
 *   .pipec/quota/       what live runs draw from those groups (qgroup.h)
 */
#ifndef PIPEC_WORKSPACE_H
#define PIPEC_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ws ws;

/* The workspace of a command on pipeline file `file` (NULL: a command
 * without one, which searches from the current directory only), found as
 * above. With create, one is made if none is found (*created, if not
 * NULL, says whether it was): in the project of `file`, else in the
 * current directory. 0, or -1 with err ("no .pipec workspace ..."). */
int ws_find(const char *file, bool create, ws **out, bool *created,
            char *err, size_t errlen);

/* $PIPEC_HOME, else the nearest `.pipec` from start_dir (NULL: the current
 * directory) upwards; with create, a new one in start_dir if none is
 * found. 0, or -1 with err. */
int ws_open(const char *start_dir, bool create, ws **out, char *err,
            size_t errlen);
void ws_close(ws *w);

const char *ws_root(const ws *w);         /* the project: .pipec's parent */
const char *ws_dir(const ws *w);          /* .../.pipec */
const char *ws_db_path(const ws *w);
const char *ws_objects_dir(const ws *w);
const char *ws_runs_dir(const ws *w);
const char *ws_logs_dir(const ws *w);
/* .pipec/quotas.pipe (it may not exist) and .pipec/quota/ (made on
 * demand by qgroup.h); malloc'd. */
char *ws_quota_file(const ws *w);
char *ws_quota_dir(const ws *w);

/* The workspace lock (.pipec/lock, flock): every run holds it shared for
 * its whole life; `cache gc` takes it exclusive, so it never removes an
 * object while a run may be about to use it, and no run starts while gc
 * removes objects. With wait, a shared lock waits for gc (announce, if
 * not NULL, is called once when the wait is long); without, -EWOULDBLOCK
 * when another holds it. 0 and *fd (close it to release), or a negative
 * errno with err. */
int ws_lock(const ws *w, bool exclusive, bool wait, void (*announce)(void),
            int *fd, char *err, size_t errlen);

#endif
